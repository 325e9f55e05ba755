import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import {
  activityNames,
  type DeleteInput,
  type DeliverResult,
  type FailurePolicy,
  type ProcessInput,
  type ProcessResult,
  type SignActivityResult,
} from '../contracts/index.js';
import { describeError } from '../errors/index.js';
import { mayDeliverUnsigned } from '../message/index.js';
import { isDeadlock, isOverBudget } from '../processing/index.js';

const defaultRetry: FailurePolicy['retry'] = {
  firstIntervalSeconds: 30,
  maxIntervalSeconds: 3600,
  giveUpAfterHours: 48,
};

/**
 * The one recipe for Durable retries: exponential from `firstMs`, capped, bounded by the attempt
 * count only. No `retryTimeoutInMilliseconds`: when a failure comes after that timeout, DurableTask's
 * RetryInterceptor schedules no timer and durable-functions 3.x waits for one for ever
 * (Azure/azure-functions-durable-js#629), so the message would stay "Running" with no DSN.
 */
export function retryOptions(
  firstMs: number,
  attempts: number,
  limits: { capMs?: number } = {},
): df.RetryOptions {
  const options = new df.RetryOptions(Math.max(1, Math.round(firstMs)), attempts);
  options.backoffCoefficient = 2;
  if (limits.capMs !== undefined) options.maxRetryIntervalInMilliseconds = Math.round(limits.capMs);
  return options;
}

/** Signing retries are quick: they only cover storage hiccups; the engine itself reports failures. */
const signRetry = () => retryOptions(1000, 5);

/**
 * Delivery backs off exponentially (default 30 s doubling to 1 h) until the tenant's give-up time.
 * The attempt count is derived from that time so that both limits agree.
 */
export function deliveryRetry(policy: FailurePolicy | undefined): df.RetryOptions {
  const retry = policy?.retry ?? defaultRetry;
  const first = Math.max(1, Math.round(retry.firstIntervalSeconds * 1000));
  const cap = Math.max(first, Math.round(retry.maxIntervalSeconds * 1000));
  const giveUp = Math.round(retry.giveUpAfterHours * 3600 * 1000);
  let attempts = 1;
  for (let waited = 0, wait = first; waited < giveUp && attempts < 10_000; attempts++) {
    waited += wait;
    wait = Math.min(wait * 2, cap);
  }
  // The give-up time is kept by the attempt count alone (see retryOptions).
  return retryOptions(first, attempts, { capMs: cap });
}

/**
 * A signing the pool stopped: over its budget (it would cost as much the next time) or deadlocked
 * (the engine's fault for this message). Signing it again would only hold a worker once more.
 */
function stoppedByThePool(reason: string | undefined): boolean {
  return isOverBudget(reason) || isDeadlock(reason);
}

/** The direct path's signing decision when the pool stopped it, for a tenant that may not go unsigned. */
function stoppedOnDirectPath(input: ProcessInput): SignActivityResult | undefined {
  const first = input.firstAttempt?.signing;
  if (input.reason !== 'sign-failed' || !first || !stoppedByThePool(first.reason)) return undefined;
  if (mayDeliverUnsigned(input.policy)) return undefined;
  return { id: input.id, found: true, useSigned: false, signing: first, sender: input.sender };
}

function* signActivity(
  context: OrchestrationContext,
  input: ProcessInput,
): Generator<df.Task, SignActivityResult, unknown> {
  try {
    return (yield context.df.callActivityWithRetry(activityNames.sign, signRetry(), {
      id: input.id,
      traced: input.reason !== 'orphan' && input.reason !== 'redelivered',
    })) as SignActivityResult;
  } catch (err) {
    // Storage kept failing while signing: the message stays; whether it may go out unsigned is
    // the tenant's call, and an unknown policy counts as fail-closed.
    return {
      id: input.id,
      found: true,
      useSigned: false,
      signing: { action: 'failed', reason: `sign-activity: ${describeError(err)}` },
    };
  }
}

/** How often a message whose signing failed is signed again before it is dead-lettered. */
const failClosedAttempts = 5;

/**
 * The orchestration for a message the direct path could not finish (instance id = message id):
 * sign → deliver → delete, with retries on durable timers, DSNs and dead-lettering. The stored
 * copies are deleted only after the endpoint accepted every recipient, or after the message was
 * moved to the dead-letter container; nothing here ever drops a message. A message is delivered
 * unsigned only for a tenant known to be fail-open.
 */
export const processMessageOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<ProcessInput>();
  const { id } = input;
  let policy = input.policy;
  // A message over the signing budget costs as much the next time, and one the engine deadlocked on
  // is the engine's failure: signing it again (five times, for a fail-closed tenant) would only
  // burn a worker each time. What the direct path found stands.
  let signed = stoppedOnDirectPath(input);
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0 || !signed) signed = yield* signActivity(context, input);
    policy ??= signed.policy;
    if (!signed.found) return { id, outcome: 'missing' } satisfies ProcessResult;
    if (signed.signing?.action !== 'failed' || mayDeliverUnsigned(policy)) break;
    if (attempt + 1 >= failClosedAttempts || stoppedByThePool(signed.signing.reason)) {
      const reason = `signing failed and the message may not go out unsigned: ${signed.signing.reason}`;
      yield context.df.callActivity(activityNames.deadLetter, {
        id,
        reason,
        history: { signing: signed.signing, firstAttempt: input.firstAttempt },
        sender: signed.sender ?? input.sender,
      });
      return {
        id,
        outcome: 'dead-lettered',
        signing: signed.signing,
        response: reason,
      } satisfies ProcessResult;
    }
    const retry = policy?.retry ?? defaultRetry;
    const wait = Math.min(retry.firstIntervalSeconds * 2 ** attempt, retry.maxIntervalSeconds) * 1000;
    yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + wait));
  }
  const signing = signed.signing ?? { action: 'skipped' as const, reason: 'unknown' };
  const sender = signed.sender ?? input.sender;
  let delivery: DeliverResult;
  try {
    delivery = (yield context.df.callActivityWithRetry(activityNames.deliver, deliveryRetry(policy), {
      id,
      signing,
      ...(input.firstAttempt?.delivery ? { firstAttempt: input.firstAttempt.delivery } : {}),
    })) as DeliverResult;
  } catch (err) {
    const reason = `delivery gave up: ${describeError(err)}`;
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
    ...(signed.useSigned && signed.tenantId ? { tenantId: signed.tenantId } : {}),
    ...(signed.useSigned && signed.internetMessageId ? { internetMessageId: signed.internetMessageId } : {}),
  } satisfies DeleteInput);
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
  policy: FailurePolicy | undefined,
  final: boolean,
  reason: string,
): Generator<df.Task, void, unknown> {
  if ((policy?.permanentFailure ?? 'dsn') !== 'dsn') return;
  const retry = retryOptions(Math.max(1000, (policy?.retry.firstIntervalSeconds ?? 30) * 1000), 5);
  try {
    yield context.df.callActivityWithRetry(activityNames.notify, retry, { id, final, reason });
  } catch {
    // Logged by the activity; the message itself is dead-lettered or delivered regardless.
  }
}
