import azureFunctions from '@azure/functions';
import * as df from 'durable-functions';
import { purgeHistory, sweep, sweepOptionsFromEnv } from '../src/orchestration/index.js';
import { runtimeFromEnv } from '../src/processing/index.js';

const { app } = azureFunctions;

/** Every minute: restart orphaned messages in `inbound`, apply trace retention. */
app.timer('sweeper', {
  schedule: process.env.SIGRELAY_SWEEP_SCHEDULE ?? '0 */1 * * * *',
  extraInputs: [df.input.durableClient()],
  handler: async (_timer, context) => {
    await sweep(runtimeFromEnv(), df.getClient(context), sweepOptionsFromEnv());
  },
});

/** Daily: purge the history of finished orchestrations older than the retention. */
app.timer('purgeHistory', {
  schedule: process.env.SIGRELAY_PURGE_SCHEDULE ?? '0 30 3 * * *',
  extraInputs: [df.input.durableClient()],
  handler: async (_timer, context) => {
    await purgeHistory(runtimeFromEnv(), df.getClient(context), sweepOptionsFromEnv());
  },
});
