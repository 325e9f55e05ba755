import fs from 'node:fs/promises';
import path from 'node:path';
import { RestError, type ContainerClient } from '@azure/storage-blob';
import { BlobFiles, DirectoryFiles, type ConfigFiles } from '../content/index.js';
import { isNotFound } from '../storage/index.js';

/** A file as stored, with the storage's own version tag (a blob ETag, or the content itself locally). */
export interface StoredFile {
  content: Buffer;
  tag: string;
}

/** Thrown when the storage saw another write between our read and our write. */
export class StoreConflict extends Error {
  override readonly name = 'StoreConflict';
}

/**
 * Where the console reads and writes configuration files: the configuration directory locally, the
 * Blob `config` container in Azure. `write` and `remove` take the tag `read` returned, and refuse
 * (StoreConflict) when the file changed since, so a save between two instances cannot be lost.
 */
export interface EditableStore {
  readonly source: 'directory' | 'blob';
  readonly location: string;
  /** The same files as the loaders read them. */
  readonly files: ConfigFiles;
  read(name: string): Promise<StoredFile | undefined>;
  /** `expected`: the tag read before, or null when the file must not exist yet. */
  write(name: string, content: Buffer, expected: string | null): Promise<void>;
  remove(name: string, expected: string): Promise<void>;
  /** Every file (relative names), dot-folders excluded. */
  listAll(): Promise<{ name: string; size: number }[]>;
}

export class DirectoryStore implements EditableStore {
  readonly source = 'directory' as const;
  readonly files: DirectoryFiles;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly location: string) {
    this.files = new DirectoryFiles(location);
  }

  async read(name: string): Promise<StoredFile | undefined> {
    const content = await this.files.read(name);
    return content && { content, tag: content.toString('base64') };
  }

  /** One process owns a local directory; writes go one at a time so the check and the write are one step. */
  write(name: string, content: Buffer, expected: string | null): Promise<void> {
    return this.serial(async () => {
      const current = await this.read(name);
      if ((current?.tag ?? null) !== expected) throw new StoreConflict(name);
      await this.files.write(name, content);
    });
  }

  remove(name: string, expected: string): Promise<void> {
    return this.serial(async () => {
      const current = await this.read(name);
      if (current?.tag !== expected) throw new StoreConflict(name);
      await fs.rm(this.files.label(name));
    });
  }

  async listAll(): Promise<{ name: string; size: number }[]> {
    const out: { name: string; size: number }[] = [];
    const walk = async (folder: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(path.join(this.files.root, folder), { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const entry of entries) {
        if (entry.name.startsWith('.') || entry.name.endsWith('.tmp')) continue;
        const name = folder ? `${folder}/${entry.name}` : entry.name;
        if (entry.isDirectory()) await walk(name);
        else if (entry.isFile()) out.push({ name, size: (await fs.stat(this.files.label(name))).size });
      }
    };
    await walk('');
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  private serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job, job);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

export class BlobStore implements EditableStore {
  readonly source = 'blob' as const;
  readonly files: BlobFiles;
  readonly location: string;

  constructor(private readonly container: ContainerClient) {
    this.files = new BlobFiles(container);
    this.location = container.containerName;
  }

  async read(name: string): Promise<StoredFile | undefined> {
    try {
      const blob = this.container.getBlobClient(name);
      const response = await blob.download();
      const chunks: Buffer[] = [];
      for await (const chunk of response.readableStreamBody as AsyncIterable<Buffer>) chunks.push(chunk);
      return { content: Buffer.concat(chunks), tag: response.etag ?? '' };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async write(name: string, content: Buffer, expected: string | null): Promise<void> {
    try {
      await this.container.getBlockBlobClient(name).uploadData(content, {
        conditions: expected === null ? { ifNoneMatch: '*' } : { ifMatch: expected },
        blobHTTPHeaders: { blobContentType: contentTypeOf(name) },
      });
    } catch (err) {
      if (isConditionFailure(err)) throw new StoreConflict(name);
      throw err;
    }
  }

  async remove(name: string, expected: string): Promise<void> {
    try {
      await this.container.deleteBlob(name, { conditions: { ifMatch: expected } });
    } catch (err) {
      if (isConditionFailure(err) || isNotFound(err)) throw new StoreConflict(name);
      throw err;
    }
  }

  async listAll(): Promise<{ name: string; size: number }[]> {
    const out: { name: string; size: number }[] = [];
    for await (const blob of this.container.listBlobsFlat()) {
      if (blob.name.split('/').some((part) => part.startsWith('.'))) continue;
      out.push({ name: blob.name, size: blob.properties.contentLength ?? 0 });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }
}

function isConditionFailure(err: unknown): boolean {
  return err instanceof RestError && (err.statusCode === 412 || err.statusCode === 409);
}

function contentTypeOf(name: string): string | undefined {
  if (name.endsWith('.json')) return 'application/json';
  if (name.endsWith('.html')) return 'text/html; charset=utf-8';
  if (name.endsWith('.txt')) return 'text/plain; charset=utf-8';
  return undefined;
}
