import azureFunctions from '@azure/functions';
import { loadSettings } from '../src/config/index.js';
import { runScheduledDirectorySync } from '../src/content/graph/index.js';

const { app } = azureFunctions;

/** Every 15 minutes: refresh users.json in the Blob `config` container from Entra ID (delta query). */
app.timer('directorySync', {
  schedule: '0 */15 * * * *',
  handler: async (_timer, context) => {
    const result = await runScheduledDirectorySync(loadSettings(), process.env);
    if (result) context.log('directory sync', JSON.stringify(result));
    else context.log('directory sync disabled (set SIGRELAY_DIRECTORY_SOURCE=graph to enable)');
  },
});
