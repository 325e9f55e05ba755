import type { HandoverReason, SigningAction } from '../contracts/index.js';

/** What happened to a message, step by step. Never a subject, a body or an attachment name. */
export type TraceEvent =
  | {
      event: 'received';
      size: number;
      sender: string;
      recipients: number;
      tenantId: string;
      client: string;
      tls?: string;
    }
  | { event: SigningAction; reason: string; template?: string; rule?: string }
  | {
      event: 'delivery-attempt';
      endpoint: string;
      status: string;
      response: string;
      accepted: number;
      deferred: number;
      rejected: number;
    }
  | { event: 'delivered'; response: string; recipients: number }
  | { event: 'dsn-sent'; to: string; response: string }
  | { event: 'dead-lettered'; reason: string }
  | { event: 'deleted' }
  | { event: 'missing'; reason: string }
  | { event: 'replayed'; by: string }
  | { event: 'restarted'; by: string }
  | { event: 'handed-over'; reason: HandoverReason; response?: string }
  /** The signed copy handed to the Sent Items update (`staged`, `already-staged`, `stage-failed`, …). */
  | { event: 'sent-items'; outcome: string };

export interface TraceRecord {
  id: string;
  at: string;
  event: TraceEvent['event'];
  sender?: string;
  details: Record<string, unknown>;
}
