import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import type { DeliverResult, MessagePolicy, SignOutcome } from './activities.js';

export const activityNames = {
  sign: 'signMessage',
  deliver: 'deliverMessage',
  notify: 'notifySender',
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

const defaultRetry: MessagePolicy['retry'] = {
  firstIntervalSeconds: 30,
  maxIntervalSeconds: 3600,
  giveUpAfterHours: 48,
};

/** Signing retries are quick: they only cover storage hiccups; the engine itself reports failures. */
function signRetry(): df.RetryOptions {
  const options = new df.RetryOptions(1000, 5);
  options.backoffCoefficient = 2;
  return options;
}

/**
 * Delivery backs off exponentially (default 30 s doubling to 1 h) until the tenant's give-up time.
 * The attempt count is derived from that time so that both limits agree.
 */
export function deliveryRetry(policy: MessagePolicy | undefined): df.RetryOptions {
  const retry = policy?.retry ?? defaultRetry;
  const first = Math.max(1, Math.round(retry.firstIntervalSeconds * 1000));
  const cap = Math.max(first, Math.round(retry.maxIntervalSeconds * 1000));
  const giveUp = Math.round(retry.giveUpAfterHours * 3600 * 1000);
  let attempts = 1;
  for (let waited = 0, wait = first; waited < giveUp && attempts < 10_000; attempts++) {
    waited += wait;
    wait = Math.min(wait * 2, cap);
  }
  const options = new df.RetryOptions(first, attempts);
  options.backoffCoefficient = 2;
  options.maxRetryIntervalInMilliseconds = cap;
  options.retryTimeoutInMilliseconds = giveUp;
  return options;
}

/** How often a fail-closed tenant's message is signed again before it is dead-lettered. */
const failClosedAttempts = 5;

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
  const policy = signed.policy;
  const sender = signed.sender;

  if (signed.action === 'failed' && policy?.signingFailure === 'fail-closed') {
    // Fail-closed: never deliver unsigned. Try again later (durable timers), then give up.
    for (let attempt = 1; attempt <= failClosedAttempts && signed.action === 'failed'; attempt++) {
      const wait =
        Math.min(policy.retry.firstIntervalSeconds * 2 ** (attempt - 1), policy.retry.maxIntervalSeconds) *
        1000;
      yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + wait));
      signed = (yield context.df.callActivityWithRetry(activityNames.sign, signRetry(), {
        id,
      })) as SignOutcome;
    }
    if (signed.action === 'failed') {
      const reason = `signing failed and the tenant is fail-closed: ${signed.reason ?? 'unknown'}`;
      yield context.df.callActivity(activityNames.deadLetter, {
        id,
        reason,
        history: { signing: signed },
        sender,
      });
      return {
        id,
        outcome: 'dead-lettered',
        signing: summary(signed),
        response: reason,
      } satisfies ProcessResult;
    }
  }
  const signing = summary(signed);
  const result = signed.useSigned ? undefined : `unsigned; reason=${signed.reason ?? 'unknown'}`;
  let delivery: DeliverResult;
  try {
    delivery = (yield context.df.callActivityWithRetry(activityNames.deliver, deliveryRetry(policy), {
      id,
      useSigned: signed.useSigned,
      ...(result === undefined ? {} : { result }),
    })) as DeliverResult;
  } catch (err) {
    const reason = `delivery gave up: ${message(err)}`;
    yield* notify(context, id, policy, true, reason);
    yield context.df.callActivity(activityNames.deadLetter, { id, reason, history: { signing }, sender });
    return { id, outcome: 'dead-lettered', signing, response: reason } satisfies ProcessResult;
  }
  if (Object.keys(delivery.rejected).length > 0) {
    yield* notify(context, id, policy, false, delivery.response);
  }
  if (delivery.status === 'permanent') {
    const reason = `refused by the endpoint: ${delivery.response}`;
    yield context.df.callActivity(activityNames.deadLetter, {
      id,
      reason,
      history: { signing, delivery },
      sender,
    });
    return { id, outcome: 'dead-lettered', signing, response: delivery.response } satisfies ProcessResult;
  }
  yield context.df.callActivity(activityNames.delete, {
    id,
    signed: signed.useSigned,
    envelopeBlob: signed.envelopeBlob,
    sender,
  });
  return {
    id,
    outcome: delivery.status === 'partial' ? 'partial' : 'delivered',
    signing,
    response: delivery.response,
  } satisfies ProcessResult;
};

/** Sends the sender a DSN when the tenant wants one; a failing DSN never blocks the message's fate. */
function* notify(
  context: OrchestrationContext,
  id: string,
  policy: MessagePolicy | undefined,
  final: boolean,
  reason: string,
): Generator<df.Task, void, unknown> {
  if ((policy?.permanentFailure ?? 'dsn') !== 'dsn') return;
  const retry = new df.RetryOptions(Math.max(1000, (policy?.retry.firstIntervalSeconds ?? 30) * 1000), 5);
  retry.backoffCoefficient = 2;
  try {
    yield context.df.callActivityWithRetry(activityNames.notify, retry, { id, final, reason });
  } catch {
    // Logged by the activity; the message itself is dead-lettered or delivered regardless.
  }
}

function summary(signed: SignOutcome): { action?: string; reason?: string; template?: string } {
  return { action: signed.action, reason: signed.reason, template: signed.template };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
