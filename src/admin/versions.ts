import crypto from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import { isNotFound } from '../storage/index.js';
import { versionsKept, type VersionInfo } from './contract.js';
import { sha256 } from './audit.js';

const maxTime = 9_999_999_999_999;

/**
 * The last versions of each configuration file, in the Blob container `configversions`
 * (`<path>/<version>`), kept outside the configuration itself so neither the directory a person
 * edits by hand nor the `config` container's change detection sees them. Version ids count down
 * from the end of time, so a listing is newest first; only the newest `versionsKept` stay.
 */
export class VersionStore {
  constructor(
    private readonly container: ContainerClient,
    private readonly keep = versionsKept,
  ) {}

  async add(
    path: string,
    content: Buffer | undefined,
    action: VersionInfo['action'],
    by: string,
  ): Promise<VersionInfo> {
    const at = new Date();
    const version = `${String(maxTime - at.getTime()).padStart(13, '0')}-${crypto.randomBytes(3).toString('hex')}`;
    const body = content ?? Buffer.alloc(0);
    const hash = sha256(content);
    await this.container.getBlockBlobClient(`${path}/${version}`).uploadData(body, {
      metadata: {
        at: at.toISOString(),
        by: encodeURIComponent(by),
        action,
        ...(hash ? { sha256: hash } : {}),
      },
    });
    await this.prune(path);
    return {
      version,
      path,
      at: at.toISOString(),
      by,
      action,
      size: body.length,
      ...(hash ? { sha256: hash } : {}),
    };
  }

  async list(path: string): Promise<VersionInfo[]> {
    const out: VersionInfo[] = [];
    for await (const blob of this.container.listBlobsFlat({ prefix: `${path}/`, includeMetadata: true })) {
      const version = blob.name.slice(path.length + 1);
      if (version.includes('/')) continue;
      const md = blob.metadata ?? {};
      out.push({
        version,
        path,
        at: md.at ?? blob.properties.createdOn?.toISOString() ?? '',
        by: decodeURIComponent(md.by ?? ''),
        action: (md.action as VersionInfo['action'] | undefined) ?? 'save',
        size: blob.properties.contentLength ?? 0,
        ...(md.sha256 ? { sha256: md.sha256 } : {}),
      });
    }
    return out.sort((a, b) => a.version.localeCompare(b.version));
  }

  /** One version's content (undefined: no such version; an empty buffer with action delete: deleted). */
  async read(path: string, version: string): Promise<{ info: VersionInfo; content: Buffer } | undefined> {
    if (!/^\d{13}-[0-9a-f]{6}$/.test(version)) return undefined;
    const info = (await this.list(path)).find((v) => v.version === version);
    if (!info) return undefined;
    try {
      return { info, content: await this.container.getBlobClient(`${path}/${version}`).downloadToBuffer() };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async has(path: string): Promise<boolean> {
    for await (const _ of this.container.listBlobsFlat({ prefix: `${path}/` })) return true;
    return false;
  }

  private async prune(path: string): Promise<void> {
    const all = await this.list(path);
    for (const old of all.slice(this.keep))
      await this.container.deleteBlob(`${path}/${old.version}`).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
  }
}
