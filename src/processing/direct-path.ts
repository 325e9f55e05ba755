import { Readable, Writable } from 'node:stream';
import type { ClaimCheck, HandoverReason, ProcessInput, SigningSummary } from '../contracts/index.js';
import { deliver, targetFor } from '../delivery/index.js';
import { describeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { SentItemsOutbox } from '../sentitems/index.js';
import type { MessageMeta } from '../storage/index.js';
import { sinceReceived, telemetry } from '../telemetry/index.js';
import type { TraceEvent } from '../trace/index.js';
import { afterAttempt, attemptEvent, attemptLog, receivedEvent, signingEvent } from './outcome.js';
import { mayDeliverUnsigned, policyOf } from './policy.js';
import type { Runtime } from './runtime.js';
import { openSignedCopy, stageSentItems, type StageOutcome } from './sent-items.js';
import { returnHeaders, signInto, signIntoBlob, type SigningResult } from './signing.js';

/** Starts the orchestration for a message; idempotent (an existing instance is success). */
export type Handover = (input: ProcessInput, options: { force?: boolean }) => Promise<'started' | 'exists'>;

export type DirectResult =
  | { outcome: 'delivered' }
  | { outcome: 'missing' }
  | { outcome: 'handed-over'; reason: HandoverReason; start: 'started' | 'exists' };

/** What signing gave the direct path: the decision and, when signed, the message to deliver. */
interface Signing extends SigningResult {
  summary: SigningSummary;
  message?: Readable | Buffer;
  /** The signed message in memory (small messages): delivered, then staged for Sent Items as it is. */
  chunks?: readonly Buffer[];
}

/** Collects the signed message in memory: the one copy of it this process holds. */
class MemorySink extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    callback();
  }
}

/**
 * The cheap path, run by the queue trigger: read `inbound/<id>` once (content and metadata in one
 * request), sign, deliver over a pooled connection, and delete the stored copy after the endpoint's
 * 250 for every recipient — no orchestration, no signed copy, no delivery record, one trace write
 * shared with the messages finishing at the same time. For a tenant with the Sent Items update on,
 * the signed message is then staged for the sender's Sent Items (one bounded write that never
 * fails the message). Anything else (a temporary or partial
 * failure, a refusal, a signing failure of a fail-closed tenant, a second dequeue, a replay) is
 * handed to the orchestration with what this attempt learnt. A crash anywhere leaves the blob.
 */
export class DirectPath {
  constructor(private readonly rt: Runtime) {}

