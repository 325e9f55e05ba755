import type { Readable } from 'node:stream';
import type { Tenant } from '../config/index.js';
import type { DeliverInput, DeliverResult, DeliveryState, SigningResult } from '../contracts/index.js';
import { deliver, targetFor, type DeliveryOutcome } from '../delivery/index.js';
import type { Logger } from '../log/index.js';
import type { Runtime } from '../processing/runtime.js';
import type { MessageMeta } from '../storage/index.js';
import { sinceReceived, telemetry, type DeliveryPath } from '../telemetry/index.js';
import type { TraceEvent } from '../trace/index.js';
import { attemptEvent } from './events.js';
import type { Step } from './recorder.js';
import { returnHeaders } from './sign.js';

export interface AttemptRequest {
  id: string;
  tenant: Tenant;
  mailFrom: string;
  rcptTo: string[];
  signing: SigningResult;
  message: Readable | Buffer;
}

/**
 * One delivery attempt to the tenant's endpoint, with our return headers in front: the one place a
 * message is sent back, for the direct path and the orchestration alike.
 */
export async function deliverAttempt(
  rt: Runtime,
  request: AttemptRequest,
  log: Logger,
): Promise<Step<DeliveryOutcome>> {
  const target = targetFor(request.tenant, rt.settings);
  const endpoint = `${target.host}:${target.port}`;
  const started = Date.now();
  const outcome = await deliver(target, {
    mailFrom: request.mailFrom,
    rcptTo: request.rcptTo,
    prependHeaders: returnHeaders(request.id, request.signing, rt.settings.processedHeader),
    message: request.message,
  });
  log.info(attemptLog(endpoint, outcome, started), 'delivery attempt');
  return { outcome, events: [attemptEvent(endpoint, outcome)] };
}

/** The log record of one delivery attempt (no content: counts, codes and the endpoint's reply). */
function attemptLog(endpoint: string, outcome: DeliveryOutcome, startedAt: number) {
  return {
    endpoint,
    status: outcome.status,
    code: outcome.code,
    accepted: outcome.accepted.length,
    deferred: outcome.deferred.length,
    rejected: outcome.rejected.length,
    response: outcome.response,
    ms: Date.now() - startedAt,
  };
}

/** A message every owed recipient has: counted once (the delivered metric) and traced. */
export function markDelivered(
  meta: MessageMeta,
  path: DeliveryPath,
  reply: { response: string; recipients: number },
): TraceEvent {
  telemetry.delivered({ latencyMs: sinceReceived(meta.receivedAt), path, tenantId: meta.tenantId });
  return { event: 'delivered', ...reply };
}

/** What delivering to the recipients still owed gave: the summary, or why to try again later. */
export interface OwedOutcome {
  result: DeliverResult;
  /** Set while any recipient is deferred (or the tenant is unknown): try again later. */
  retry?: string;
}

export const emptyDeliveryState = (): DeliveryState => ({
  delivered: [],
  rejected: {},
  lastResponse: '',
  attempts: 0,
  updatedAt: new Date().toISOString(),
  notified: [],
});

/**
 * Delivers to the recipients not yet handled and records the delivery state durably before
 * returning, so a replay never resends to a recipient who has the message. While any recipient is
 * deferred the outcome carries `retry`, and only those are tried again.
 */
export async function deliverOwed(rt: Runtime, input: DeliverInput): Promise<Step<OwedOutcome>> {
  const log = rt.logger.child({ messageId: input.id, step: 'deliver' });
  const useSigned = input.signing.action === 'signed';
  const [opened, recorded] = await Promise.all([
    rt.store.openWithMeta(input.id, useSigned ? 'signed' : 'inbound'),
    rt.deliveryState.get(input.id),
  ]);
  let state = recorded ?? emptyDeliveryState();
  if (!recorded && input.firstAttempt) {
    // What the direct path achieved becomes the record before anything is sent: nobody who has
    // the message gets it again, and refused recipients are reported.
    state = {
      ...state,
      delivered: [...input.firstAttempt.delivered],
      rejected: { ...input.firstAttempt.rejected },
      lastResponse: input.firstAttempt.lastResponse,
      attempts: 1,
    };
    await rt.deliveryState.put(input.id, state);
  }
  if (!opened) {
    if (state.attempts > 0) return { outcome: { result: summarise(state) }, events: [] };
    throw new Error(`message ${input.id} is not in storage`);
  }
  const { stream: message, meta } = opened;
  const remaining = owed(meta.envelope.rcptTo, state);
  if (remaining.length === 0) {
    message.destroy();
    return { outcome: { result: summarise(state) }, events: [] };
  }
  let tenant;
  try {
    tenant = (await rt.content()).tenants.byTenantId(meta.tenantId);
  } catch (err) {
    message.destroy();
    throw err;
  }
  if (!tenant) {
    message.destroy();
    return {
      outcome: { result: summarise(state), retry: `tenant ${meta.tenantId} is not configured` },
      events: [],
    };
  }
  const { outcome, events } = await deliverAttempt(
    rt,
    {
      id: input.id,
      tenant,
      mailFrom: meta.envelope.mailFrom,
      rcptTo: remaining,
      signing: input.signing,
      message,
    },
    log,
  );
  state.delivered.push(...outcome.accepted);
  for (const r of outcome.rejected) state.rejected[r] = outcome.recipientReplies[r] ?? outcome.response;
  state.lastResponse = outcome.response;
  state.attempts += 1;
  state.updatedAt = new Date().toISOString();
  // The record is written before anything else happens: from here on, a replay never resends.
  await rt.deliveryState.put(input.id, state);
  const done = outcome.deferred.length === 0;
  if (done && state.delivered.length > 0) {
    events.push(
      markDelivered(meta, 'durable', { response: outcome.response, recipients: state.delivered.length }),
    );
  }
  if (!done) {
    telemetry.retried();
    return {
      outcome: {
        result: summarise(state),
        retry: `temporary failure for ${outcome.deferred.length} recipient(s): ${outcome.response}`,
      },
      events,
      sender: meta.envelope.mailFrom,
    };
  }
  return { outcome: { result: summarise(state) }, events, sender: meta.envelope.mailFrom };
}

/** Recipients neither delivered nor refused for good. */
export function owed(rcptTo: readonly string[], state: DeliveryState): string[] {
  return rcptTo.filter((r) => !state.delivered.includes(r) && !(r in state.rejected));
}

function summarise(state: DeliveryState): DeliverResult {
  const rejectedCount = Object.keys(state.rejected).length;
  const status = rejectedCount === 0 ? 'delivered' : state.delivered.length > 0 ? 'partial' : 'permanent';
  return {
    status,
    response: state.lastResponse,
    delivered: state.delivered,
    rejected: state.rejected,
  };
}
