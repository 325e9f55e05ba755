import type { FirstAttempt, HandoverReason, SigningSummary } from '../contracts/index.js';
import type { DeliveryOutcome } from '../delivery/index.js';
import type { MessageMeta } from '../storage/index.js';
import type { TraceEvent } from '../trace/index.js';

/** After the direct path's one delivery attempt: finish here, or give the message to Durable. */
export type AfterAttempt =
  | { kind: 'done' }
  | { kind: 'handover'; reason: HandoverReason; delivery: NonNullable<FirstAttempt['delivery']> };

/**
 * Only a 250 for every recipient finishes a message on the direct path. A deferred recipient, a
 * refused one (the sender is owed a DSN) or no answer at all goes to the orchestration, with what
 * this attempt achieved so nobody who has the message gets it twice.
 */
export function afterAttempt(outcome: DeliveryOutcome): AfterAttempt {
  if (outcome.status === 'delivered') return { kind: 'done' };
  const rejected: Record<string, string> = {};
  for (const r of outcome.rejected) rejected[r] = outcome.recipientReplies[r] ?? outcome.response;
  const delivery = { delivered: [...outcome.accepted], rejected, lastResponse: outcome.response };
  const reason: HandoverReason =
    outcome.status === 'permanent'
      ? 'refused'
      : outcome.status === 'partial'
        ? 'partial'
        : 'temporary-failure';
  return { kind: 'handover', reason, delivery };
}

export function receivedEvent(meta: MessageMeta): TraceEvent {
  return {
    event: 'received',
    size: meta.size,
    sender: meta.envelope.mailFrom,
    recipients: meta.envelope.rcptTo.length,
    tenantId: meta.tenantId,
    client: meta.clientAddress,
    tls: meta.tlsProtocol,
  };
}

export function signingEvent(signing: SigningSummary): TraceEvent {
  return {
    event: signing.action,
    reason: signing.reason,
    ...(signing.template === undefined ? {} : { template: signing.template }),
    ...(signing.rule === undefined ? {} : { rule: signing.rule }),
  };
}

export function attemptEvent(endpoint: string, outcome: DeliveryOutcome): TraceEvent {
  return {
    event: 'delivery-attempt',
    endpoint,
    status: outcome.status,
    response: outcome.response,
    accepted: outcome.accepted.length,
    deferred: outcome.deferred.length,
    rejected: outcome.rejected.length,
  };
}

/** The log record of one delivery attempt (no content: counts, codes and the endpoint's reply). */
export function attemptLog(endpoint: string, outcome: DeliveryOutcome, startedAt: number) {
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