  async handle(
    claim: ClaimCheck,
    attempt: { dequeueCount: number },
    handover: Handover,
  ): Promise<DirectResult> {
    const { id } = claim;
    const log = this.rt.logger.child({ messageId: id, step: 'direct' });
    if (claim.replay) {
      return this.handOver(handover, { id, reason: 'replay', tenantId: claim.tenantId }, log, [], true);
    }
    if (attempt.dequeueCount > 1) return this.redelivered(claim, attempt.dequeueCount, handover, log);

    const opened = await this.rt.store.openWithMeta(id);
    if (!opened) {
      log.info('claim-check for a message that is no longer stored; nothing to do');
      return { outcome: 'missing' };
    }
    const { stream: source, meta } = opened;
    const sender = meta.envelope.mailFrom;
    const events: TraceEvent[] = [receivedEvent(meta)];
    let content;
    try {
      content = await this.rt.content();
    } catch (err) {
      source.destroy();
      throw err;
    }
    const tenant = content.tenants.byTenantId(meta.tenantId);
    if (!tenant) {
      source.destroy();
      log.warn({ tenant: meta.tenantId }, 'tenant not configured; the orchestration waits for it');
      const input = { id, reason: 'temporary-failure' as const, tenantId: meta.tenantId, sender };
      return this.handOver(handover, input, log, events);
    }
    const policy = policyOf(tenant);
    const base = { id, tenantId: meta.tenantId, sender, policy };

    const { processedHeader } = this.rt.settings;
    const large = meta.size > this.rt.settings.processing.directMaxBytes;
    const signing = large
      ? await this.signToBlob(content, source, meta)
      : await this.signToMemory(content, source, meta);
    events.push(signingEvent(signing.summary));
    telemetry.signingDecision({ action: signing.summary.action, tenantId: meta.tenantId });
    log.info({ ...signing.summary, large }, 'signing decision');
    if (signing.summary.action === 'failed' && !mayDeliverUnsigned(policy)) {
      const input = { ...base, reason: 'sign-failed' as const, firstAttempt: { signing: signing.summary } };
      return this.handOver(handover, input, log, events);
    }

    const signed = signing.summary.action === 'signed';
    const message = signing.message ?? (await this.rt.store.openWithMeta(id))?.stream;
    if (!message) {
      log.warn('the stored message vanished while it was being signed');
      return { outcome: 'missing' };
    }
    const target = targetFor(tenant, this.rt.settings);
    const endpoint = `${target.host}:${target.port}`;
    const started = Date.now();
    const outcome = await deliver(target, {
      mailFrom: sender,
      rcptTo: meta.envelope.rcptTo,
      prependHeaders: returnHeaders(id, signing.summary, processedHeader),
      message,
    });
    log.info(attemptLog(endpoint, outcome, started), 'delivery attempt');
    events.push(attemptEvent(endpoint, outcome));
    const signedCopy = large && signed;
    const next = afterAttempt(outcome);
    if (next.kind === 'handover') {
      // The orchestration signs again into its own copy; ours would be left behind.
      if (signedCopy) await this.rt.store.deleteSigned(id);
      const input = {
        ...base,
        reason: next.reason,
        firstAttempt: { signing: signing.summary, delivery: next.delivery },
      };
      return this.handOver(handover, input, log, events);
    }
    // The duplicate window: from the endpoint's 250 until this delete. A crash in between leaves the
    // blob, and the redelivered claim-check sends the message once more.
    const pause = this.rt.settings.processing.faultPauseAfterAcceptedMs;
    if (pause > 0) await new Promise((r) => setTimeout(r, pause));
    // A large signed copy to be staged for Sent Items outlives the delete by that one step.
    const sentItems = signed && SentItemsOutbox.wants(tenant);
    const keepSigned = signedCopy && sentItems;
    await this.deleteAfterDelivery(
      id,
      { signed: signedCopy && !keepSigned, envelopeBlob: meta.envelopeBlob === true },
      log,
    );
    // After the delete, so the duplicate window stays one round trip; the one copy held in memory
    // (or signed/<id>) is staged as it is.
    let staged: StageOutcome = 'off';
    if (sentItems) {
      const { chunks } = signing;
      staged = await stageSentItems(
        this.rt,
        { id, tenantId: meta.tenantId, internetMessageId: signing.internetMessageId },
        chunks
          ? () => Promise.resolve({ copy: { chunks }, sender, receivedAt: meta.receivedAt })
          : () => openSignedCopy(this.rt.store, id),
        log,
      );
    }
    if (keepSigned) await this.deleteSignedCopy(id, log);
    telemetry.delivered({
      latencyMs: sinceReceived(meta.receivedAt),
      path: 'direct',
      tenantId: meta.tenantId,
    });
    events.push(
      { event: 'delivered', response: outcome.response, recipients: outcome.accepted.length },
      { event: 'deleted' },
    );
    if (staged !== 'off') events.push({ event: 'sent-items', outcome: staged });
    await this.rt.trace.record(id, events, sender);
    return { outcome: 'delivered' };
  }

