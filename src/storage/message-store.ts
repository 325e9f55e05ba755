import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlockBlobClient, ContainerClient } from '@azure/storage-blob';
import { toError } from '../errors/index.js';
import {
  fromMetadata,
  inlineRecipients,
  recipientsInBlob,
  toMetadata,
  type Envelope,
  type MessageMeta,
  type MessageMetaInput,
} from './blob-metadata.js';
import { names, type StorageClients } from './clients.js';

export type { Envelope, MessageMeta, MessageMetaInput };

/** Blob metadata is limited to 8 KB in all; a longer recipient list goes to the `envelopes` container. */
const inlineRecipientsLimit = 4096;
const blockSize = 4 * 1024 * 1024;
const maxStagedInFlight = 3;

/**
 * Raw messages in Blob Storage: `inbound/<id>` as received, `signed/<id>` after signing. Writes
 * stream in 4 MiB blocks and commit with the metadata at the end (size and SHA-256 are only known
 * then); a message smaller than one block is a single PUT. Nothing is visible under the name until
 * the commit, so an interrupted write never leaves a half message for the functions to pick up.
 */
export class MessageStore {
  constructor(private readonly clients: StorageClients) {}

  get inbound(): ContainerClient {
    return this.clients.inbound;
  }

  /** Streams `source` into `inbound/<id>`; resolves with size and SHA-256 once committed. */
  async writeInbound(
    source: Readable,
    meta: MessageMetaInput,
    options: { abort?: AbortSignal; beforeCommit?: () => Promise<void> } = {},
  ): Promise<MessageMeta> {
    const { abort, beforeCommit } = options;
    const recipientsJson = JSON.stringify(meta.envelope.rcptTo);
    const overflow = encodeURIComponent(recipientsJson).length > inlineRecipientsLimit;
    if (overflow) {
      await this.clients.envelopes
        .getBlockBlobClient(`${meta.id}.json`)
        .upload(recipientsJson, Buffer.byteLength(recipientsJson), { abortSignal: abort });
    }
    const blob = this.clients.inbound.getBlockBlobClient(meta.id);
    try {
      const { size, sha256 } = await streamToBlockBlob(
        source,
        blob,
        async (size, sha) => {
          await beforeCommit?.();
          return toMetadata({ ...meta, size, sha256: sha }, overflow);
        },
        abort,
        this.wholeBlobWriter(names.inboundContainer, meta.id, abort),
      );
      return { ...meta, size, sha256 };
    } catch (err) {
      if (overflow) await this.clients.envelopes.deleteBlob(`${meta.id}.json`).catch(() => undefined);
      throw err;
    }
  }

