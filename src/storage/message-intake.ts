import type { Readable } from 'node:stream';
import type { QueueClient } from '@azure/storage-queue';
import { encodeClaimCheck, type ClaimCheck } from '../contracts/index.js';
import { describeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { MessageMeta, MessageMetaInput, MessageStore } from './message-store.js';
import type { StorageRest } from './rest-client.js';

export interface IntakeOptions {
  abort?: AbortSignal;
  /** Runs once the whole message has arrived, before it becomes visible; may throw to refuse it. */
  beforeCommit?: () => Promise<void>;
  /** Trace context to carry in the claim-check. */
  traceparent?: string;
}

/**
 * Taking a message in: store it, queue its claim-check, and undo the store when the enqueue fails.
 * When `accept` resolves, both are durable and the front may answer 250; when it rejects, nothing
 * the functions would pick up is left behind (or, if even the undo failed, that is logged loudly).
 * The front's DATA handler only wires streams and maps the outcome to a reply. Every claim-check
 * (a new message here, a replayed dead letter through `requeue`) is queued by this class.
 */
export class MessageIntake {
  constructor(
    private readonly store: MessageStore,
    private readonly queue: QueueClient,
    private readonly log: Logger,
    /** The lean client for the enqueue, when the storage clients have one. */
    private readonly rest?: StorageRest,
  ) {}

  async accept(source: Readable, meta: MessageMetaInput, options: IntakeOptions = {}): Promise<MessageMeta> {
    const stored = await this.store.writeInbound(source, meta, options);
    try {
      await this.requeue({
        v: 1,
        id: stored.id,
        tenantId: stored.tenantId,
        size: stored.size,
        sha256: stored.sha256,
        receivedAt: stored.receivedAt,
        ...(options.traceparent ? { traceparent: options.traceparent } : {}),
      });
    } catch (err) {
      this.log.error(
        { messageId: stored.id, err: describeError(err) },
        'queueing the claim-check failed; removing the stored copy',
      );
      await this.store.deleteAll(stored.id).catch((cleanupErr: unknown) =>
        // The sweeper would still process it, so EXO's retry could deliver twice; logged loudly so
        // an operator can see it. The caller still answers 4xx: never lose beats never duplicate.
        this.log.error(
          { messageId: stored.id, err: describeError(cleanupErr) },
          'removing the stored copy failed',
        ),
      );
      throw err;
    }
    return stored;
  }

  /** Queues a claim-check for a message already stored in `inbound/` (a dead letter put back). */
  async requeue(claim: ClaimCheck): Promise<void> {
    const encoded = encodeClaimCheck(claim);
    if (this.rest) await this.rest.putMessage(this.queue.name, encoded);
    else await this.queue.sendMessage(encoded);
  }
}