  /**
   * After a 250 the delete is what stands between this message and a duplicate, so it is retried
   * through a storage outage (the queue message stays leased meanwhile) before giving up; giving up
   * throws, the claim-check comes back, and the orchestration delivers once more.
   */
  private async deleteAfterDelivery(
    id: string,
    known: { signed: boolean; envelopeBlob: boolean },
    log: Logger,
  ): Promise<void> {
    const deadline = Date.now() + this.rt.settings.processing.deleteRetryMs;
    for (let wait = 200; ; wait = Math.min(wait * 2, 5000)) {
      try {
        await this.rt.store.deleteAll(id, known);
        return;
      } catch (err) {
        if (Date.now() + wait > deadline) throw err;
        log.warn(
          { err: describeError(err), retryInMs: wait },
          'deleting a delivered message failed; retrying',
        );
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /**
   * The signed copy of a delivered message, kept for staging. A failure here leaves a copy of mail
   * already delivered: it is logged, and the lifecycle rule removes it; the message is done.
   */
  private async deleteSignedCopy(id: string, log: Logger): Promise<void> {
    try {
      await this.rt.store.deleteSigned(id);
    } catch (err) {
      log.warn(
        { err: describeError(err) },
        'deleting the signed copy after staging failed; left to the lifecycle rule',
      );
    }
  }

  /** A second dequeue: the previous attempt crashed or failed. The orchestration takes it from here. */
  private async redelivered(
    claim: ClaimCheck,
    dequeueCount: number,
    handover: Handover,
    log: Logger,
  ): Promise<DirectResult> {
    const meta = await this.rt.store.readMeta(claim.id);
    if (!meta) {
      log.info({ dequeueCount }, 'redelivered claim-check for a message already finished; nothing to do');
      return { outcome: 'missing' };
    }
    const tenant = (await this.rt.content()).tenants.byTenantId(meta.tenantId);
    const input: ProcessInput = {
      id: claim.id,
      reason: 'redelivered',
      tenantId: meta.tenantId,
      sender: meta.envelope.mailFrom,
      ...(tenant ? { policy: policyOf(tenant) } : {}),
    };
    return this.handOver(handover, input, log, []);
  }

  private async handOver(
    handover: Handover,
    input: ProcessInput,
    log: Logger,
    events: TraceEvent[],
    force = false,
  ): Promise<DirectResult> {
    const start = await handover(input, { force });
    const response = input.firstAttempt?.delivery?.lastResponse;
    events.push({ event: 'handed-over', reason: input.reason, ...(response ? { response } : {}) });
    await this.rt.trace.record(input.id, events, input.sender);
    log.info({ reason: input.reason, start }, 'handed over to the orchestration');
    return { outcome: 'handed-over', reason: input.reason, start };
  }

  private async signToMemory(
    content: Awaited<ReturnType<Runtime['content']>>,
    source: Readable,
    meta: MessageMeta,
  ): Promise<Signing> {
    const sink = new MemorySink();
    const result = await signInto(
      this.rt.signer,
      content,
      source,
      sink,
      meta,
      this.rt.settings.processedHeader,
    );
    if (result.summary.action !== 'signed') return { summary: result.summary };
    // One buffer rather than the engine's many small chunks: delivery writes it in a few TLS records,
    // and Sent Items stages the same buffer. The chunks are dropped with the sink.
    const whole = Buffer.concat(sink.chunks);
    return { ...result, message: whole, chunks: [whole] };
  }

  /** A large message is signed into `signed/<id>` and streamed from there: memory stays bounded. */
  private async signToBlob(
    content: Awaited<ReturnType<Runtime['content']>>,
    source: Readable,
    meta: MessageMeta,
  ): Promise<Signing> {
    const { store, settings } = this.rt;
    const result = await signIntoBlob(store, this.rt.signer, content, source, meta, settings.processedHeader);
    if (result.summary.action !== 'signed') return { summary: result.summary };
    const opened = await this.rt.store.openWithMeta(meta.id, 'signed');
    if (!opened) throw new Error(`signed/${meta.id} vanished after it was written`);
    return { ...result, message: opened.stream };
  }
}