  /** Reads the stored facts of `inbound/<id>`; undefined when the blob does not exist. */
  async readMeta(id: string): Promise<MessageMeta | undefined> {
    try {
      const props = await this.clients.inbound.getBlobClient(id).getProperties();
      return await this.metaOf(id, props.metadata ?? {});
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * A stream of the message and its stored facts from one request (the download response carries
   * the metadata), or undefined when the blob does not exist. One storage operation instead of two
   * matters: storage round trips are most of the per-message cost. `bytes` is this blob's length
   * (for `signed/<id>`, the signed message's; `meta.size` stays the original's).
   */
  async openWithMeta(
    id: string,
    which: 'inbound' | 'signed' = 'inbound',
  ): Promise<{ stream: Readable; meta: MessageMeta; bytes: number } | undefined> {
    const { rest } = this.clients;
    if (rest) {
      const got = await rest.getBlob(
        which === 'inbound' ? names.inboundContainer : names.signedContainer,
        id,
      );
      if (!got) return undefined;
      try {
        const meta = await this.metaOf(id, got.metadata);
        return { stream: got.stream, meta, bytes: got.contentLength };
      } catch (err) {
        got.stream.destroy();
        throw err;
      }
    }
    const container = which === 'inbound' ? this.clients.inbound : this.clients.signed;
    let response;
    try {
      response = await container.getBlobClient(id).download();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const body = response.readableStreamBody as Readable | undefined;
    if (!body) throw new Error(`blob ${which}/${id} has no body`);
    try {
      const meta = await this.metaOf(id, response.metadata ?? {});
      return { stream: body, meta, bytes: response.contentLength ?? meta.size };
    } catch (err) {
      body.destroy();
      throw err;
    }
  }

  /** Streams `source` into `signed/<id>` with the original's metadata, overwriting an earlier attempt. */
  async writeSigned(
    id: string,
    source: Readable,
    meta: MessageMeta,
  ): Promise<{ size: number; sha256: string }> {
    // Same envelope placement as the original: the recipient list stays where the front put it.
    return streamToBlockBlob(
      source,
      this.clients.signed.getBlockBlobClient(id),
      () => Promise.resolve(toMetadata(meta, meta.envelopeBlob === true)),
      undefined,
      this.wholeBlobWriter(names.signedContainer, id),
    );
  }

  /** Deletes `signed/<id>` (idempotent). */
  async deleteSigned(id: string): Promise<void> {
    await this.clients.signed.deleteBlob(id, { deleteSnapshots: 'include' }).catch(ignoreNotFound);
  }

  /**
   * Deletes every stored copy of a message. Idempotent: already-deleted copies are fine. `known`
   * skips deletions that cannot be needed (no signed copy, recipients inline) to save round trips.
   */
  async deleteAll(id: string, known: { signed?: boolean; envelopeBlob?: boolean } = {}): Promise<void> {
    await Promise.all([
      known.signed === false
        ? undefined
        : this.clients.signed.deleteBlob(id, { deleteSnapshots: 'include' }).catch(ignoreNotFound),
      known.envelopeBlob === false
        ? undefined
        : this.clients.envelopes.deleteBlob(`${id}.json`).catch(ignoreNotFound),
    ]);
    // The inbound copy goes last: while it exists, the sweeper can still find and finish the message.
    if (this.clients.rest) await this.clients.rest.deleteBlob(names.inboundContainer, id);
    else await this.clients.inbound.deleteBlob(id, { deleteSnapshots: 'include' }).catch(ignoreNotFound);
  }

  /** The single-request write of a message that fits in one block: the lean client's, where there is one. */
  private wholeBlobWriter(container: string, name: string, abort?: AbortSignal): WholeBlobWriter | undefined {
    const { rest } = this.clients;
    return rest ? (data, metadata) => rest.putBlob(container, name, data, metadata, abort) : undefined;
  }

  private async metaOf(id: string, md: Record<string, string>): Promise<MessageMeta> {
    let rcptTo: string[];
    if (recipientsInBlob(md)) {
      const buf = await this.clients.envelopes.getBlobClient(`${id}.json`).downloadToBuffer();
      rcptTo = JSON.parse(buf.toString('utf8')) as string[];
    } else {
      rcptTo = inlineRecipients(md);
    }
    return fromMetadata(id, md, rcptTo);
  }
}

/** Writes a whole blob with its metadata in one request. */
type WholeBlobWriter = (data: Buffer, metadata: Record<string, string>) => Promise<void>;

/**
 * Streams into a block blob: one PUT when everything fits in one block, else staged blocks (a few in
 * flight, so memory stays at a few blocks) and a final commit carrying the metadata.
 */
async function streamToBlockBlob(
  source: Readable,
  blob: BlockBlobClient,
  /** Called once the source has ended, before anything becomes visible; may throw to abandon the write. */
  metadataFor: (size: number, sha256: string) => Promise<Record<string, string>>,
  abortSignal?: AbortSignal,
  whole?: WholeBlobWriter,
): Promise<{ size: number; sha256: string }> {
  const hash = crypto.createHash('sha256');
  let size = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const blockIds: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  const stage = async (data: Buffer) => {
    const blockId = Buffer.from(String(blockIds.length).padStart(8, '0')).toString('base64');
    blockIds.push(blockId);
    const p = blob
      .stageBlock(blockId, data, data.length, { abortSignal })
      .then(() => undefined)
      .catch((err: unknown) => {
        failure ??= err;
      });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= maxStagedInFlight) await Promise.race(inFlight);
  };

  for await (const chunk of source as AsyncIterable<Buffer>) {
    if (failure) break;
    hash.update(chunk);
    size += chunk.length;
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= blockSize) {
      const data = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      await stage(data);
    }
  }
  if (failure) {
    // Keep reading so the SMTP client is not left hanging; the bytes go nowhere.
    source.resume();
    throw toError(failure);
  }
  const sha256 = hash.digest('hex');
  const metadata = await metadataFor(size, sha256);
  if (blockIds.length === 0) {
    const data = Buffer.concat(pending, pendingBytes);
    if (whole) await whole(data, metadata);
    else await blob.upload(data, data.length, { metadata, abortSignal });
    return { size, sha256 };
  }
  if (pendingBytes > 0) await stage(Buffer.concat(pending, pendingBytes));
  await Promise.all(inFlight);
  if (failure) throw toError(failure);
  await blob.commitBlockList(blockIds, { metadata, abortSignal });
  return { size, sha256 };
}

export function isNotFound(err: unknown): boolean {
  const status = (err as { statusCode?: number } | null)?.statusCode;
  return status === 404;
}

function ignoreNotFound(err: unknown): void {
  if (!isNotFound(err)) throw err;
}
