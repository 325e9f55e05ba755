import azureFunctions from '@azure/functions';
import { loadSettings } from '../src/config/index.js';
import { createLogger } from '../src/log/index.js';
import { sentItemsWorkerFromSettings, type SentItemsWorker } from '../src/sentitems/index.js';
import { names } from '../src/storage/index.js';

const { app } = azureFunctions;

let worker: SentItemsWorker | undefined;

/** Queue trigger on `sentitems`: replace one sender's Sent Items copy with the signed message. */
app.storageQueue('sentItems', {
  queueName: names.sentItemsQueue,
  connection: 'AzureWebJobsStorage',
  handler: async (message, context) => {
    worker ??= sentItemsWorkerFromSettings(loadSettings(), process.env, createLogger('sentitems'));
    const outcome = await worker.handle(message);
    context.log('sent items', JSON.stringify({ invocation: context.invocationId, outcome }));
  },
});
