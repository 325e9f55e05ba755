import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Azurite } from '../../src/local/azurite.js';
import { maxBatch, rowKeyOf, SenderRateLimiter, type RateLimiterOptions } from '../../src/ratelimit/index.js';
import { names, type StorageClients } from '../../src/storage/index.js';
import { countingTable } from '../helpers/counting-table.js';
import { startStorage } from '../helpers/front-harness.js';

let storage: StorageClients;
let connectionString: string;
let azurite: Azurite;
let dispose: () => Promise<void>;

before(async () => {
  ({ storage, connectionString, azurite, dispose } = await startStorage());
});

after(async () => {
  await dispose();
});

const limits = { perMinute: 3, perDay: 5 };
const t0 = Date.parse('2026-03-02T10:00:05Z');
/** Each test counts in its own tenant (partition), so tests never see each other's senders. */
const newTenant = () => crypto.randomUUID();

function replica(options: RateLimiterOptions = {}): SenderRateLimiter {
  return new SenderRateLimiter(storage.table(names.limitsTable), { now: () => t0, ...options });
}

async function consumeTimes(limiter: SenderRateLimiter, tenant: string, sender: string, n: number) {
  for (let i = 0; i < n; i++) assert.equal((await limiter.consume(tenant, sender, limits)).ok, true);
}

describe('shared counts between replicas', () => {
  test('what one replica counted reaches another once both have synced', async () => {
    const tenant = newTenant();
    const a = replica();
    const b = replica();
    await consumeTimes(a, tenant, 'ann@tailspin.com', 2);
    assert.deepEqual(await b.check(tenant, 'ann@tailspin.com', limits), { ok: true, minute: 0, day: 0 });
    await a.sync();
    await b.sync();
    assert.deepEqual(await b.consume(tenant, 'ann@tailspin.com', limits), { ok: true, minute: 3, day: 3 });
    const refused = await b.check(tenant, 'ann@tailspin.com', limits);
    assert.deepEqual(refused, { ok: false, window: 'minute', count: 3, limit: 3 });
    await b.sync();
    await a.sync();
    assert.equal((await a.check(tenant, 'ann@tailspin.com', limits)).ok, false, 'and back the other way');
  });

  test('a replica that never saw a sender starts from its shared count, with one read', async () => {
    const tenant = newTenant();
    const a = replica();
    await consumeTimes(a, tenant, 'ann@tailspin.com', 3);
    await a.sync();
    const counted = countingTable(connectionString, names.limitsTable);
    const fresh = new SenderRateLimiter(counted.table, { now: () => t0 });
    assert.equal((await fresh.check(tenant, 'ann@tailspin.com', limits)).ok, false);
    assert.equal(counted.requests.length, 1);
    assert.match(counted.requests[0] ?? '', /^GET /);
  });

  test('after the first read, checking and counting make no table request at all', async () => {
    const tenant = newTenant();
    const counted = countingTable(connectionString, names.limitsTable);
    const a = new SenderRateLimiter(counted.table, { now: () => t0 });
    await a.check(tenant, 'ann@tailspin.com', { perMinute: 1000, perDay: 1000 });
    const afterFirstRead = counted.requests.length;
    for (let i = 0; i < 200; i++) {
      await a.check(tenant, 'ann@tailspin.com', { perMinute: 1000, perDay: 1000 });
      await a.consume(tenant, 'ann@tailspin.com', { perMinute: 1000, perDay: 1000 });
    }
    assert.equal(afterFirstRead, 1);
    assert.deepEqual(counted.requests.slice(afterFirstRead), []);
  });

  test(`a sync writes only senders counted since the last one, ${maxBatch} per transaction`, async () => {
    const tenant = newTenant();
    const counted = countingTable(connectionString, names.limitsTable);
    const a = new SenderRateLimiter(counted.table, { now: () => t0 });
    const senders = Array.from({ length: maxBatch + 50 }, (_, i) => `user${i}@tailspin.com`);
    for (const s of senders) await consumeTimes(a, tenant, s, 1);
    counted.requests.length = 0;
    const first = await a.sync();
    assert.equal(first.written, senders.length);
    assert.equal(first.failed, 0);
    const batches = counted.requests.filter((r) => r.endsWith('/$batch'));
    assert.equal(batches.length, 2, counted.requests.join('\n'));
    counted.requests.length = 0;
    await consumeTimes(a, tenant, 'user7@tailspin.com', 1);
    const second = await a.sync();
    assert.equal(second.written, 1, 'only the sender counted since');
    counted.requests.length = 0;
    assert.equal((await a.sync()).written, 0);
    assert.equal(counted.requests.filter((r) => r.endsWith('/$batch')).length, 0, 'nothing to write');
  });

  test('syncing twice counts nothing twice: a replica writes its absolute counts', async () => {
    const tenant = newTenant();
    const a = replica();
    await consumeTimes(a, tenant, 'ann@tailspin.com', 2);
    await a.sync();
    await consumeTimes(a, tenant, 'ann@tailspin.com', 1);
    await a.sync();
    await a.sync();
    const fresh = replica();
    assert.deepEqual(await fresh.check(tenant, 'ann@tailspin.com', { perMinute: 10, perDay: 10 }), {
      ok: true,
      minute: 3,
      day: 3,
    });
  });

  test('each replica writes only its own property of the sender entity', async () => {
    const tenant = newTenant();
    const a = replica();
    const b = replica();
    await consumeTimes(a, tenant, 'ann@tailspin.com', 2);
    await consumeTimes(b, tenant, 'ann@tailspin.com', 1);
    await Promise.all([a.sync(), b.sync()]);
    const entity = await storage
      .table(names.limitsTable)
      .getEntity<Record<string, unknown>>(tenant, rowKeyOf('ann@tailspin.com'));
    assert.deepEqual(JSON.parse(String(entity[a.field])), {
      minute: '202603021000',
      minuteCount: 2,
      hours: { '2026030210': 2 },
    });
    assert.deepEqual(JSON.parse(String(entity[b.field])), {
      minute: '202603021000',
      minuteCount: 1,
      hours: { '2026030210': 1 },
    });
  });

  test('stopping a replica writes the counts it has not written yet', async () => {
    const tenant = newTenant();
    const a = replica({ syncIntervalMs: 3600_000 });
    a.start();
    await consumeTimes(a, tenant, 'ann@tailspin.com', 3);
    await a.stop();
    assert.equal((await replica().check(tenant, 'ann@tailspin.com', limits)).ok, false);
  });

  test('a sender idle past the eviction time leaves memory and comes back with its count', async () => {
    const tenant = newTenant();
    let wall = Date.now();
    const a = replica({ wallClock: () => wall, idleEvictMs: 600_000 });
    await consumeTimes(a, tenant, 'ann@tailspin.com', 2);
    await a.sync();
    assert.equal(a.size, 1);
    wall += 600_001;
    assert.equal((await a.sync()).evicted, 1);
    assert.equal(a.size, 0);
    assert.deepEqual(await a.consume(tenant, 'ann@tailspin.com', limits), { ok: true, minute: 3, day: 3 });
    assert.equal((await a.check(tenant, 'ann@tailspin.com', limits)).ok, false);
    await a.sync();
    assert.equal((await replica().check(tenant, 'ann@tailspin.com', limits)).ok, false, 'all 3 written');
  });

  test('a replica property whose counts all left the day window is removed from the table', async () => {
    const tenant = newTenant();
    const old = replica();
    await consumeTimes(old, tenant, 'ann@tailspin.com', 2);
    await old.sync();
    const dayLater = replica({ now: () => t0 + 24 * 3600_000 });
    await consumeTimes(dayLater, tenant, 'ann@tailspin.com', 1);
    await dayLater.sync();
    const entity = await storage
      .table(names.limitsTable)
      .getEntity<Record<string, unknown>>(tenant, rowKeyOf('ann@tailspin.com'));
    assert.equal(entity[old.field], undefined);
    assert.ok(entity[dayLater.field]);
  });
});

