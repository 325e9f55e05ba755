import azureFunctions from '@azure/functions';
import * as df from 'durable-functions';
import { decodeClaimCheck } from '../src/contracts/index.js';
import { describeError } from '../src/errors/index.js';
import { startProcessing } from '../src/orchestration/index.js';
import { DirectPath } from '../src/message/index.js';
import { runtimeFromEnv } from '../src/processing/index.js';

const { app } = azureFunctions;

/**
 * Queue trigger on `inbound`: one claim-check → the direct path (sign, deliver, delete). Only what
 * it cannot finish starts an orchestration (instance id = message id). An undecodable claim-check
 * fails until the host moves it to the poison queue; the sweeper still finds the message itself.
 */
app.storageQueue('inboundQueue', {
  queueName: 'inbound',
  connection: 'AzureWebJobsStorage',
  extraInputs: [df.input.durableClient()],
  handler: async (message, context) => {
    const rt = runtimeFromEnv();
    const log = rt.logger.child({ fn: 'inboundQueue', invocation: context.invocationId });
    let claim;
    try {
      claim = decodeClaimCheck(message);
    } catch (err) {
      log.error({ err: describeError(err) }, 'undecodable claim-check');
      throw err;
    }
    const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
    const result = await new DirectPath(rt).handle(claim, { dequeueCount }, (input, options) =>
      startProcessing(df.getClient(context), input, options),
    );
    log.info({ messageId: claim.id, ...result }, 'claim-check handled');
  },
});
