/**
 * `npm run bench:blob-batch`: would Blob Batch pay for the inbound deletes of messages that finish
 * together? Uploads N blobs of `--size` bytes into a fresh Azurite and deletes them, once one
 * request per blob (16 in flight, as the functions' concurrent messages do) and once in batches of
 * `--batch` (the batch API's `deleteBlobs`, also 16 in flight). Prints HTTP requests, wall time and
 * Azurite's CPU ms (utime + stime from /proc/<pid>/stat) per deleted blob for each. Only Azurite's
 * side: in Azure each sub-request of a batch is billed as a transaction of its own.
 *
 * Options: --blobs N (2000) --batch N (16) --size BYTES (20000)
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Azurite } from '../src/local/azurite.js';
import { createStorageClients } from '../src/storage/index.js';
import { clockTicks, cpuTimes } from './cpu.js';

const { values } = parseArgs({
  options: {
    blobs: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '16' },
    size: { type: 'string', default: '20000' },
  },
});
const blobs = Number(values.blobs);
const batchSize = Number(values.batch);
const size = Number(values.size);
const inFlight = 16;

async function inParallel(jobs: (() => Promise<unknown>)[], width: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) await jobs[next++]?.();
    }),
  );
}

async function main(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-blob-batch-'));
  const azurite = new Azurite({ location: path.join(dir, 'azurite') });
  const ticks = clockTicks();
  try {
    await azurite.start();
    const clients = createStorageClients({ connectionString: azurite.connectionString });
    const container = clients.blobs.getContainerClient('batchbench');
    await container.createIfNotExists();
    const body = Buffer.alloc(size, 97);
    const azuriteMs = () => cpuTimes({ azurite: azurite.pid }, ticks).azurite ?? 0;

    const measure = async (label: string, remove: (names: string[]) => Promise<number>) => {
      const names = Array.from({ length: blobs }, (_, i) => `${label}-${i}`);
      await inParallel(
        names.map((n) => () => container.getBlockBlobClient(n).upload(body, body.length)),
        inFlight,
      );
      const cpu = azuriteMs();
      const started = Date.now();
      const requests = await remove(names);
      const wallMs = Date.now() - started;
      const cpuMs = azuriteMs() - cpu;
      let left = 0;
      for await (const _ of container.listBlobsFlat({ prefix: `${label}-` })) left++;
      if (left > 0) throw new Error(`${label}: ${left} blobs were not deleted`);
      console.log(
        `${label.padEnd(12)} ${String(requests).padStart(5)} requests, ${(wallMs / blobs).toFixed(2)} ms wall and ${(cpuMs / blobs).toFixed(2)} Azurite CPU ms per blob`,
      );
    };

    await measure('one-by-one', async (names) => {
      await inParallel(
        names.map((n) => () => container.deleteBlob(n)),
        inFlight,
      );
      return names.length;
    });
    const batches = container.getBlobBatchClient();
    await measure(`batch-of-${batchSize}`, async (names) => {
      const groups: string[][] = [];
      for (let i = 0; i < names.length; i += batchSize) groups.push(names.slice(i, i + batchSize));
      await inParallel(
        groups.map((g) => async () => {
          const res = await batches.deleteBlobs(g.map((n) => container.getBlobClient(n)));
          if (res.subResponsesFailedCount > 0)
            throw new Error(`${res.subResponsesFailedCount} deletes of a batch failed`);
        }),
        inFlight,
      );
      return groups.length;
    });
  } finally {
    await azurite.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

await main();
