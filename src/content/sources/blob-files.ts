import type { ContainerClient } from '@azure/storage-blob';
import { RestError } from '@azure/storage-blob';
import type { WritableConfigFiles } from './config-files.js';

/** The files of the root or of a tenant folder (`tenants/fabrikam/rules.json`); not `.sync/` bookkeeping. */
const configBlob =
  /^(?:[a-z0-9][a-z0-9_-]*\/)*(?:(?:tenants|users|rules)\.json|(?:templates|images)\/[^/]+)$/;

/**
 * The configuration directory in Azure: the Blob container `config` with the same layout as the
 * local directory. Change detection lists the container once and compares ETags, so a reload check
 * costs one request however many files there are.
 */
export class BlobFiles implements WritableConfigFiles {
  private readonly container: ContainerClient;

  constructor(container: ContainerClient) {
    this.container = container;
  }

  label(name: string): string {
    return `${this.container.containerName}/${name}`;
  }

  async read(name: string): Promise<Buffer | undefined> {
    try {
      return await this.container.getBlockBlobClient(name).downloadToBuffer();
    } catch (err) {
      if (err instanceof RestError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  async list(folder: string): Promise<string[]> {
    const names: string[] = [];
    for await (const item of this.container.listBlobsByHierarchy('/', { prefix: `${folder}/` })) {
      if (item.kind === 'blob') names.push(item.name);
    }
    return names.sort();
  }

  async fingerprint(): Promise<string> {
    const parts: string[] = [];
    for await (const blob of this.container.listBlobsFlat()) {
      // Bookkeeping blobs (the directory sync's delta state) change on every run and are not config.
      if (configBlob.test(blob.name)) parts.push(`${blob.name}:${blob.properties.etag}`);
    }
    return parts.sort().join('|');
  }

  async write(name: string, content: string | Buffer): Promise<void> {
    const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    await this.container.getBlockBlobClient(name).uploadData(body, {
      blobHTTPHeaders: { blobContentType: name.endsWith('.json') ? 'application/json' : undefined },
    });
  }
}
