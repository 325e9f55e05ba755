import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import type { DeliverResult, SignOutcome } from './activities.js';

export const activityNames = {
  sign: 'signMessage',
  deliver: 'deliverMessage',
  delete: 'deleteMessage',
  deadLetter: 'deadLetterMessage',
} as const;

export const orchestratorName = 'processMessage';

/** What the orchestration returns: visible in its status, never message content. */
export interface ProcessResult {
  id: string;
  outcome: 'delivered' | 'partial' | 'dead-lettered' | 'missing';
  signing?: { action?: string; reason?: string; template?: string };
  response?: string;
}

/** Signing retries are quick: they only cover storage hiccups; the engine itself fails open. */
function signRetry(): df.RetryOptions {
  const options = new df.RetryOptions(1000, 5);
  options.backoffCoefficient = 2;
  return options;
}

/** Delivery backs off exponentially (default 30 s doubling to 1 h) until the tenant's give-up time. */
function deliveryRetry(policy: SignOutcome['policy']): df.RetryOptions {
  const retry = policy?.retry ?? { firstIntervalSeconds: 30, maxIntervalSeconds: 3600, giveUpAfterHours: 48 };
  const options = new df.RetryOptions(Math.max(1, Math.round(retry.firstIntervalSeconds * 1000)), 10_000);
  options.backoffCoefficient = 2;
  options.maxRetryIntervalInMilliseconds = Math.round(retry.maxIntervalSeconds * 1000);
  options.retryTimeoutInMilliseconds = Math.round(retry.giveUpAfterHours * 3600 * 1000);
  return options;
}

/**
 * One orchestration per message (instance id = message id): sign → deliver → delete. The stored
 * copies are deleted only after the endpoint accepted every recipient, or after the message was
 * moved to the dead-letter container; nothing here ever drops a message.
 */
export const processMessageOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const { id } = context.df.getInput<{ id: string }>();
  let signed: SignOutcome;
  try {
    signed = (yield context.df.callActivityWithRetry(activityNames.sign, signRetry(), { id })) as SignOutcome;
  } catch (err) {
    // Storage kept failing while signing: deliver the original (fail-open); delivery retries for days.
    signed = {
      id,
      found: true,
      useSigned: false,
      action: 'failed',
      reason: `sign-activity: ${message(err)}`,
    };
  }
  if (!signed.found) return { id, outcome: 'missing' } satisfies ProcessResult;
  const signing = { action: signed.action, reason: signed.reason, template: signed.template };
  const result = signed.useSigned ? undefined : `unsigned; reason=${signed.reason ?? 'unknown'}`;
  let delivery: DeliverResult;
  try {
    delivery = (yield context.df.callActivityWithRetry(activityNames.deliver, deliveryRetry(signed.policy), {
      id,
      useSigned: signed.useSigned,
      ...(result === undefined ? {} : { result }),
    })) as DeliverResult;
  } catch (err) {
    const reason = `delivery gave up: ${message(err)}`;
    yield context.df.callActivity(activityNames.deadLetter, { id, reason, history: { signing } });
    return { id, outcome: 'dead-lettered', signing, response: reason } satisfies ProcessResult;
  }
  if (delivery.status === 'permanent') {
    const reason = `refused by the endpoint: ${delivery.response}`;
    yield context.df.callActivity(activityNames.deadLetter, { id, reason, history: { signing, delivery } });
    return { id, outcome: 'dead-lettered', signing, response: delivery.response } satisfies ProcessResult;
  }
  yield context.df.callActivity(activityNames.delete, {
    id,
    signed: signed.useSigned,
    envelopeBlob: signed.envelopeBlob,
  });
  return {
    id,
    outcome: delivery.status === 'partial' ? 'partial' : 'delivered',
    signing,
    response: delivery.response,
  } satisfies ProcessResult;
};

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
