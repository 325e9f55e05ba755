import { PassThrough, Readable } from 'node:stream';
import { buildDsn, deliver, targetFor } from '../delivery/index.js';
import { headerEnd } from '../front/header-capture.js';
import { describeError } from '../errors/index.js';
import { signMessage as runEngine, type ResolveSignature } from '../signing/index.js';
import type { MessageMeta } from '../storage/index.js';
import type { TraceEvent } from '../trace/index.js';
import type { DeliveryProgress } from './delivery-state.js';
import { runtime } from './runtime.js';

/** The tenant policy the orchestration needs, resolved once by the sign activity. */
export interface MessagePolicy {
  signingFailure: 'fail-open' | 'fail-closed';
  permanentFailure: 'dsn' | 'alert';
  retry: { firstIntervalSeconds: number; maxIntervalSeconds: number; giveUpAfterHours: number };
}

/** The orchestration's view of a message after signing: small, serialisable, no content. */
export interface SignOutcome {
  id: string;
  /** False when the inbound blob is gone (already finished, or never committed). */
  found: boolean;
  action?: 'signed' | 'skipped' | 'failed';
  reason?: string;
  template?: string;
  /** Deliver `signed/<id>` (true) or the original `inbound/<id>` (false). */
  useSigned: boolean;
  tenantId?: string;
  sender?: string;
  /** The recipient list is stored beside the message (`envelopes/<id>.json`). */
  envelopeBlob?: boolean;
  policy?: MessagePolicy;
}

export interface DeliverInput {
  id: string;
  useSigned: boolean;
  /** `X-Sigrelay-Result` value for messages delivered without our signature. */
  result?: string;
}

export interface DeliverResult {
  status: 'delivered' | 'permanent' | 'partial';
  response: string;
  delivered: string[];
  rejected: Record<string, string>;
}

/** Thrown for a temporary failure so that Durable's RetryOptions schedule the next attempt. */
export class TemporaryDeliveryError extends Error {
  override readonly name = 'TemporaryDeliveryError';
}

const emptyProgress = (): DeliveryProgress => ({
  delivered: [],
  rejected: {},
  lastResponse: '',
  attempts: 0,
  updatedAt: new Date().toISOString(),
  notified: [],
});

