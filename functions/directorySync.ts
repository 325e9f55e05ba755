import azureFunctions from '@azure/functions';
import { loadSettings } from '../src/config/index.js';
import { runScheduledDirectorySync } from '../src/content/graph/index.js';

const { app } = azureFunctions;

/**
 * Every 5 minutes: refresh from Entra ID each tenant whose own `directory.everyMinutes` has passed
 * (or, without per-tenant directories, the one users.json). Per-tenant results are in `.sync/status/`.
 */
app.timer('directorySync', {
  schedule: '0 */5 * * * *',
  handler: async (_timer, context) => {
    const result = await runScheduledDirectorySync(loadSettings(), process.env);
    if (!result) context.log('directory sync disabled (set SIGRELAY_DIRECTORY_SOURCE=graph to enable)');
    else if (result.kind === 'single') context.log('directory sync', JSON.stringify(result.result));
    else
      for (const { tenant, status, ran } of result.outcomes.filter((o) => o.ran)) {
        const line = JSON.stringify({ tenant, users: status.users, error: status.lastError, ran });
        if (status.lastError) context.warn('directory sync failed', line);
        else context.log('directory sync', line);
      }
  },
});
