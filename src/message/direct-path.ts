import type { Readable } from 'node:stream';
import type { ClaimCheck, FirstAttempt, HandoverReason, ProcessInput } from '../contracts/index.js';
import type { DeliveryOutcome } from '../delivery/index.js';
import { describeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { Runtime } from '../processing/runtime.js';
import { SigningStalledError } from '../processing/signing-pool.js';
import { SentItemsOutbox } from '../sentitems/index.js';
import type { TraceEvent } from '../trace/index.js';
import { deliverAttempt, markDelivered } from './deliver.js';
import { deleteStored } from './finish.js';
import { openMessage } from './open.js';
import { mayDeliverUnsigned, failurePolicyOf } from './failure-policy.js';
import { recordTrace } from './recorder.js';
import { openSignedCopy, stageSentItems, type StageOutcome } from './sent-items.js';
import { signMessage } from './sign.js';

/** Starts the orchestration for a message; idempotent (an existing instance is success). */
export type Handover = (input: ProcessInput, options: { force?: boolean }) => Promise<'started' | 'exists'>;

export type DirectResult =
  | { outcome: 'delivered' }
  | { outcome: 'missing' }
  | { outcome: 'handed-over'; reason: HandoverReason; start: 'started' | 'exists' };

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

/**
 * The cheap path, run by the queue trigger: the steps of `src/message/` once — open `inbound/<id>`
 * (content and metadata in one request), sign, deliver over a pooled connection, and delete the
 * stored copy after the endpoint's 250 for every recipient — no orchestration, no signed copy, no
 * delivery state, one trace write shared with the messages finishing at the same time. For a
 * tenant with the Sent Items update on, the signed message is then staged for the sender's Sent
 * Items (one bounded write that never fails the message). Anything else (a temporary or partial
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
    const rt = this.rt;
    const log = rt.logger.child({ messageId: id, step: 'direct' });
    if (claim.replay) {
      return this.handOver(handover, { id, reason: 'replay', tenantId: claim.tenantId }, log, [], true);
    }
    if (attempt.dequeueCount > 1) return this.redelivered(claim, attempt.dequeueCount, handover, log);

    const opened = await openMessage(rt, id);
    if (!opened.outcome) {
      log.info('claim-check for a message that is no longer stored; nothing to do');
      return { outcome: 'missing' };
    }
    const { meta, tenant, source } = opened.outcome;
    const sender = meta.envelope.mailFrom;
    const events: TraceEvent[] = opened.events;
    if (!tenant) {
      source.destroy();
      log.warn({ tenant: meta.tenantId }, 'tenant not configured; the orchestration waits for it');
      const input = { id, reason: 'temporary-failure' as const, tenantId: meta.tenantId, sender };
      return this.handOver(handover, input, log, events);
    }
    const policy = failurePolicyOf(tenant);
    const base = { id, tenantId: meta.tenantId, sender, policy };

    // A large message is signed into `signed/<id>` and streamed from there: memory stays bounded.
    const large = meta.size > rt.settings.processing.directMaxBytes;
    let signed: Awaited<ReturnType<typeof signMessage>>;
    try {
      signed = await signMessage(rt, opened.outcome, large ? 'blob' : 'memory', log);
    } catch (err) {
      // A blob read, upload or signature lookup that hung: temporary, and nothing went out. The
      // orchestration signs again now, rather than the queue after a lease, and the trace says why.
      if (!(err instanceof SigningStalledError)) throw err;
      log.warn({ err: err.message }, 'signing stalled');
      return this.handOver(handover, { ...base, reason: 'sign-stalled' }, log, events);
    }
    events.push(...signed.events);
    const { signing, chunks, internetMessageId } = signed.outcome;
    if (signing.action === 'failed' && !mayDeliverUnsigned(policy)) {
      const input = { ...base, reason: 'sign-failed' as const, firstAttempt: { signing } };
      return this.handOver(handover, input, log, events);
    }

    const isSigned = signing.action === 'signed';
    const signedCopy = large && isSigned;
    let message: Readable | Buffer | undefined = chunks?.[0];
    if (!message) {
      const reopened = await rt.store.openWithMeta(id, signedCopy ? 'signed' : 'inbound');
      if (!reopened && signedCopy) throw new Error(`signed/${id} vanished after it was written`);
      message = reopened?.stream;
    }
    if (!message) {
      log.warn('the stored message vanished while it was being signed');
      return { outcome: 'missing' };
    }
    const attempted = await deliverAttempt(
      rt,
      { id, tenant, mailFrom: sender, rcptTo: meta.envelope.rcptTo, signing, message },
      log,
    );
    events.push(...attempted.events);
    const next = afterAttempt(attempted.outcome);
    if (next.kind === 'handover') {
      // The orchestration signs again into its own copy; ours would be left behind.
      if (signedCopy) await rt.store.deleteSigned(id);
      const input = { ...base, reason: next.reason, firstAttempt: { signing, delivery: next.delivery } };
      return this.handOver(handover, input, log, events);
    }
    // The duplicate window: from the endpoint's 250 until this delete. A crash in between leaves the
    // blob, and the redelivered claim-check sends the message once more. The delete is retried
    // through a storage outage (the queue message stays leased meanwhile); giving up throws, the
    // claim-check comes back, and the orchestration delivers once more.
    // A large signed copy to be staged for Sent Items outlives the delete by that one step.
    const sentItems = isSigned && SentItemsOutbox.wants(tenant);
    const keepSigned = signedCopy && sentItems;
    await deleteStored(
      rt,
      id,
      { signed: signedCopy && !keepSigned, envelopeBlob: meta.envelopeBlob === true },
      log,
      rt.settings.processing.deleteRetryMs,
    );
    // After the delete, so the duplicate window stays one round trip; the one copy held in memory
    // (or signed/<id>) is staged as it is.
    let staged: StageOutcome = 'off';
    if (sentItems) {
      staged = await stageSentItems(
        rt,
        { id, tenantId: meta.tenantId, internetMessageId },
        chunks
          ? () => Promise.resolve({ copy: { chunks }, sender, receivedAt: meta.receivedAt })
          : () => openSignedCopy(rt.store, id),
        log,
      );
    }
    if (keepSigned) await this.deleteSignedCopy(id, log);
    events.push(
      markDelivered(meta, 'direct', {
        response: attempted.outcome.response,
        recipients: attempted.outcome.accepted.length,
      }),
      { event: 'deleted' },
    );
    if (staged !== 'off') events.push({ event: 'sent-items', outcome: staged });
    await recordTrace(rt, id, events, sender);
    return { outcome: 'delivered' };
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
      ...(tenant ? { policy: failurePolicyOf(tenant) } : {}),
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
    await recordTrace(this.rt, input.id, events, input.sender);
    log.info({ reason: input.reason, start }, 'handed over to the orchestration');
    return { outcome: 'handed-over', reason: input.reason, start };
  }
}