function receivedEvent(meta: MessageMeta): TraceEvent {
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

/**
 * Reads `inbound/<id>`, runs the engine, and stores `signed/<id>` when it signed. A message the
 * engine cannot sign comes back as `failed` with the reason (the orchestration applies the tenant's
 * fail-open/fail-closed policy); only storage problems throw, to be retried.
 */
export async function signActivity(input: { id: string }): Promise<SignOutcome> {
  const rt = runtime();
  const log = rt.logger.child({ messageId: input.id, step: 'sign' });
  const opened = await rt.store.openWithMeta(input.id);
  if (!opened) {
    await rt.trace.record(input.id, [
      { event: 'missing', reason: 'not in inbound (already finished, or never committed)' },
    ]);
    return { id: input.id, found: false, useSigned: false };
  }
  const { stream: source, meta } = opened;
  let content;
  try {
    content = await rt.content();
  } catch (err) {
    source.destroy();
    throw err;
  }
  const tenant = content.tenants.byTenantId(meta.tenantId);
  const policy: MessagePolicy | undefined = tenant && {
    signingFailure: tenant.settings.signingFailure,
    permanentFailure: tenant.settings.permanentFailure,
    retry: tenant.settings.deliveryRetry,
  };
  const base = {
    id: input.id,
    found: true,
    tenantId: meta.tenantId,
    sender: meta.envelope.mailFrom,
    envelopeBlob: meta.envelopeBlob === true,
    policy,
  };

  // A template that throws is a property of the configuration, not of storage: retrying would not
  // help, so it becomes a signing failure that the tenant's policy decides about.
  let templateError: string | undefined;
  const resolve: ResolveSignature = async (facts) => {
    try {
      return await content.resolve(facts);
    } catch (err) {
      templateError = describeError(err);
      return { action: 'skip', reason: 'template-error' };
    }
  };

  const started = Date.now();
  const sink = new PassThrough();
  const upload = rt.store.writeSigned(input.id, sink, meta);
  let decision;
  try {
    decision = await runEngine(source, sink, resolve, {
      sender: meta.envelope.mailFrom,
      recipients: meta.envelope.rcptTo,
      processedHeader: rt.settings.processedHeader,
    });
  } catch (err) {
    // The engine rejects only when its input or output failed: a storage problem worth a retry.
    sink.destroy();
    await upload.catch(() => undefined);
    throw err;
  }
  if (templateError !== undefined) {
    decision = { ...decision, action: 'failed' as const, reason: `template-error: ${templateError}` };
  }
  if (!sink.writableEnded) sink.end();
  if (decision.action === 'signed') await upload;
  else {
    sink.destroy();
    await upload.catch(() => undefined);
  }
  log.info(
    {
      action: decision.action,
      reason: decision.reason,
      template: decision.template,
      ms: Date.now() - started,
    },
    'signing decision',
  );
  const signEvent: TraceEvent = {
    event:
      decision.action === 'signed' ? 'signed' : decision.action === 'skipped' ? 'skipped' : 'sign-failed',
    reason: decision.reason,
    template: decision.template,
    rule: decision.rule,
  };
  await rt.trace.record(input.id, [receivedEvent(meta), signEvent], meta.envelope.mailFrom);
  return {
    ...base,
    action: decision.action,
    reason: decision.reason,
    template: decision.template,
    useSigned: decision.action === 'signed',
  };
}

/**
 * Delivers to the recipients not yet handled, records progress durably before returning, and throws
 * TemporaryDeliveryError while any recipient is deferred, so only those are retried.
 */
export async function deliverActivity(input: DeliverInput): Promise<DeliverResult> {
  const rt = runtime();
  const log = rt.logger.child({ messageId: input.id, step: 'deliver' });
  const [opened, recorded] = await Promise.all([
    rt.store.openWithMeta(input.id, input.useSigned ? 'signed' : 'inbound'),
    rt.state.get(input.id),
  ]);
  const progress = recorded ?? emptyProgress();
  if (!opened) {
    if (progress.attempts > 0) return summarise(progress);
    throw new Error(`message ${input.id} is not in storage`);
  }
  const { stream: message, meta } = opened;
  const remaining = meta.envelope.rcptTo.filter(
    (r) => !progress.delivered.includes(r) && !(r in progress.rejected),
  );
  if (remaining.length === 0) {
    message.destroy();
    return summarise(progress);
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
    throw new TemporaryDeliveryError(`tenant ${meta.tenantId} is not configured`);
  }
  const target = targetFor(tenant, rt.settings);
  // The engine stamps the loop-prevention header on what it signs; the original needs it here.
  const headers = input.useSigned ? [] : [`${rt.settings.processedHeader}: true`];
  headers.push(`X-Sigrelay-Id: ${input.id}`);
  if (input.result) headers.push(`X-Sigrelay-Result: ${input.result}`);
  const started = Date.now();
  const outcome = await deliver(target, {
    mailFrom: meta.envelope.mailFrom,
    rcptTo: remaining,
    prependHeaders: headers,
    message,
  });
  progress.delivered.push(...outcome.accepted);
  for (const r of outcome.rejected) progress.rejected[r] = outcome.recipientReplies[r] ?? outcome.response;
  progress.lastResponse = outcome.response;
  progress.attempts += 1;
  progress.updatedAt = new Date().toISOString();
  // The record is written before anything else happens: from here on, a replay never resends.
  await rt.state.put(input.id, progress);
  const endpoint = `${target.host}:${target.port}`;
  log.info(
    {
      endpoint,
      status: outcome.status,
      code: outcome.code,
      accepted: outcome.accepted.length,
      deferred: outcome.deferred.length,
      rejected: outcome.rejected.length,
      response: outcome.response,
      ms: Date.now() - started,
    },
    'delivery attempt',
  );
  const events: TraceEvent[] = [
    {
      event: 'delivery-attempt',
      endpoint,
      status: outcome.status,
      response: outcome.response,
      accepted: outcome.accepted.length,
      deferred: outcome.deferred.length,
      rejected: outcome.rejected.length,
    },
  ];
  const done = outcome.deferred.length === 0;
  if (done && progress.delivered.length > 0) {
    events.push({ event: 'delivered', response: outcome.response, recipients: progress.delivered.length });
  }
  await rt.trace.record(input.id, events, meta.envelope.mailFrom);
  if (!done) {
    throw new TemporaryDeliveryError(
      `temporary failure for ${outcome.deferred.length} recipient(s): ${outcome.response}`,
    );
  }
  return summarise(progress);
}

function summarise(progress: DeliveryProgress): DeliverResult {
  const rejectedCount = Object.keys(progress.rejected).length;
  const status = rejectedCount === 0 ? 'delivered' : progress.delivered.length > 0 ? 'partial' : 'permanent';
  return {
    status,
    response: progress.lastResponse,
    delivered: progress.delivered,
    rejected: progress.rejected,
  };
}

/**
 * Tells the sender (RFC 3464 DSN, through the tenant's own endpoint) which recipients did not get the
 * message: those refused permanently and, when `final`, those still deferred when delivery gave up.
 * Recipients already reported are skipped, so a replay never sends a second notification.
 */
export async function notifySenderActivity(input: {
  id: string;
  final: boolean;
  reason: string;
}): Promise<{ notified: number }> {
  const rt = runtime();
  const log = rt.logger.child({ messageId: input.id, step: 'notify' });
  const [opened, recorded] = await Promise.all([rt.store.openWithMeta(input.id), rt.state.get(input.id)]);
  if (!opened) return { notified: 0 };
  const { stream, meta } = opened;
  const headerBlock = await readHeaderBlock(stream);
  const progress = recorded ?? emptyProgress();
  const notified = new Set(progress.notified ?? []);
  const recipients = [
    ...Object.entries(progress.rejected).map(([address, reply]) => ({
      address,
      reply,
      action: 'failed' as const,
    })),
    ...(input.final
      ? meta.envelope.rcptTo
          .filter((r) => !progress.delivered.includes(r) && !(r in progress.rejected))
          .map((address) => ({
            address,
            reply: `${progress.lastResponse || input.reason}`,
            action: 'failed' as const,
          }))
      : []),
  ].filter((r) => !notified.has(r.address));
  // Never answer a bounce with a bounce.
  if (recipients.length === 0 || !meta.envelope.mailFrom) return { notified: 0 };
  const tenant = (await rt.content()).tenants.byTenantId(meta.tenantId);
  if (!tenant) throw new TemporaryDeliveryError(`tenant ${meta.tenantId} is not configured`);
  const target = targetFor(tenant, rt.settings);
  const dsn = buildDsn(
    {
      sender: meta.envelope.mailFrom,
      reportingMta: rt.settings.smtp.hostname,
      remoteMta: tenant.delivery.host,
      receivedAt: meta.receivedAt,
      recipients,
      originalHeaders: headerBlock,
      messageId: input.id,
    },
    rt.settings.processedHeader,
  );
  const outcome = await deliver(target, {
    mailFrom: '',
    rcptTo: [meta.envelope.mailFrom],
    prependHeaders: [],
    message: Readable.from([dsn]),
  });
  if (outcome.status !== 'delivered') {
    log.warn({ response: outcome.response }, 'the delivery status notification was not accepted');
    if (outcome.status === 'temporary') throw new TemporaryDeliveryError(`DSN deferred: ${outcome.response}`);
    return { notified: 0 };
  }
  progress.notified = [...notified, ...recipients.map((r) => r.address)];
  await rt.state.put(input.id, progress);
  await rt.trace.record(
    input.id,
    [{ event: 'dsn-sent', to: meta.envelope.mailFrom, response: outcome.response }],
    meta.envelope.mailFrom,
  );
  log.info({ recipients: recipients.length }, 'delivery status notification sent to the sender');
  return { notified: recipients.length };
}

/** The raw header block of a message stream (up to the first empty line), then the stream is closed. */
async function readHeaderBlock(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    const joined = Buffer.concat(chunks, size);
    const cut = headerEnd(joined);
    if (cut >= 0 || size > 256 * 1024) {
      stream.destroy();
      return joined.subarray(0, cut >= 0 ? cut : 256 * 1024);
    }
  }
  return Buffer.concat(chunks, size);
}

/** Deletes every stored copy. Called only after the endpoint has answered 250 (or after dead-lettering). */
export async function deleteActivity(input: {
  id: string;
  signed?: boolean;
  envelopeBlob?: boolean;
  sender?: string;
}): Promise<void> {
  const rt = runtime();
  await rt.store.deleteAll(input.id, { signed: input.signed, envelopeBlob: input.envelopeBlob });
  await rt.trace.record(input.id, [{ event: 'deleted' }], input.sender);
  rt.logger.info({ messageId: input.id, step: 'delete' }, 'stored copies deleted');
}

/** Moves the original to `deadletter/<id>` with its failure history, then deletes the working copies. */
export async function deadLetterActivity(input: {
  id: string;
  reason: string;
  history: unknown;
  sender?: string;
}): Promise<void> {
  const rt = runtime();
  await rt.deadLetters.bury(input.id, input.reason, input.history);
  await rt.store.deleteAll(input.id);
  await rt.trace.record(
    input.id,
    [{ event: 'dead-lettered', reason: input.reason }, { event: 'deleted' }],
    input.sender,
  );
  rt.logger.error({ messageId: input.id, step: 'deadletter', reason: input.reason }, 'message dead-lettered');
}
