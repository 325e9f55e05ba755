import azureFunctions from '@azure/functions';
import * as df from 'durable-functions';
import { sweep, sweepOptionsFromEnv } from '../src/orchestration/index.js';

const { app } = azureFunctions;

/** Every minute: restart orphaned messages in `inbound`, apply trace retention. */
app.timer('sweeper', {
  schedule: process.env.SIGRELAY_SWEEP_SCHEDULE ?? '0 */1 * * * *',
  extraInputs: [df.input.durableClient()],
  handler: async (_timer, context) => {
    await sweep(df.getClient(context), sweepOptionsFromEnv());
  },
});
