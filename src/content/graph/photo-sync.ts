import crypto from 'node:crypto';
import sharp from 'sharp';
import { graphPhotoSizes } from '../../config/index.js';
import type { WritableConfigFiles } from '../sources/config-files.js';
import type { GraphClient } from './graph-client.js';

/** Beside the tenant's delta link: when each user's photo was last checked and what was stored. */
export const photoStateFile = '.sync/photos.json';

/** Photos checked per run at most, so a large tenant's first run stays within its timeout. */
export const photosPerRun = 1000;

const concurrency = 4;

interface PhotoEntry {
  checkedAt: number;
  /** The stored file, or null when the user has no photo. */
  file: string | null;
}

export interface PhotoOptions {
  graph: GraphClient;
  /** The tenant folder the state lives in. */
  state: WritableConfigFiles;
  /** The photo store; files go under `<tenantId>/`. */
  photos: WritableConfigFiles;
  tenantId: string;
  size: number;
  refreshHours: number;
  now?: () => number;
}

export interface PhotoResult {
  /** User id → stored file name, for every user that has one. */
  files: Map<string, string>;
  checked: number;
  stored: number;
}

/**
 * Keeps a resized copy of each user's Entra ID photo beside the directory snapshot, so signing never
 * asks Graph. Graph's nearest stored size not below the wanted one is fetched, cropped square and
 * resized with sharp, and stored as `<user id>-<hash>.jpg`: a changed photo gets a new name, which
 * changes users.json and so reloads the services. A user without a photo (404) gets none.
 */
export async function syncPhotos(userIds: readonly string[], options: PhotoOptions): Promise<PhotoResult> {
  const now = options.now ?? Date.now;
  const state = await readPhotoState(options.state);
  const due = userIds
    .filter((id) => now() - (state[id]?.checkedAt ?? 0) >= options.refreshHours * 3_600_000)
    .slice(0, photosPerRun);
  const graphSize =
    graphPhotoSizes.find((s) => s >= options.size) ?? graphPhotoSizes[graphPhotoSizes.length - 1];
  let stored = 0;

  const queue = [...due];
  const worker = async (): Promise<void> => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      const original = await options.graph.bytes(
        `/users/${encodeURIComponent(id)}/photos/${graphSize}x${graphSize}/$value`,
      );
      let file: string | null = null;
      if (original) {
        const resized = await sharp(original)
          .resize(options.size, options.size, { fit: 'cover' })
          .jpeg({ quality: 85 })
          .toBuffer();
        file = `${id}-${crypto.createHash('sha256').update(resized).digest('hex').slice(0, 8)}.jpg`;
        if (file !== state[id]?.file) {
          await options.photos.write(`${options.tenantId}/${file}`, resized);
          stored++;
        }
      }
      state[id] = { checkedAt: now(), file };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));

  const known = new Set(userIds);
  for (const id of Object.keys(state)) if (!known.has(id)) delete state[id];
  await options.state.write(photoStateFile, `${JSON.stringify(state)}\n`);

  const files = new Map<string, string>();
  for (const [id, entry] of Object.entries(state)) if (entry.file) files.set(id, entry.file);
  return { files, checked: due.length, stored };
}

async function readPhotoState(files: WritableConfigFiles): Promise<Record<string, PhotoEntry>> {
  const content = await files.read(photoStateFile);
  if (!content) return {};
  const parsed = JSON.parse(content.toString('utf8')) as unknown;
  return parsed && typeof parsed === 'object' ? (parsed as Record<string, PhotoEntry>) : {};
}
