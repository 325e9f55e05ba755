import type { SigningResult } from '../contracts/index.js';
import type { DeliveryOutcome } from '../delivery/index.js';
import type { MessageMeta } from '../storage/index.js';
import type { TraceEvent } from '../trace/index.js';

/** The trace events the steps of a message produce: counts, codes and replies, never content. */

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

export function signingEvent(signing: SigningResult): TraceEvent {
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
