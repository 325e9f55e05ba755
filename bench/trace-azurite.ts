/**
 * `npm run bench:trace-azurite`: does Azurite's cost per message grow with the trace it holds?
 * Writes rounds of messages' trace events (five per message in three steps, as the loop writes them;
 * no linger in either layout, so only the layout differs) into a fresh Azurite, once with the earlier layout (one table, PartitionKey = hour)
 * and once with the day table and its 64 shards, and counts Azurite's CPU per message in each round
 * from /proc/<pid>/stat. Azurite's LokiJS store finds an entity by PartitionKey first and then scans
 * that partition's rows for the RowKey, so a growing partition makes every upsert dearer.
 *
 * `--store memory` runs Azurite's table service alone with `--inMemoryPersistence`, as `npm start`
 * keeps the trace: LokiJS then never autosaves, so the run shows what the autosave of a growing table
 * file costs (compare with `--store disk`, a workspace on disk as before).
 *
 * Options: --rounds N (5) --messages N (1000, per round) --layout hour|day|both (both) --store disk|memory (disk)
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { TransactionAction } from '@azure/data-tables';
import { newMessageId } from '../src/contracts/index.js';
import { Azurite } from '../src/local/azurite.js';
import { createStorageClients } from '../src/storage/index.js';
import { legacyTable, MessageTrace, type TraceEvent } from '../src/trace/index.js';
import { clockTicks, cpuTimes } from './cpu.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    messages: { type: 'string', default: '1000' },
    layout: { type: 'string', default: 'both' },
    store: { type: 'string', default: 'disk' },
  },
});
const rounds = Number(values.rounds);
const perRound = Number(values.messages);
const sender = 'alice@contoso.com';
const inMemoryTables = values.store === 'memory';
const events: TraceEvent[][] = [
  [{ event: 'received', size: 20_000, sender, recipients: 1, tenantId: 't', client: '127.0.0.1' }],
  [
    { event: 'signed', reason: 'rule' },
    {
      event: 'delivery-attempt',
      endpoint: 'e',
      status: 'delivered',
      response: '250',
      accepted: 1,
      deferred: 0,
      rejected: 0,
    },
    { event: 'delivered', response: '250', recipients: 1 },
  ],
  [{ event: 'deleted' }],
];

/** The earlier layout's write, kept here only to measure it: every event of an hour in one partition. */
function hourPartitionWriter(table: ReturnType<ReturnType<typeof createStorageClients>['table']>) {
  let seq = 0;
  return async (id: string, step: TraceEvent[]) => {
    const now = Date.now();
    const actions: TransactionAction[] = step.map((e, i) => {
      const { event, ...details } = e;
      const at = new Date(now + i).toISOString();
      return [
        'upsert',
        {
          partitionKey: id.slice(0, 10),
          rowKey: `${id}|${at}|${String(seq++ % 1000).padStart(3, '0')}|${event}`,
          messageId: id,
          at,
          event,
          sender,
          details: JSON.stringify(details),
        },
        'Replace',
      ];
    });
    await table.submitTransaction(actions);
  };
}

async function run(layout: 'hour partition' | 'day table, 64 shards'): Promise<number[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-trace-bench-'));
  const azurite = new Azurite({ location: dir, inMemoryTables });
  await azurite.start();
  try {
    const storage = createStorageClients({ connectionString: azurite.connectionString });
    const trace = new MessageTrace(storage.table);
    let write: (id: string, step: TraceEvent[]) => Promise<void> = (id, step) =>
      trace.record(id, step, sender);
    if (layout === 'hour partition') {
      await storage.table(legacyTable).createTable();
      write = hourPartitionWriter(storage.table(legacyTable));
    }
    const ticks = clockTicks();
    const azuriteMs = () => cpuTimes({ azurite: azurite.pid }, ticks).azurite ?? NaN;
    const out: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const ids = Array.from({ length: perRound }, () => newMessageId());
      const before = azuriteMs();
      // 20 messages in flight, each writing its three steps in order, as the front and functions do.
      let next = 0;
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          while (next < ids.length) {
            const id = ids[next++] ?? '';
            for (const step of events) await write(id, step);
          }
        }),
      );
      out.push((azuriteMs() - before) / perRound);
      console.log(
        `${layout}${inMemoryTables ? ' (in memory)' : ''}, round ${round + 1}: Azurite ${(out[round] ?? NaN).toFixed(2)} CPU ms / message`,
      );
    }
    return out;
  } finally {
    await azurite.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

// The hour partition's rounds grow quadratically: `--layout day` measures the new layout alone.
const hour = values.layout === 'day' ? [] : await run('hour partition');
const day = values.layout === 'hour' ? [] : await run('day table, 64 shards');
console.log(`\n| round (× ${perRound} messages) | hour partition | day table, 64 shards |\n|---|---|---|`);
for (let i = 0; i < rounds; i++)
  console.log(`| ${i + 1} | ${(hour[i] ?? NaN).toFixed(2)} | ${(day[i] ?? NaN).toFixed(2)} |`);
