import azureFunctions from '@azure/functions';
import * as df from 'durable-functions';
import { runtime, startProcessing } from '../src/orchestration/index.js';

const { app } = azureFunctions;

/**
 * Blob trigger on `inbound/{name}`: the safety net for a message whose queue entry was lost. It
 * starts the same orchestration as the queue trigger; the start is idempotent.
 */
app.storageBlob('inboundBlob', {
  path: 'inbound/{name}',
  connection: 'AzureWebJobsStorage',
  // Flex Consumption only runs Event Grid-based blob triggers (see docs/deploy.md for the subscription).
  source: 'EventGrid',
  extraInputs: [df.input.durableClient()],
  handler: async (_blob, context) => {
    const name = context.triggerMetadata?.name;
    const id = typeof name === 'string' ? name : '';
    if (!/^[A-Za-z0-9-]{8,80}$/.test(id)) return;
    const result = await startProcessing(df.getClient(context), id);
    runtime().logger.info({ fn: 'inboundBlob', messageId: id, result }, 'blob trigger handled');
  },
});
