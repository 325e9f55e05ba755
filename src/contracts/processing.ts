/**
 * What the parts of the message path hand each other after the front: the direct path in the queue
 * trigger, the Durable orchestration and its activities. Small, serialisable, never message content.
 */
import type { SignDecision } from '../signing/index.js';

/** One vocabulary for what signing did, from the engine to the trace. */
export type SigningAction = SignDecision['action'];

export const orchestratorName = 'processMessage';

export const activityNames = {
  sign: 'signMessage',
  deliver: 'deliverMessage',
  notify: 'notifySender',
  delete: 'deleteMessage',
  deadLetter: 'deadLetterMessage',
} as const;

/**
 * The tenant's failure policy: what becomes of a message after a signing or delivery failure. It
 * travels in the orchestration input. (Who may send at all is the front's `Admission`.)
 */
export interface FailurePolicy {
  signingFailure: 'fail-open' | 'fail-closed';
  permanentFailure: 'dsn' | 'alert';
  retry: { firstIntervalSeconds: number; maxIntervalSeconds: number; giveUpAfterHours: number };
}

/** What signing did to a message: one type from the engine's decision to the trace and the orchestration. */
export interface SigningResult {
  action: SigningAction;
  reason: string;
  template?: string;
  rule?: string;
}

/**
 * A message's delivery state (the delivery record, table `sigrelaystate`): who has the message, who
 * refused it, who was told.
 */
export interface DeliveryState {
  /** Recipients the endpoint accepted (250): never sent to again. */
  delivered: string[];
  /** Recipients the endpoint refused permanently (5xx), with its reply. */
  rejected: Record<string, string>;
  /** The endpoint's last reply text. */
  lastResponse: string;
  attempts: number;
  updatedAt: string;
  /** Recipients the sender has already been told about (DSN), so a replay never reports twice. */
  notified?: string[];
}

/** Why the direct path (or the sweeper) gave a message to the orchestration. */
export type HandoverReason =
  | 'temporary-failure'
  | 'partial'
  | 'refused'
  | 'sign-failed'
  /** Signing waited on its blob read, its upload or the signature lookup past the stall limit. */
  | 'sign-stalled'
  | 'redelivered'
  | 'replay'
  | 'orphan';

/** What the direct path learnt before it handed the message over. */
export interface FirstAttempt {
  signing?: SigningResult;
  /** Recipients that have the message, those refused for good (with the reply), the last reply. */
  delivery?: Pick<DeliveryState, 'delivered' | 'rejected' | 'lastResponse'>;
}

/** The orchestration input. Instance id = message id. */
export interface ProcessInput {
  id: string;
  reason: HandoverReason;
  tenantId?: string;
  sender?: string;
  /** Known when the direct path could resolve the tenant; else the orchestration asks for it. */
  policy?: FailurePolicy;
  firstAttempt?: FirstAttempt;
}

/** What the orchestration returns: visible in its status, never message content. */
export interface ProcessResult {
  id: string;
  outcome: 'delivered' | 'partial' | 'dead-lettered' | 'missing';
  signing?: SigningResult;
  response?: string;
}

/** The sign activity's answer: whether the message is still there, and what the orchestration needs. */
export interface SignActivityResult {
  id: string;
  /** False when the inbound blob is gone (already finished, or never committed). */
  found: boolean;
  signing?: SigningResult;
  /** Deliver `signed/<id>` (true) or the original `inbound/<id>` (false). */
  useSigned: boolean;
  tenantId?: string;
  sender?: string;
  /** The recipient list is stored beside the message (`envelopes/<id>.json`). */
  envelopeBlob?: boolean;
  policy?: FailurePolicy;
  /** The Message-ID header of a signed message: the Sent Items update finds the original by it. */
  internetMessageId?: string;
}

export interface SignInput {
  id: string;
  /** The direct path already traced the message's arrival. */
  traced?: boolean;
}

export interface DeliverInput {
  id: string;
  /** What signing did: `signed` delivers `signed/<id>`, anything else the original. */
  signing: SigningResult;
  /** What the direct path's attempt achieved, merged into the stored progress before sending. */
  firstAttempt?: FirstAttempt['delivery'];
}

export interface DeliverResult {
  status: 'delivered' | 'permanent' | 'partial';
  response: string;
  delivered: string[];
  rejected: Record<string, string>;
}

export interface NotifyInput {
  id: string;
  final: boolean;
  reason: string;
}

export interface DeleteInput {
  id: string;
  signed?: boolean;
  envelopeBlob?: boolean;
  sender?: string;
  /** With `signed`: the tenant whose Sent Items setting decides whether the copy is staged first. */
  tenantId?: string;
  internetMessageId?: string;
}

export interface DeadLetterInput {
  id: string;
  reason: string;
  history: unknown;
  sender?: string;
}
