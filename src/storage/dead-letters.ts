import type { Readable } from 'node:stream';
import type { DeadLetter } from '../contracts/dead-letter.js';
import { silentLogger } from '../log/index.js';
import {
  claimCheckFor,
  deadLetterMarks,
  recipientCount,
  senderOf,
  withDeadLetterMarks,
  withoutDeadLetterMarks,
} from './blob-metadata.js';
import type { StorageClients } from './clients.js';
import type { DeliveryStateTable } from './delivery-state.js';
import { MessageIntake } from './message-intake.js';
import { isNotFound, type MessageStore } from './message-store.js';

export type { DeadLetter } from '../contracts/dead-letter.js';

/**
 * The `deadletter` container: messages we gave up on, kept with their failure history until an
 * operator replays or deletes them. Replay puts the message back into `inbound` and queues it again;
 * recipients that already have it are not sent to again (the delivery record survives).
 */
export class DeadLetters {
  constructor(
    private readonly clients: StorageClients,
    private readonly store: MessageStore,
    private readonly state: DeliveryStateTable,
    /** Queues the replayed claim-check; its logger is unused here (only `accept` logs). */
    private readonly intake = new MessageIntake(store, clients.inboundQueue, silentLogger, clients.rest),
  ) {}

  /** Copies `inbound/<id>` (streamed, with its metadata) and writes `<id>.history.json` beside it. */
  async bury(id: string, reason: string, history: unknown): Promise<void> {
    const opened = await this.store.openWithMeta(id);
    if (opened) {
      const props = await this.clients.inbound.getBlobClient(id).getProperties();
      await this.clients.deadletter.getBlockBlobClient(id).uploadStream(opened.stream, 4 * 1024 * 1024, 2, {
        metadata: withDeadLetterMarks(props.metadata ?? {}, reason, new Date().toISOString()),
      });
    }
    const record = JSON.stringify({ id, reason, history, at: new Date().toISOString() }, null, 2);
    await this.clients.deadletter
      .getBlockBlobClient(`${id}.history.json`)
      .upload(record, Buffer.byteLength(record));
  }

  async list(): Promise<DeadLetter[]> {
    const out: DeadLetter[] = [];
    for await (const blob of this.clients.deadletter.listBlobsFlat({ includeMetadata: true })) {
      if (blob.name.endsWith('.history.json')) continue;
      const md = blob.metadata ?? {};
      const { reason, deadAt } = deadLetterMarks(md);
      out.push({
        id: blob.name,
        reason,
        tenantId: md.tenant ?? '',
        sender: senderOf(md),
        recipients: recipientCount(md),
        receivedAt: md.receivedat ?? '',
        deadAt,
        size: Number(md.size ?? blob.properties.contentLength ?? 0),
      });
    }
    return out.sort((a, b) => a.deadAt.localeCompare(b.deadAt));
  }

  /** The failure history written when the message was dead-lettered, or undefined. */
  async history(id: string): Promise<unknown> {
    try {
      const buf = await this.clients.deadletter.getBlobClient(`${id}.history.json`).downloadToBuffer();
      return JSON.parse(buf.toString('utf8')) as unknown;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Puts a dead letter back into the loop: `inbound/<id>` again (same id, same metadata), a fresh
   * claim-check marked as a replay, and the permanent refusals forgotten so they are tried again.
   */
  async replay(id: string): Promise<boolean> {
    return (await this.replayOnce(id)) === 'replayed';
  }

  /**
   * `replay`, safe against a second click: the dead letter is leased while it is put back, so a
   * concurrent replay of the same message finds it `in-progress`, and a later one finds it gone
   * (`not-found`) because the dead letter is deleted under that lease before the lease ends.
   */
  async replayOnce(id: string): Promise<'replayed' | 'not-found' | 'in-progress'> {
    const source = this.clients.deadletter.getBlobClient(id);
    const lease = source.getBlobLeaseClient();
    try {
      await lease.acquireLease(60);
    } catch (err) {
      if (isNotFound(err)) return 'not-found';
      if ((err as { statusCode?: number }).statusCode === 409) return 'in-progress';
      throw err;
    }
    const conditions = { leaseId: lease.leaseId };
    let props;
    try {
      props = await source.getProperties({ conditions });
    } catch (err) {
      if (isNotFound(err)) return 'not-found';
      throw err;
    }
    const metadata = withoutDeadLetterMarks(props.metadata ?? {});
    const download = await source.download(0, undefined, { conditions });
    await this.clients.inbound
      .getBlockBlobClient(id)
      .uploadStream(download.readableStreamBody as Readable, 4 * 1024 * 1024, 2, { metadata });
    const progress = await this.state.get(id);
    if (progress)
      await this.state.put(id, {
        ...progress,
        rejected: {},
        notified: [],
        updatedAt: new Date().toISOString(),
      });
    await this.intake.requeue(claimCheckFor(id, metadata, { replay: true }));
    // Deleted under the lease: once this returns, nobody can replay the same dead letter again.
    await this.clients.deadletter.deleteBlob(id, { conditions });
    await this.clients.deadletter.deleteBlob(`${id}.history.json`).catch(() => undefined);
    return 'replayed';
  }
}
