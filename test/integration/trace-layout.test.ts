import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { newMessageId } from '../../src/contracts/index.js';
import { Azurite } from '../../src/local/azurite.js';
import type { StorageClients } from '../../src/storage/index.js';
import { legacyTable, MessageTrace, shardCount, tableOf } from '../../src/trace/index.js';
import { countingTable } from '../helpers/counting-table.js';
import { startStorage } from '../helpers/front-harness.js';

const hour = 3600_000;
const day = 24 * hour;

/** An id received at `at`, with a counter instead of random bytes so the shard spread is repeatable. */
function idAt(at: Date, n: number): string {
  return `${newMessageId(at).slice(0, 14)}-${n.toString(16).padStart(16, '0')}`;
}

/** The day-table trace against a real Azurite: shards, fan-out queries, retention by table, old layout. */
describe('message trace layout', () => {
  let env: Awaited<ReturnType<typeof startStorage>>;
  let storage: StorageClients;
  let service: TableServiceClient;

  before(async () => {
    env = await startStorage();
    storage = env.storage;
    service = TableServiceClient.fromConnectionString(env.connectionString, {
      allowInsecureConnection: true,
    });
  });
  after(() => env.dispose());

  const tableNames = async () => {
    const out: string[] = [];
    for await (const t of service.listTables()) if (t.name) out.push(t.name);
    return out;
  };
  const rowsOf = async (table: TableClient) => {
    const out: { partitionKey: string; messageId: string }[] = [];
    for await (const e of table.listEntities<{ messageId: string }>())
      out.push({ partitionKey: e.partitionKey ?? '', messageId: e.messageId });
    return out;
  };

  it('joins messages finishing together into full transactions, each to the next shard', async () => {
    const at = new Date(Date.now() - 2 * day);
    const ids = Array.from({ length: 200 }, (_, i) => idAt(at, i));
    const writes = countingTable(env.connectionString, tableOf(ids[0] ?? ''));
    const trace = new MessageTrace(
      (name) => (name === writes.table.tableName ? writes.table : storage.table(name)),
      undefined,
      { lingerMs: 5 },
    );
    await Promise.all(
      ids.map((id) =>
        trace.record(id, [
          { event: 'signed', reason: 'rule' },
          { event: 'delivered', response: '250', recipients: 1 },
        ]),
      ),
    );
    const rows = await rowsOf(storage.table(tableOf(ids[0] ?? '')));
    assert.equal(rows.length, ids.length * 2);
    // 400 events, at most 100 to a transaction: four writes, not one per message or per shard.
    assert.equal(writes.requests.filter((r) => r.endsWith('/$batch')).length, 4);
    const perShard = new Map<string, number>();
    for (const r of rows) perShard.set(r.partitionKey, (perShard.get(r.partitionKey) ?? 0) + 1);
    assert.deepEqual([...perShard.values()], [100, 100, 100, 100], 'each write went to a shard of its own');

    const counted = countingTable(env.connectionString, tableOf(ids[7] ?? ''));
    const lookup = new MessageTrace((name) =>
      name === counted.table.tableName ? counted.table : storage.table(name),
    );
    const events = await lookup.forMessage(ids[7] ?? '');
    assert.deepEqual(
      events.map((e) => e.event),
      ['signed', 'delivered'],
    );
    assert.equal(counted.requests.length, shardCount, 'one range query per shard of one day table');
  });

  it('sends writes one after another to every shard in turn', async () => {
    const at = new Date(Date.now() - 3 * day);
    const trace = new MessageTrace(storage.table);
    const ids = Array.from({ length: shardCount }, (_, i) => idAt(at, 500 + i));
    for (const id of ids) await trace.record(id, [{ event: 'deleted' }]);
    const rows = (await rowsOf(storage.table(tableOf(ids[0] ?? '')))).filter((r) =>
      ids.includes(r.messageId),
    );
    assert.equal(new Set(rows.map((r) => r.partitionKey)).size, shardCount);
  });

  it('fans sender, time-range and last-hour queries out over every shard and day', async () => {
    const now = Date.now();
    const sender = 'Fan.Out@contoso.com';
    const recent = Array.from({ length: 40 }, (_, i) =>
      idAt(new Date(now - (i % 2 ? 0 : 25 * hour)), 1000 + i),
    );
    const old = idAt(new Date(now - 5 * day), 2000);
    const other = idAt(new Date(now), 3000);
    const trace = new MessageTrace(storage.table);
    const received = {
      event: 'received',
      size: 1,
      sender,
      recipients: 1,
      tenantId: 't',
      client: 'c',
    } as const;
    for (const id of [...recent, old]) await trace.record(id, [received, { event: 'deleted' }], sender);
    await trace.record(other, [{ ...received, sender: 'someone@contoso.com' }], 'someone@contoso.com');
    const tablesUsed = new Set(recent.map(tableOf));
    assert.ok(tablesUsed.size >= 2, 'the messages span two day tables');

    const bySender = await trace.forSender(sender.toUpperCase(), new Date(now - 2 * day));
    assert.deepEqual([...bySender.keys()].sort(), [...recent].sort());
    for (const events of bySender.values())
      assert.deepEqual(
        events.map((e) => e.event),
        ['received', 'deleted'],
      );

    const lastHour = await trace.receivedBetween(new Date(now - hour / 2), new Date(now + hour), 500);
    const expected = [...recent.filter((_, i) => i % 2 === 1), other].sort();
    assert.deepEqual(lastHour.map((r) => r.id).sort(), expected);
    assert.deepEqual(
      (await trace.receivedBetween(new Date(now - hour / 2), new Date(now + hour), 3)).length,
      3,
    );

    const counts = await trace.eventsSince(new Date(now - 30 * hour), ['deleted']);
    assert.deepEqual(counts.map((r) => r.id).sort(), [...recent].sort());
  });

  it('serves the last hour of a page refreshed by several viewers from one fan-out per interval', async () => {
    const id = idAt(new Date(), 4500);
    await new MessageTrace(storage.table).record(id, [
      { event: 'delivered', response: '250', recipients: 1 },
    ]);
    const counted = countingTable(env.connectionString, tableOf(id));
    const trace = new MessageTrace((name) =>
      name === counted.table.tableName ? counted.table : storage.table(name),
    );
    const hourAgo = () => new Date(Date.now() - hour);
    const viewers = await Promise.all(
      [1, 2, 3].map(() => trace.eventsSince(hourAgo(), ['delivered'], { reuseForMs: 15_000 })),
    );
    for (const seen of viewers) assert.ok(seen.some((r) => r.id === id));
    const afterFirst = counted.requests.length;
    assert.equal(afterFirst, shardCount, 'three viewers, one query per shard of today');
    await trace.eventsSince(hourAgo(), ['delivered'], { reuseForMs: 15_000 });
    assert.equal(counted.requests.length, afterFirst, 'a refresh within the interval queries nothing');
    await trace.eventsSince(hourAgo(), ['delivered']);
    assert.equal(counted.requests.length, 2 * shardCount, 'without reuse every call fans out');
  });

  it('drops whole day tables past the retention and keeps the days inside it', async () => {
    const now = Date.now();
    const expired = [idAt(new Date(now - 20 * day), 1), idAt(new Date(now - 9 * day), 2)];
    const kept = idAt(new Date(now - 3 * day), 3);
    const undatedOld = 'hand-made-id';
    const trace = new MessageTrace(storage.table);
    for (const id of [...expired, kept]) await trace.record(id, [{ event: 'deleted' }]);
    for (const id of expired) assert.ok((await tableNames()).includes(tableOf(id)));

    await trace.record(undatedOld, [{ event: 'deleted' }]);
    assert.equal(await trace.purgeBefore(new Date(now - 7 * day)), 0, 'day tables go whole, not row by row');
    const names = await tableNames();
    for (const id of expired) assert.ok(!names.includes(tableOf(id)), `${tableOf(id)} is dropped`);
    assert.ok(names.includes(tableOf(kept)), 'a day inside the retention stays');
    assert.deepEqual(
      (await trace.forMessage(kept)).map((e) => e.event),
      ['deleted'],
    );
    assert.deepEqual(await trace.forMessage(expired[0] ?? ''), []);
    assert.deepEqual(
      (await trace.forMessage(undatedOld)).map((e) => e.event),
      ['deleted'],
    );

    assert.equal(await trace.purgeBefore(new Date(now + hour)), 1, 'the undated row is trimmed row by row');
    assert.ok(!(await tableNames()).includes(tableOf(kept)), 'a later sweep drops the next expired day');
    assert.deepEqual(await trace.forMessage(undatedOld), []);
  });

  it('reads the old single-table layout after an upgrade and drops it once it has aged out', async () => {
    const now = Date.now();
    const legacy = storage.table(legacyTable);
    await legacy.createTable();
    const sender = 'old.layout@contoso.com';
    // The last purge drops the old layout's rows of `upgraded`'s hour but keeps its day table, so that
    // hour and the purge's must fall on one UTC day, whatever time of day the test runs at (a purge an
    // hour or two ahead of a run at 23:00 is tomorrow's, and drops today's table).
    const upgradedAt = new Date(now).getUTCHours() >= 1 ? now - hour : now;
    const upgraded = idAt(new Date(upgradedAt), 4000);
    const aged = idAt(new Date(now - 10 * day), 4001);
    for (const [id, event] of [
      [upgraded, 'received'],
      [aged, 'received'],
    ] as const) {
      const at = new Date(now - hour).toISOString();
      await legacy.upsertEntity({
        partitionKey: id.slice(0, 10),
        rowKey: `${id}|${at}|000|${event}`,
        messageId: id,
        at,
        event,
        sender,
        details: JSON.stringify({ size: 1 }),
      });
    }
    const trace = new MessageTrace(storage.table);
    await trace.record(upgraded, [{ event: 'deleted' }], sender);
    assert.deepEqual(
      (await trace.forMessage(upgraded)).map((e) => e.event),
      ['received', 'deleted'],
    );
    assert.deepEqual([...(await trace.forSender(sender, new Date(now - hour))).keys()], [upgraded]);

    assert.equal(await trace.purgeBefore(new Date(now - 7 * day)), 1, 'the aged old-layout row is deleted');
    assert.ok((await tableNames()).includes(legacyTable), 'young old-layout rows keep the table');
    assert.equal(await trace.purgeBefore(new Date(upgradedAt + hour)), 1);
    assert.ok(!(await tableNames()).includes(legacyTable), 'an aged-out old layout is dropped');
    assert.deepEqual(
      (await trace.forMessage(upgraded)).map((e) => e.event),
      ['deleted'],
    );
  });
});

/** The local profile's trace store: Azurite's table service in memory, which starts empty after a restart. */
describe('message trace after its store restarts', () => {
  it('writes the events that follow a restart, into the day table created again', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-trace-restart-'));
    const azurite = new Azurite({ location: dir, inMemoryTables: true });
    try {
      await azurite.start();
      const trace = new MessageTrace((name) =>
        TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true }),
      );
      const now = new Date();
      const before = idAt(now, 1);
      const afterRestart = idAt(now, 2);
      await trace.record(before, [{ event: 'deleted' }]);
      assert.equal((await trace.forMessage(before)).length, 1);

      await azurite.stop();
      await azurite.start();
      assert.deepEqual(await trace.forMessage(before), [], 'the restart emptied the store');

      // Same day, same process: its "table created" memory is from before the restart.
      await trace.record(afterRestart, [{ event: 'delivered', response: '250', recipients: 1 }]);
      assert.deepEqual(
        (await trace.forMessage(afterRestart)).map((e) => e.event),
        ['delivered'],
      );
    } finally {
      await azurite.stop();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
