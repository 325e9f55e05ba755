/** How the directory sync names a stored photo: `<user id>-<content hash>.jpg`, so a name never goes stale. */
export const photoFileName = /^[A-Za-z0-9_-]{1,120}\.jpg$/;

/** Where stored photos are read from: `<tenant id>/<file>` in the photo store. */
export interface PhotoFiles {
  read(name: string): Promise<Buffer | undefined>;
}

const missingTtlMs = 5 * 60_000;

/**
 * The senders' Entra ID photos the sync stored, read when a signature uses one and kept in a small
 * cache: names are content-addressed, so a cached photo is never out of date, and a missing one is
 * asked for again after a few minutes (the sync may not have written it yet).
 */
export class PhotoLibrary {
  private readonly files: PhotoFiles;
  private readonly capacity: number;
  private readonly cache = new Map<string, Buffer | number>();

  constructor(files: PhotoFiles, capacity = 500) {
    this.files = files;
    this.capacity = capacity;
  }

  async get(tenantId: string, name: string): Promise<Buffer | undefined> {
    if (!photoFileName.test(name)) return undefined;
    const key = `${tenantId}/${name}`;
    const cached = this.cache.get(key);
    if (Buffer.isBuffer(cached)) {
      // Re-inserting keeps the Map's order least-recently-used first.
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    if (typeof cached === 'number' && Date.now() < cached) return undefined;
    const content = await this.files.read(key);
    this.cache.set(key, content ?? Date.now() + missingTtlMs);
    while (this.cache.size > this.capacity) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return content;
  }
}
