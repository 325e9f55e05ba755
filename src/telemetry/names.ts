/**
 * Every metric, span and attribute name sigrelay emits: one list, read by the instruments, the
 * tests, the Bicep workbook and docs/operations.md. None of them ever carries message content
 * (bodies, subjects, attachment names) or an address.
 */
export const metricNames = {
  sessions: 'sigrelay.smtp.sessions',
  accepted: 'sigrelay.messages.accepted',
  refused: 'sigrelay.messages.refused',
  bytes: 'sigrelay.messages.bytes',
  signingDecisions: 'sigrelay.signing.decisions',
  delivered: 'sigrelay.messages.delivered',
  retried: 'sigrelay.delivery.retries',
  deadLettered: 'sigrelay.messages.dead_lettered',
  latency: 'sigrelay.delivery.latency',
  inboundMessages: 'sigrelay.inbound.messages',
  oldestAge: 'sigrelay.inbound.oldest_age',
  frontReady: 'sigrelay.front.ready',
  sentItems: 'sigrelay.sentitems.outcomes',
} as const;

export const attributeNames = {
  tenantId: 'sigrelay.tenant.id',
  messageId: 'sigrelay.message.id',
  sessionId: 'sigrelay.smtp.session_id',
  clientAddress: 'client.address',
  recipientCount: 'sigrelay.message.recipients',
  size: 'sigrelay.message.size',
  replyCode: 'smtp.reply.code',
  replyStatus: 'smtp.reply.status',
  phase: 'sigrelay.smtp.phase',
  signingAction: 'sigrelay.signing.action',
  deliveryPath: 'sigrelay.delivery.path',
  sentItemsOutcome: 'sigrelay.sentitems.outcome',
} as const;

export const spanNames = {
  /** The front: one SMTP DATA transaction, from the first byte to the final reply. */
  smtpTransaction: 'smtp.transaction',
} as const;

/**
 * Receive → delivered latency buckets (ms): the direct path lands in the first few, retries in
 * the minutes-to-hours ones, up to the 48 h a message may be retried.
 */
export const latencyBucketsMs = [
  100, 250, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000, 14_400_000,
  86_400_000, 172_800_000,
];

/** How a message reached the endpoint: straight from the queue trigger, or through Durable retries. */
export type DeliveryPath = 'direct' | 'durable';
/**
 * What became of a Sent Items update: the delivery path's hand-over (`staged`, `already-staged`,
 * `no-message-id`, `stage-failed`) and then the worker's runs (`replaced`, `retry-later`,
 * `gave-up`, `already-done`, `off`).
 */
export type SentItemsEvent =
  | 'staged'
  | 'already-staged'
  | 'no-message-id'
  | 'stage-failed'
  | 'replaced'
  | 'retry-later'
  | 'gave-up'
  | 'already-done'
  | 'off';
/** Where in the SMTP conversation a message was refused. */
export type RefusalPhase = 'mail' | 'data';
