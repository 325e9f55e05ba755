import { Readable } from 'node:stream';
import type {
  DeadLetterInput,
  DeleteInput,
  DeliverInput,
  DeliverResult,
  DeliveryProgress,
  NotifyInput,
  SignInput,
  SignOutcome,
} from '../contracts/index.js';
import { buildDsn, deliver, targetFor } from '../delivery/index.js';
import { headerEnd } from '../mime/header-end.js';
import {
  attemptEvent,
  attemptLog,
  openSignedCopy,
  policyOf,
  receivedEvent,
  returnHeaders,
  signingEvent,
  signIntoBlob,
  stageSentItems,
  type Runtime,
} from '../processing/index.js';
import { sinceReceived, telemetry } from '../telemetry/index.js';
import type { TraceEvent } from '../trace/index.js';

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

/** The orchestration's activities, built from the runtime they work with. */
export function createActivities(rt: Runtime) {
  /**
   * Reads `inbound/<id>`, runs the engine, and stores `signed/<id>` when it signed. A message the
   * engine cannot sign comes back as `failed` with the reason (the orchestration applies the
   * tenant's policy); only storage problems throw, to be retried.
   */
  async function sign(input: SignInput): Promise<SignOutcome> {
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
    const { summary: signing, internetMessageId } = await signIntoBlob(
      rt.store,
      rt.signer,
      content,
      source,
      meta,
      rt.settings.processedHeader,
    );
    log.info(signing, 'signing decision');
    telemetry.signingDecision({ action: signing.action, tenantId: meta.tenantId });
    const events: TraceEvent[] = input.traced ? [] : [receivedEvent(meta)];
    events.push(signingEvent(signing));
    await rt.trace.record(input.id, events, meta.envelope.mailFrom);
    return {
      id: input.id,
      found: true,
      signing,
      useSigned: signing.action === 'signed',
      tenantId: meta.tenantId,
      sender: meta.envelope.mailFrom,
      envelopeBlob: meta.envelopeBlob === true,
      ...(tenant ? { policy: policyOf(tenant) } : {}),
      ...(internetMessageId ? { internetMessageId } : {}),
    };
  }

  /**
   * Delivers to the recipients not yet handled, records progress durably before returning, and
   * throws TemporaryDeliveryError while any recipient is deferred, so only those are retried.
   */
  async function deliverMessage(input: DeliverInput): Promise<DeliverResult> {
    const log = rt.logger.child({ messageId: input.id, step: 'deliver' });
    const useSigned = input.signing.action === 'signed';
    const [opened, recorded] = await Promise.all([
      rt.store.openWithMeta(input.id, useSigned ? 'signed' : 'inbound'),
      rt.state.get(input.id),
    ]);
    let progress = recorded ?? emptyProgress();
    if (!recorded && input.firstAttempt) {
      // What the direct path achieved becomes the record before anything is sent: nobody who has
      // the message gets it again, and refused recipients are reported.
      progress = {
        ...progress,
        delivered: [...input.firstAttempt.delivered],
        rejected: { ...input.firstAttempt.rejected },
        lastResponse: input.firstAttempt.lastResponse,
        attempts: 1,
      };
      await rt.state.put(input.id, progress);
    }
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
    const started = Date.now();
    const outcome = await deliver(target, {
      mailFrom: meta.envelope.mailFrom,
      rcptTo: remaining,
      prependHeaders: returnHeaders(input.id, input.signing, rt.settings.processedHeader),
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
    log.info(attemptLog(endpoint, outcome, started), 'delivery attempt');
    const events: TraceEvent[] = [attemptEvent(endpoint, outcome)];
    const done = outcome.deferred.length === 0;
    if (done && progress.delivered.length > 0) {
      events.push({ event: 'delivered', response: outcome.response, recipients: progress.delivered.length });
      telemetry.delivered({
        latencyMs: sinceReceived(meta.receivedAt),
        path: 'durable',
        tenantId: meta.tenantId,
      });
    }
    await rt.trace.record(input.id, events, meta.envelope.mailFrom);
    if (!done) {
      telemetry.retried();
      throw new TemporaryDeliveryError(
        `temporary failure for ${outcome.deferred.length} recipient(s): ${outcome.response}`,
      );
    }
    return summarise(progress);
  }

  /**
   * Tells the sender (RFC 3464 DSN, through the tenant's own endpoint) which recipients did not get
   * the message: those refused permanently and, when `final`, those still deferred when delivery
   * gave up. Recipients already reported are skipped, so a replay never sends a second notification.
   */
  async function notifySender(input: NotifyInput): Promise<{ notified: number }> {
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
      if (outcome.status === 'temporary')
        throw new TemporaryDeliveryError(`DSN deferred: ${outcome.response}`);
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

  /**
   * Deletes every stored copy. Called only after the endpoint answered 250 (the orchestration's
   * last step). A signed message of a tenant with the Sent Items update on is staged from
   * `signed/<id>` first: one bounded write that never fails this activity, and that a retried
   * activity does not repeat (the outbox keeps one job per message).
   */
  async function deleteMessage(input: DeleteInput): Promise<void> {
    const events: TraceEvent[] = [{ event: 'deleted' }];
    if (input.signed && input.tenantId) {
      const staged = await stageSentItems(
        rt,
        { id: input.id, tenantId: input.tenantId, internetMessageId: input.internetMessageId },
        () => openSignedCopy(rt.store, input.id),
        rt.logger.child({ messageId: input.id, step: 'delete' }),
      );
      if (staged !== 'off') events.unshift({ event: 'sent-items', outcome: staged });
    }
    await rt.store.deleteAll(input.id, { signed: input.signed, envelopeBlob: input.envelopeBlob });
    await rt.trace.record(input.id, events, input.sender);
    rt.logger.info({ messageId: input.id, step: 'delete' }, 'stored copies deleted');
  }

  /** Moves the original to `deadletter/<id>` with its failure history, then deletes the working copies. */
  async function deadLetter(input: DeadLetterInput): Promise<void> {
    await rt.deadLetters.bury(input.id, input.reason, input.history);
    await rt.store.deleteAll(input.id);
    await rt.trace.record(
      input.id,
      [{ event: 'dead-lettered', reason: input.reason }, { event: 'deleted' }],
      input.sender,
    );
    rt.logger.error(
      { messageId: input.id, step: 'deadletter', reason: input.reason },
      'message dead-lettered',
    );
    telemetry.deadLettered();
  }

  return { sign, deliver: deliverMessage, notify: notifySender, delete: deleteMessage, deadLetter };
}

export type Activities = ReturnType<typeof createActivities>;

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
