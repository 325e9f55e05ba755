import { Readable } from 'node:stream';
import type { ContainerClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
import type { Tenant } from '../config/index.js';
import { toError } from '../errors/index.js';
import { encodeSentItemsJob, stagedBlobName } from './job.js';

export interface SentItemsInput {
  /** sigrelay's message id (the claim-check id). */
  messageId: string;
  tenant: Tenant;
  /** The sender's mailbox: the envelope sender (MAIL FROM), whose Sent Items holds the original. */
  sender: string;
  /** The message's Message-ID header value, e.g. `<abc@EXCH.prod.outlook.com>`. */
  internetMessageId: string;
  receivedAt: string | Date;
}

/**
 * The signed message, from wherever the caller has it: the chunks the direct path signed into
 * memory (uploaded as they are, never joined into a second copy), or a stream of `signed/<id>`
 * with its size.
 */
export type SignedCopy = { chunks: readonly Buffer[] } | { stream: Readable; size: number };

/** `already-staged`: an earlier call (a retried activity) staged this message; no second job. */
export type StageResult = 'staged' | 'already-staged' | 'off' | 'no-message-id';

/** A signed copy up to this size is one PUT; a larger stream is staged in blocks of it. */
const singlePutBytes = 4 * 1024 * 1024;

export interface OutboxOptions {
  /** Outlook usually saves its Sent Items copy within seconds; the first look is this much later. */
  firstLookDelaySeconds?: number;
  /** The whole stage (blob and job) is abandoned after this long: it never holds up its caller. */
  timeoutMs?: number;
}

/**
 * Where the delivery paths hand over a delivered message whose tenant has Sent Items update on:
 * the signed copy is stored in `sentitems/<id>.eml` and a job queued; the worker does the Graph work
 * later, so delivery never waits for, or depends on, the sender's mailbox.
 *
 * Keyed by message id: the blob is created only if absent, and only the call that created it
 * queues the job, so a retried or replayed caller never makes a second job for one message.
 */
export class SentItemsOutbox {
  private readonly container: ContainerClient;
  private readonly queue: QueueClient;
  private readonly firstLookDelaySeconds: number;
  private readonly timeoutMs: number;

  constructor(
    clients: { sentItems: ContainerClient; sentItemsQueue: QueueClient },
    options: OutboxOptions = {},
  ) {
    this.container = clients.sentItems;
    this.queue = clients.sentItemsQueue;
    this.firstLookDelaySeconds = options.firstLookDelaySeconds ?? 10;
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  /** Whether a message of this tenant is staged at all: callers skip reading a copy when not. */
  static wants(tenant: Tenant): boolean {
    return tenant.sentItems?.enabled === true;
  }

  /**
   * Call after the endpoint's 250. Rejects when storage failed or the time bound passed, leaving
   * no job behind; the caller logs it and carries on (the Sent Items copy stays unsigned).
   */
  async stage(input: SentItemsInput, copy: SignedCopy): Promise<StageResult> {
    const discard = () => {
      if ('stream' in copy) copy.stream.destroy();
    };
    if (!SentItemsOutbox.wants(input.tenant)) {
      discard();
      return 'off';
    }
    const internetMessageId = input.internetMessageId.trim();
    if (!/^<[^<>\s]+>$/.test(internetMessageId)) {
      discard();
      return 'no-message-id';
    }
    const abortSignal = AbortSignal.timeout(this.timeoutMs);
    // The bound covers a source that stalls too, not only the storage requests.
    if ('stream' in copy)
      abortSignal.addEventListener('abort', () => copy.stream.destroy(toError(abortSignal.reason)), {
        once: true,
      });
    const blob = this.container.getBlockBlobClient(stagedBlobName(input.messageId));
    const options = {
      abortSignal,
      blobHTTPHeaders: { blobContentType: 'message/rfc822' },
      conditions: { ifNoneMatch: '*' },
    };
    try {
      if ('chunks' in copy) {
        const size = copy.chunks.reduce((n, c) => n + c.length, 0);
        // A factory, so that a retried request reads the chunks again.
        await blob.upload(() => Readable.from(copy.chunks), size, options);
      } else if (copy.size <= singlePutBytes) {
        const bytes = await readAll(copy.stream, copy.size);
        await blob.upload(bytes, bytes.length, options);
      } else {
        await blob.uploadStream(copy.stream, singlePutBytes, 2, options);
      }
    } catch (err) {
      discard();
      if (alreadyExists(err)) return 'already-staged';
      throw err;
    }
    const receivedAt =
      input.receivedAt instanceof Date
        ? input.receivedAt.toISOString()
        : new Date(input.receivedAt).toISOString();
    try {
      await this.queue.sendMessage(
        encodeSentItemsJob({
          v: 1,
          messageId: input.messageId,
          tenantId: input.tenant.id,
          mailbox: input.sender,
          internetMessageId,
          receivedAt,
          attempt: 0,
        }),
        { visibilityTimeout: this.firstLookDelaySeconds, abortSignal },
      );
    } catch (err) {
      // Without its job the staged copy would only block a retry from staging again.
      await blob.deleteIfExists({ abortSignal: AbortSignal.timeout(5000) }).catch(() => undefined);
      throw err;
    }
    return 'staged';
  }
}

/** 409 BlobAlreadyExists (or 412 from a conditional commit): the copy is staged already. */
function alreadyExists(err: unknown): boolean {
  const status = (err as { statusCode?: number } | null)?.statusCode;
  return status === 409 || status === 412;
}

async function readAll(stream: Readable, expected: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > expected) throw new Error(`the signed copy is longer than its stated ${expected} bytes`);
  }
  return Buffer.concat(chunks, size);
}
