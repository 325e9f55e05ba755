import { Readable } from 'node:stream';
import type { DeadLetterInput, DeleteInput, NotifyInput } from '../contracts/index.js';
import { buildDsn, deliver, targetFor } from '../delivery/index.js';
import { describeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { headerEnd } from '../mime/header-end.js';
import type { Runtime } from '../processing/runtime.js';
import { telemetry } from '../telemetry/index.js';
import type { TraceEvent } from '../trace/index.js';
import { emptyDeliveryState, owed } from './deliver.js';
import type { Step } from './recorder.js';
import { openSignedCopy, stageSentItems } from './sent-items.js';

/**
 * Deletes every stored copy of a delivered message. With `retryMs`, a failure is retried through a
 * storage outage until then (after a 250 the delete is what stands between the message and a
 * duplicate); giving up throws, and the message comes back.
 */
export async function deleteStored(
  rt: Runtime,
  id: string,
  known: { signed?: boolean; envelopeBlob?: boolean },
  log: Logger,
  retryMs = 0,
): Promise<void> {
  const deadline = Date.now() + retryMs;
  for (let wait = 200; ; wait = Math.min(wait * 2, 5000)) {
    try {
      await rt.store.deleteAll(id, known);
      return;
    } catch (err) {
      if (Date.now() + wait > deadline) throw err;
      log.warn({ err: describeError(err), retryInMs: wait }, 'deleting a delivered message failed; retrying');
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/**
 * The orchestration's last step after the endpoint's 250: a signed message of a tenant with the
 * Sent Items update on is staged from `signed/<id>` first (one bounded write that never fails this
 * step, and that a retried step does not repeat: the outbox keeps one job per message), then every
 * stored copy is deleted.
 */
export async function finishDelivered(rt: Runtime, input: DeleteInput): Promise<Step<void>> {
  const log = rt.logger.child({ messageId: input.id, step: 'delete' });
  const events: TraceEvent[] = [];
  if (input.signed && input.tenantId) {
    const staged = await stageSentItems(
      rt,
      { id: input.id, tenantId: input.tenantId, internetMessageId: input.internetMessageId },
      () => openSignedCopy(rt.store, input.id),
      log,
    );
    if (staged !== 'off') events.push({ event: 'sent-items', outcome: staged });
  }
  await deleteStored(rt, input.id, { signed: input.signed, envelopeBlob: input.envelopeBlob }, log);
  events.push({ event: 'deleted' });
  log.info('stored copies deleted');
  return { outcome: undefined, events, sender: input.sender };
}

/** Moves the original to `deadletter/<id>` with its failure history, then deletes the working copies. */
export async function deadLetter(rt: Runtime, input: DeadLetterInput): Promise<Step<void>> {
  await rt.deadLetters.bury(input.id, input.reason, input.history);
  await rt.store.deleteAll(input.id);
  rt.logger.error({ messageId: input.id, step: 'deadletter', reason: input.reason }, 'message dead-lettered');
  telemetry.deadLettered();
  return {
    outcome: undefined,
    events: [{ event: 'dead-lettered', reason: input.reason }, { event: 'deleted' }],
    sender: input.sender,
  };
}

/** How many recipients a DSN reported, or why to try again later. */
export interface NotifyOutcome {
  notified: number;
  retry?: string;
}

/**
 * Tells the sender (RFC 3464 DSN, through the tenant's own endpoint) which recipients did not get
 * the message: those refused permanently and, when `final`, those still deferred when delivery
 * gave up. Recipients already reported are skipped, so a replay never sends a second notification.
 */
export async function notifySender(rt: Runtime, input: NotifyInput): Promise<Step<NotifyOutcome>> {
  const log = rt.logger.child({ messageId: input.id, step: 'notify' });
  const nothing = { outcome: { notified: 0 }, events: [] };
  const [opened, recorded] = await Promise.all([
    rt.store.openWithMeta(input.id),
    rt.deliveryState.get(input.id),
  ]);
  if (!opened) return nothing;
  const { stream, meta } = opened;
  const headerBlock = await readHeaderBlock(stream);
  const state = recorded ?? emptyDeliveryState();
  const notified = new Set(state.notified ?? []);
  const recipients = [
    ...Object.entries(state.rejected).map(([address, reply]) => ({
      address,
      reply,
      action: 'failed' as const,
    })),
    ...(input.final
      ? owed(meta.envelope.rcptTo, state).map((address) => ({
          address,
          reply: `${state.lastResponse || input.reason}`,
          action: 'failed' as const,
        }))
      : []),
  ].filter((r) => !notified.has(r.address));
  // Never answer a bounce with a bounce.
  if (recipients.length === 0 || !meta.envelope.mailFrom) return nothing;
  const tenant = (await rt.content()).tenants.byTenantId(meta.tenantId);
  if (!tenant)
    return { outcome: { notified: 0, retry: `tenant ${meta.tenantId} is not configured` }, events: [] };
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
  const outcome = await deliver(targetFor(tenant, rt.settings), {
    mailFrom: '',
    rcptTo: [meta.envelope.mailFrom],
    prependHeaders: [],
    message: Readable.from([dsn]),
  });
  if (outcome.status !== 'delivered') {
    log.warn({ response: outcome.response }, 'the delivery status notification was not accepted');
    if (outcome.status === 'temporary')
      return { outcome: { notified: 0, retry: `DSN deferred: ${outcome.response}` }, events: [] };
    return nothing;
  }
  state.notified = [...notified, ...recipients.map((r) => r.address)];
  await rt.deliveryState.put(input.id, state);
  log.info({ recipients: recipients.length }, 'delivery status notification sent to the sender');
  return {
    outcome: { notified: recipients.length },
    events: [{ event: 'dsn-sent', to: meta.envelope.mailFrom, response: outcome.response }],
    sender: meta.envelope.mailFrom,
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
