/**
 * How far over a per-sender limit several front replicas can go between two syncs: N real
 * SenderRateLimiter instances on one real Azurite table, one sender's messages dealt round-robin
 * to them, each replica syncing every I seconds (staggered by I/N, as independent processes are).
 * Time is virtual (the limiters' window clock), so a run is exact and repeatable; every sync is a
 * real write + read-back against Azurite while virtual time stands still, i.e. syncs are taken as
 * instantaneous (in Azure a sync's own round trip adds to the interval).
 *
 * Prints a Markdown table for docs/front-door.md. Run with `npm run bench:ratelimit`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Azurite } from '../src/local/azurite.js';
import { SenderRateLimiter, type SenderLimits } from '../src/ratelimit/index.js';
import { createStorageClients, ensureStorage, names } from '../src/storage/index.js';

interface Scenario {
  replicas: number;
  syncS: number;
  /** Messages per second offered by the sender, across all replicas; Infinity = all at once. */
  rate: number;
  limits: SenderLimits;
  durationS: number;
}

const perMinute = { perMinute: 30, perDay: 10_000 };
const perDay = { perMinute: 1_000_000_000, perDay: 10_000 };

const scenarios: Scenario[] = [
  ...[0.5, 1, 3, 10, 100, Infinity].map((rate) => ({
    replicas: 3,
    syncS: 2,
    rate,
    limits: perMinute,
    durationS: 180,
  })),
  ...[1, 3, 10].map((rate) => ({ replicas: 3, syncS: 5, rate, limits: perMinute, durationS: 180 })),
  ...[1, 3, 10].map((rate) => ({ replicas: 1, syncS: 2, rate, limits: perMinute, durationS: 180 })),
  { replicas: 3, syncS: 2, rate: 20, limits: perDay, durationS: 600 },
  { replicas: 3, syncS: 2, rate: 100, limits: perDay, durationS: 150 },
  { replicas: 3, syncS: 5, rate: 100, limits: perDay, durationS: 150 },
];

const t0 = Date.parse('2026-03-02T10:00:00Z');

async function run(table: ReturnType<ReturnType<typeof createStorageClients>['table']>, s: Scenario) {
  const tenant = crypto.randomUUID();
  let now = t0;
  const replicas = Array.from({ length: s.replicas }, () => new SenderRateLimiter(table, { now: () => now }));
  const syncMs = s.syncS * 1000;
  const nextSync = replicas.map((_, i) => t0 + (i * syncMs) / s.replicas + syncMs);
  const burst = !Number.isFinite(s.rate);
  const count = burst ? 3 * s.limits.perMinute * s.replicas : Math.floor(s.rate * s.durationS);
  const perMinuteAccepted = new Map<number, number>();
  let accepted = 0;
  for (let j = 0; j < count; j++) {
    const at = burst ? t0 : t0 + (j * 1000) / s.rate;
    for (;;) {
      const dueAt = Math.min(...nextSync);
      const due = nextSync.indexOf(dueAt);
      if (dueAt > at) break;
      now = dueAt;
      await replicas[due]?.sync();
      nextSync[due] = dueAt + syncMs;
    }
    now = at;
    const verdict = await replicas[j % s.replicas]?.consume(tenant, 'sender@tailspin.com', s.limits);
    if (verdict?.ok) {
      accepted++;
      const minute = Math.floor((at - t0) / 60_000);
      perMinuteAccepted.set(minute, (perMinuteAccepted.get(minute) ?? 0) + 1);
    }
  }
  const worstMinute = Math.max(...perMinuteAccepted.values());
  return { accepted, worstMinute, offered: count };
}

function bound(s: Scenario, limit: number): number {
  // Each replica knows its own count exactly and the others' as of at most 2 intervals ago (their
  // write, then its read): over the limit by at most what the others take in 2 intervals.
  const others = s.replicas - 1;
  if (!Number.isFinite(s.rate)) return limit + others * limit;
  return Math.min(limit + others * limit, Math.floor(limit + (others / s.replicas) * s.rate * 2 * s.syncS));
}

async function main(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-ratelimit-bench-'));
  const azurite = new Azurite({ location: dir });
  await azurite.start();
  try {
    const storage = createStorageClients({ connectionString: azurite.connectionString });
    await ensureStorage(storage);
    const table = storage.table(names.limitsTable);
    console.log('| replicas | sync | sender offers | limit | accepted (worst window) | over | bound |');
    console.log('| -------: | ---: | ------------: | ----: | ----------------------: | ---: | ----: |');
    for (const s of scenarios) {
      const r = await run(table, s);
      const day = s.limits.perMinute > 1_000_000;
      const limit = day ? s.limits.perDay : s.limits.perMinute;
      const got = day ? r.accepted : r.worstMinute;
      const offer = Number.isFinite(s.rate) ? `${s.rate}/s` : `${r.offered} at once`;
      const over = got - limit;
      console.log(
        `| ${s.replicas} | ${s.syncS} s | ${offer} | ${limit}/${day ? '24 h' : 'min'} | ${got} | ${over > 0 ? `+${over} (${Math.round((100 * over) / limit)} %)` : '0'} | ${bound(s, limit)} |`,
      );
    }
  } finally {
    await azurite.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

await main();
