import azureFunctions from '@azure/functions';
import * as df from 'durable-functions';
import { describeError } from '../src/errors/index.js';
import { runtime, startProcessing } from '../src/orchestration/index.js';
import { decodeClaimCheck } from '../src/storage/index.js';

const { app } = azureFunctions;

/**
 * Queue trigger on `inbound`: one claim-check → one orchestration (instance id = message id).
 * An undecodable claim-check is logged and dropped after the host's retries (poison queue); the
 * blob trigger and the sweeper still find the message itself, so nothing that exists is skipped.
 */
app.storageQueue('inboundQueue', {
  queueName: 'inbound',
  connection: 'AzureWebJobsStorage',
  extraInputs: [df.input.durableClient()],
  handler: async (message, context) => {
    const log = runtime().logger.child({ fn: 'inboundQueue', invocation: context.invocationId });
    let id: string;
    let replay = false;
    try {
      const claim = decodeClaimCheck(message);
      id = claim.id;
      replay = claim.replay === true;
    } catch (err) {
      log.error({ err: describeError(err) }, 'undecodable claim-check');
      throw err;
    }
    const result = await startProcessing(df.getClient(context), id, { force: replay });
    log.info({ messageId: id, result }, 'claim-check handled');
  },
});
