import type { TokenCredential } from '@azure/identity';
import type { ContainerClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
import { simpleParser, type Attachment } from 'mailparser';
import type { Tenant, TenantDirectory } from '../config/index.js';
import { GraphClient, GraphError } from '../content/graph/index.js';
import { describeError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import { isNotFound } from '../storage/index.js';
import { telemetry } from '../telemetry/index.js';
import {
  Mailbox,
  copyOfProperty,
  copyStateProperty,
  markerOf,
  type MailItem,
  type NewAttachment,
} from './graph-mailbox.js';
import { decodeSentItemsJob, encodeSentItemsJob, stagedBlobName, type SentItemsJob } from './job.js';

/** What became of one job: the words the logs and tests use. */
export type SentItemsOutcome = 'replaced' | 'retry-later' | 'gave-up' | 'already-done' | 'off';

export interface SentItemsWorkerOptions {
  container: ContainerClient;
  queue: QueueClient;
  tenants: () => Promise<TenantDirectory> | TenantDirectory;
  credentialFor: (tenant: Tenant) => Promise<TokenCredential>;
  graphUrl?: string;
  logger?: Logger;
  now?: () => number;
  /** Graph's in-call retries sleep through throttling waits up to this long; longer ones re-queue. */
  maxInCallWaitMs?: number;
  /** The first wait before looking again for an original not there yet (`retryDelaySeconds`). */
  firstRetrySeconds?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Waits before looking again for an original not in Sent Items yet: 30 s, 1 min, 2 min … 15 min. */
export function retryDelaySeconds(attempt: number, firstSeconds = 30): number {
  return Math.min(900, firstSeconds * 2 ** attempt);
}

/**
 * Replaces the sender's Sent Items copy with the signed message. Every step can run twice and the
 * mailbox still ends with exactly one copy: our copy carries a marker (`SigrelayCopyOf` = message id,
 * `SigrelayCopyState` pending → done), so a retry finds it, finishes or replaces a half-made one,
 * and deletes the original only once ours is complete. Throttling and an original not saved yet are
 * retried with a re-queued job until the tenant's `giveUpAfterMinutes`; then the staged copy is
 * deleted and the Sent Items copy stays unsigned. Delivery is never involved.
 */
export class SentItemsWorker {
  private readonly options: SentItemsWorkerOptions;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(options: SentItemsWorkerOptions) {
    this.options = options;
    this.log = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
  }

  /** One job off the `sentitems` queue; rejects (for the host to retry) only when storage failed. */
  async handle(message: unknown): Promise<SentItemsOutcome> {
    const job = decodeSentItemsJob(message);
    const outcome = await this.run(job);
    telemetry.sentItems({ outcome, tenantId: job.tenantId });
    return outcome;
  }

  private async run(job: SentItemsJob): Promise<SentItemsOutcome> {
    const log = this.log.child({ messageId: job.messageId, tenantId: job.tenantId, attempt: job.attempt });
    const tenant = (await this.options.tenants()).byTenantId(job.tenantId);
    const settings = tenant?.sentItems;
    if (!tenant || !settings?.enabled) {
      await this.dropStaged(job);
      log.info('sent items update is off for this tenant; staged copy dropped');
      return 'off';
    }
    const deadline = Date.parse(job.receivedAt) + settings.giveUpAfterMinutes * 60_000;
    if (this.now() >= deadline) return this.giveUp(job, log, 'deadline passed');

    const signed = await this.readStaged(job);
    if (!signed) {
      log.info('no staged copy: an earlier run finished this message');
      return 'already-done';
    }
    try {
      const credential = await this.options.credentialFor(tenant);
      const graph = new GraphClient({
        credential,
        baseUrl: this.options.graphUrl,
        maxWaitMs: this.options.maxInCallWaitMs ?? 30_000,
        maxAttempts: 3,
        sleep: this.options.sleep,
        signal: AbortSignal.timeout(Math.max(1000, Math.min(300_000, deadline - this.now()))),
      });
      const outcome = await this.replace(new Mailbox(graph, job.mailbox), job, signed);
      if (outcome === 'not-there-yet') {
        log.info('original not in Sent Items yet');
        return this.retryLater(job, this.retryDelay(job.attempt), deadline, log);
      }
      await this.dropStaged(job);
      log.info({ outcome }, 'sent items copy replaced with the signed message');
      return 'replaced';
    } catch (err) {
      if (err instanceof GraphError && err.transient) {
        const wait = Math.ceil((err.retryAfterMs ?? this.retryDelay(job.attempt) * 1000) / 1000);
        log.warn({ status: err.status, waitSeconds: wait }, 'graph throttled the sent items update');
        return this.retryLater(job, wait, deadline, log);
      }
      if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
        return this.retryLater(job, this.retryDelay(job.attempt), deadline, log);
      return this.giveUp(job, log, describeError(err));
    }
  }

  private retryDelay(attempt: number): number {
    return retryDelaySeconds(attempt, this.options.firstRetrySeconds);
  }

  /** The idempotent core: find, create (or finish), then remove the original. */
  private async replace(
    mailbox: Mailbox,
    job: SentItemsJob,
    signed: Buffer,
  ): Promise<'created' | 'finished-earlier' | 'not-there-yet'> {
    const copies = await mailbox.findCopies(job.messageId);
    const done = copies.find((c) => markerOf(c, copyStateProperty) === 'done');
    // A copy left pending by an interrupted run may lack attachments: it is replaced, never kept.
    for (const copy of copies) if (copy !== done) await mailbox.delete(copy.id);

    let items: MailItem[];
    try {
      items = await mailbox.findByMessageId(job.internetMessageId);
    } catch (err) {
      // Exchange answers 404 for a mailbox or folder it has not finished provisioning: not there yet.
      if (err instanceof GraphError && err.status === 404) return 'not-there-yet';
      throw err;
    }
    const originals = items.filter((i) => markerOf(i, copyOfProperty) === undefined && i.id !== done?.id);
    if (done) {
      for (const original of originals) await mailbox.delete(original.id);
      return 'finished-earlier';
    }
    const original = originals[0];
    if (!original) return 'not-there-yet';

    const parsed = await simpleParser(signed, { keepCidLinks: true, skipTextToHtml: true });
    const body =
      typeof parsed.html === 'string'
        ? { contentType: 'html' as const, content: parsed.html }
        : { contentType: 'text' as const, content: parsed.text ?? '' };
    const copyId = await mailbox.createCopy(original, job.messageId, body);
    for (const attachment of parsed.attachments)
      await mailbox.addAttachment(copyId, toAttachment(attachment));
    await mailbox.markDone(copyId);
    for (const item of originals) await mailbox.delete(item.id);
    return 'created';
  }

  private async retryLater(
    job: SentItemsJob,
    waitSeconds: number,
    deadline: number,
    log: Logger,
  ): Promise<SentItemsOutcome> {
    if (this.now() + waitSeconds * 1000 >= deadline)
      return this.giveUp(job, log, 'would retry after the deadline');
    await this.options.queue.sendMessage(encodeSentItemsJob({ ...job, attempt: job.attempt + 1 }), {
      visibilityTimeout: Math.max(1, waitSeconds),
    });
    return 'retry-later';
  }

  private async giveUp(job: SentItemsJob, log: Logger, reason: string): Promise<SentItemsOutcome> {
    await this.dropStaged(job);
    log.warn({ reason }, 'sent items update given up; the sender keeps the unsigned Sent Items copy');
    return 'gave-up';
  }

  private async readStaged(job: SentItemsJob): Promise<Buffer | undefined> {
    try {
      return await this.options.container
        .getBlockBlobClient(stagedBlobName(job.messageId))
        .downloadToBuffer();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async dropStaged(job: SentItemsJob): Promise<void> {
    await this.options.container.getBlockBlobClient(stagedBlobName(job.messageId)).deleteIfExists();
  }
}

function toAttachment(attachment: Attachment): NewAttachment {
  const inline = attachment.related === true || attachment.contentDisposition === 'inline';
  return {
    name: attachment.filename ?? (attachment.contentType === 'message/rfc822' ? 'message.eml' : 'attachment'),
    contentType: attachment.contentType,
    content: attachment.content,
    contentId: attachment.contentId?.replace(/^<|>$/g, ''),
    isInline: inline && attachment.contentId !== undefined,
  };
}