describe('table storage down', () => {
  test('messages are counted locally, never refused for it, and written once storage is back', async () => {
    const tenant = newTenant();
    const counted = countingTable(connectionString, names.limitsTable, { noRetries: true });
    const a = new SenderRateLimiter(counted.table, { now: () => t0 });
    await a.check(tenant, 'ann@tailspin.com', limits);
    await azurite.stop();
    try {
      await consumeTimes(a, tenant, 'ann@tailspin.com', 2);
      const down = await a.sync();
      assert.ok(down.failed > 0);
      assert.equal(down.written, 0);
      await consumeTimes(a, tenant, 'new@tailspin.com', 1);
      const requestsWhileDown = counted.requests.length;
      await consumeTimes(a, tenant, 'newer@tailspin.com', 3);
      assert.equal(
        counted.requests.length,
        requestsWhileDown,
        'no read waited for once storage is known down',
      );
      assert.equal((await a.check(tenant, 'newer@tailspin.com', limits)).ok, false, 'still limited locally');
    } finally {
      await azurite.start();
    }
    const back = await a.sync();
    assert.equal(back.failed, 0);
    assert.equal(back.written, 3);
    const fresh = replica();
    assert.deepEqual(await fresh.check(tenant, 'ann@tailspin.com', { perMinute: 10, perDay: 10 }), {
      ok: true,
      minute: 2,
      day: 2,
    });
    assert.equal((await fresh.check(tenant, 'newer@tailspin.com', limits)).ok, false);
  });
});
