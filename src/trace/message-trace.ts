import type { TableClient, TransactionAction } from '@azure/data-tables';
import type { Logger } from '../log/index.js';
import { describeError } from '../errors/index.js';
import type { TraceEvent, TraceRecord } from './events.js';
import {
  allShards,
  dayOf,
  dayTablesBetween,
  hourKey,
  legacyTable,
  shardCount,
  shardKey,
  tableOf,
  undatedTable,
} from './layout.js';

// A type alias, not an interface: the Tables SDK wants entities assignable to an index signature.
type Entity = {
  partitionKey: string;
  rowKey: string;
  messageId: string;
  at: string;
  event: string;
  sender?: string;
  details: string;
};

/** Opens a table by name: `StorageClients.table`. */
export type TraceTables = (name: string) => TableClient;

export interface TraceOptions {
  /**
   * Writes wait this long for other messages' events of the same shard and go out as one
   * transaction (at most 100 entities). 0 writes each call at once.
   */
  lingerMs?: number;
  /** Queries a fan-out keeps in flight at once (64 shards × days would otherwise all start together). */
  parallelQueries?: number;
}

/** An event row before its write picks the shard. */
type Row = Omit<Entity, 'partitionKey'>;

/** Events of several messages waiting to go out as one transaction. */
interface PendingBatch {
  table: string;
  rows: Row[];
  ids: Set<string>;
  done: (() => void)[];
  timer: NodeJS.Timeout;
}

/** An entity group transaction holds at most 100 entities. */
const maxBatch = 100;

/** How far back retention looks for day tables it has not dropped yet (a sweeper that was off for weeks). */
const retentionLookbackDays = 62;

/**
 * The message trace in Table storage, laid out by `layout.ts`: a table per UTC day, 64 shards per
 * table. The writer picks the shard per transaction, not per message: each write (one linger's
 * events of every message finishing in it, whatever their ids) goes to the next shard of this
 * process's rotation, which starts at a random shard. So the linger joins all messages that finish
 * together into one transaction, as the single hour partition did (one shard per message id let it
 * join almost none: 0.92 transactions per message at 20 messages/s), while consecutive writes, and
 * the writes of several processes, still spread over every shard. The price is on the read side: a
 * lookup by id is one RowKey range query per shard of its day table, in parallel. Queries over time
 * fan out the same way; retention drops whole day tables. The table of the earlier layout
 * (`sigrelaytrace`, PartitionKey = receive hour) is still read until retention has emptied it, then
 * dropped; rows of the first sharded layout (shard = hash of the id) are found by the same fan-out.
 */
export class MessageTrace {
  private seq = 0;
  /** The next write's shard: a rotation from a random start, so processes do not move in step. */
  private nextShard = Math.floor(Math.random() * shardCount);
  private readonly lingerMs: number;
  private readonly parallelQueries: number;
  private readonly pending = new Map<string, PendingBatch>();
  private readonly clients = new Map<string, TableClient>();
  private readonly created = new Map<string, Promise<void>>();
  /** Recent `eventsSince` answers by event names, for callers that accept a slightly old one. */
  private readonly recent = new Map<string, { at: number; since: number; records: Promise<TraceRecord[]> }>();
  /** Set once the old layout's table is found missing: no more reads of it from this process. */
  private legacyGone = false;
  /** The newest day whose table retention has already dropped from this process. */
  private droppedThrough = '';

  constructor(
    private readonly tables: TraceTables,
    private readonly log?: Logger,
    options: TraceOptions = {},
  ) {
    this.lingerMs = options.lingerMs ?? 0;
    this.parallelQueries = options.parallelQueries ?? 16;
  }

  /**
   * Records events for one message. Tracing never breaks mail flow: a failure is logged, not thrown.
   * `sender` is stored on every event so sender queries need no second index. Resolves once the
   * events are written (or the write failed and was logged).
   */
  async record(id: string, events: TraceEvent[], sender?: string): Promise<void> {
    if (events.length === 0) return;
    const table = tableOf(id);
    const now = Date.now();
    const rows: Row[] = events.map((e, i) => {
      const { event, ...details } = e;
      const at = new Date(now + i).toISOString();
      return {
        rowKey: `${id}|${at}|${String(this.seq++ % 1000).padStart(3, '0')}|${event}`,
        messageId: id,
        at,
        event,
        details: JSON.stringify(details),
        ...(sender ? { sender: sender.toLowerCase() } : {}),
      };
    });
    if (this.lingerMs <= 0 || rows.length > maxBatch) return this.submit(table, rows, [id]);
    const key = table;
    const current = this.pending.get(key);
    // flush never rejects: a failed write is logged and its waiters resolved.
    if (current && current.rows.length + rows.length > maxBatch) void this.flush(key);
    return new Promise((resolve) => {
      let batch = this.pending.get(key);
      if (!batch) {
        batch = {
          table,
          rows: [],
          ids: new Set(),
          done: [],
          timer: setTimeout(() => void this.flush(key), this.lingerMs),
        };
        this.pending.set(key, batch);
      }
      batch.rows.push(...rows);
      batch.ids.add(id);
      batch.done.push(resolve);
      if (batch.rows.length >= maxBatch) void this.flush(key);
    });
  }

  /** Writes whatever is waiting now (shutdown, tests). */
  async flushAll(): Promise<void> {
    await Promise.all([...this.pending.keys()].map((k) => this.flush(k)));
  }

  private flush(key: string): Promise<void> {
    const batch = this.pending.get(key);
    if (!batch) return Promise.resolve();
    this.pending.delete(key);
    clearTimeout(batch.timer);
    return this.submit(batch.table, batch.rows, [...batch.ids]).then(() => {
      for (const done of batch.done) done();
    });
  }

  private async submit(table: string, rows: Row[], ids: string[]): Promise<void> {
    try {
      await this.ensureTable(table);
      for (let i = 0; i < rows.length; i += maxBatch) {
        const partitionKey = shardKey(this.nextShard);
        this.nextShard = (this.nextShard + 1) % shardCount;
        const actions = rows
          .slice(i, i + maxBatch)
          .map((row): TransactionAction => ['upsert', { partitionKey, ...row }, 'Replace']);
        await this.write(table, actions);
      }
    } catch (err) {
      this.log?.warn({ messageIds: ids, err: describeError(err) }, 'trace write failed');
    }
  }

  /**
   * One transaction. A table this process created can vanish under it: the local profile's in-memory
   * trace store starts empty after a restart, and Azurite's LokiJS loses what it had not saved when
   * killed. The remembered create then lies, and every later write to that day would be dropped until
   * the process restarts; so a "table not found" forgets it, creates the table again and retries once.
   */
  private async write(table: string, actions: TransactionAction[]): Promise<void> {
    try {
      await this.client(table).submitTransaction(actions);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.created.delete(table);
      await this.ensureTable(table);
      await this.client(table).submitTransaction(actions);
    }
  }

  /** One create per day table and process (it tolerates an existing table); retried after a failure. */
  private ensureTable(table: string): Promise<void> {
    let done = this.created.get(table);
    if (!done) {
      done = this.client(table)
        .createTable()
        .catch((err: unknown) => {
          this.created.delete(table);
          throw err;
        });
      this.created.set(table, done);
    }
    return done;
  }

  private client(table: string): TableClient {
    let c = this.clients.get(table);
    if (!c) {
      c = this.tables(table);
      this.clients.set(table, c);
    }
    return c;
  }

  /** Every event of one message, oldest first: a RowKey range in each shard of its day table. */
  async forMessage(id: string): Promise<TraceRecord[]> {
    const rows = `RowKey ge '${escape(id)}|' and RowKey lt '${escape(id)}|~'`;
    const table = tableOf(id);
    const jobs = allShards.map((shard) => () => this.query(table, `PartitionKey eq '${shard}' and ${rows}`));
    jobs.push(() => this.queryLegacy(`PartitionKey eq '${escape(legacyPartitionOf(id))}' and ${rows}`));
    return (await inParallel(jobs, this.parallelQueries)).flat().sort((a, b) => a.at.localeCompare(b.at));
  }

  /**
   * The messages received between `since` and `until` (newest first, at most `limit`) with all their
   * events: one fan-out for the `received` events and one for the events of those messages' hours,
   * instead of a lookup (a fan-out of its own) per message.
   */
  async messagesBetween(since: Date, until: Date, limit = 100): Promise<Map<string, TraceRecord[]>> {
    const received = await this.receivedBetween(since, until, limit);
    const out = new Map<string, TraceRecord[]>(received.map((r) => [r.id, []]));
    const oldest = received.at(-1);
    if (!oldest) return out;
    // An id starts with the front's receive time, a little before its `received` event was written.
    const from = new Date(Date.parse(oldest.at) - 3600_000);
    for (const r of await this.overTime(from, until)) out.get(r.id)?.push(r);
    for (const list of out.values()) list.sort((a, b) => a.at.localeCompare(b.at));
    return out;
  }

  /** Events of every message from `sender` received since `since`, grouped by message. */
  async forSender(sender: string, since: Date): Promise<Map<string, TraceRecord[]>> {
    const records = await this.overTime(since, soon(), `sender eq '${escape(sender.toLowerCase())}'`);
    const out = new Map<string, TraceRecord[]>();
    for (const r of records) {
      const list = out.get(r.id) ?? [];
      list.push(r);
      out.set(r.id, list);
    }
    for (const list of out.values()) list.sort((a, b) => a.at.localeCompare(b.at));
    return out;
  }

  /**
   * The `received` events of messages received between `since` and `until` (newest first, at most
   * `limit`): the shards of the days in range, filtered on the event name, so no index is written on
   * the delivery path for it.
   */
  async receivedBetween(since: Date, until: Date, limit = 100): Promise<TraceRecord[]> {
    const records = await this.overTime(since, until, `event eq 'received'`);
    const from = since.toISOString();
    const to = until.toISOString();
    return records
      .filter((r) => r.at >= from && r.at <= to)
      .sort((a, b) => b.at.localeCompare(a.at))
      .slice(0, limit);
  }

  /**
   * Events named `events` recorded since `since`, of messages received from that hour on (health
   * counts). With `reuseForMs`, an answer fetched that recently (or still being fetched) for the same
   * events serves again, trimmed to `since`: a page that several viewers refresh every 15 s then costs
   * one fan-out (a query per shard) per interval, not one per viewer and refresh.
   */
  async eventsSince(
    since: Date,
    events: TraceEvent['event'][],
    options: { reuseForMs?: number } = {},
  ): Promise<TraceRecord[]> {
    const from = since.toISOString();
    const key = events.join(',');
    const reuse = options.reuseForMs ?? 0;
    const cached = this.recent.get(key);
    if (cached && reuse > 0 && Date.now() - cached.at < reuse && cached.since <= since.getTime())
      return (await cached.records).filter((r) => r.at >= from);
    const names = events.map((e) => `event eq '${escape(e)}'`).join(' or ');
    const records = this.overTime(since, soon(), `(${names})`);
    if (reuse > 0) {
      this.recent.set(key, { at: Date.now(), since: since.getTime(), records });
      records.catch(() => this.recent.delete(key));
    }
    return (await records).filter((r) => r.at >= from);
  }

  /**
   * Events matching `filter` of messages whose id falls in the hours from `since` to `until`: one
   * RowKey range query per shard of each day table, in parallel, plus the old layout's hours.
   */
  private async overTime(since: Date, until: Date, filter?: string): Promise<TraceRecord[]> {
    const also = filter ? ` and ${filter}` : '';
    const low = hourKey(since);
    const high = `${hourKey(until)}~`;
    const jobs = dayTablesBetween(since, until).flatMap((table) =>
      allShards.map(
        (shard) => () =>
          this.query(
            table,
            `PartitionKey eq '${shard}' and RowKey ge '${low}' and RowKey lt '${high}'${also}`,
          ),
      ),
    );
    jobs.push(() =>
      this.queryLegacy(`PartitionKey ge '${low}' and PartitionKey le '${hourKey(until)}'${also}`),
    );
    return (await inParallel(jobs, this.parallelQueries)).flat();
  }

  /** A table that does not exist (a day without mail, a dropped day) holds nothing. */
  private async query(table: string, filter: string): Promise<TraceRecord[]> {
    const out: TraceRecord[] = [];
    try {
      for await (const e of this.client(table).listEntities<Entity>({ queryOptions: { filter } }))
        out.push(toRecord(e));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return out;
  }

  private async queryLegacy(filter: string): Promise<TraceRecord[]> {
    if (this.legacyGone) return [];
    const out: TraceRecord[] = [];
    try {
      for await (const e of this.client(legacyTable).listEntities<Entity>({ queryOptions: { filter } }))
        out.push(toRecord(e));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.legacyGone = true;
    }
    return out;
  }

  /**
   * Retention: drops the day tables of days wholly before `before` (so a day is kept until its last
   * hour is older than the retention), trims the undated table row by row, and empties the old
   * layout's table the same way, dropping it once nothing in it is young enough to keep. Returns the
   * rows deleted one by one; dropped tables are not counted (their size is not known without a scan).
   */
  async purgeBefore(before: Date): Promise<number> {
    const lastDay = hourKey(before).slice(0, 8);
    const days = dayTablesBetween(new Date(before.getTime() - retentionLookbackDays * 86_400_000), before)
      .filter((t) => (dayOf(t) ?? '') < lastDay && (dayOf(t) ?? '') > this.droppedThrough)
      .reverse();
    // Newest first: a failure part-way leaves only older, already-expired days for the next sweep.
    for (const table of days) await this.client(table).deleteTable();
    for (const table of days) this.created.delete(table);
    const newest = days[0] && dayOf(days[0]);
    if (newest) this.droppedThrough = newest;
    let count = await this.deleteRows(undatedTable, `at lt '${before.toISOString()}'`);
    if (!this.legacyGone) {
      const cutoff = hourKey(before);
      count += await this.deleteRows(legacyTable, `PartitionKey lt '${cutoff}'`);
      const young = await this.queryLegacy(`PartitionKey ge '${cutoff}'`);
      if (!this.legacyGone && young.length === 0) {
        await this.client(legacyTable).deleteTable();
        this.legacyGone = true;
        this.log?.info({ table: legacyTable }, 'the old trace layout has aged out; its table is dropped');
      }
    }
    return count;
  }

  private async deleteRows(table: string, filter: string): Promise<number> {
    const byPartition = new Map<string, TransactionAction[]>();
    try {
      for await (const e of this.client(table).listEntities<Entity>({
        queryOptions: { filter, select: ['PartitionKey', 'RowKey'] },
      })) {
        const list = byPartition.get(e.partitionKey) ?? [];
        list.push(['delete', { partitionKey: e.partitionKey, rowKey: e.rowKey }]);
        byPartition.set(e.partitionKey, list);
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
      if (table === legacyTable) this.legacyGone = true;
      return 0;
    }
    let count = 0;
    for (const actions of byPartition.values()) {
      for (let i = 0; i < actions.length; i += maxBatch) {
        const chunk = actions.slice(i, i + maxBatch);
        await this.client(table).submitTransaction(chunk);
        count += chunk.length;
      }
    }
    return count;
  }
}

/** The old layout's partition: the receive hour our ids start with. */
function legacyPartitionOf(id: string): string {
  return /^\d{10}/.test(id) ? id.slice(0, 10) : 'other';
}

/** The upper end of "since …" queries: an hour ahead, for replicas whose clocks run a little fast. */
function soon(): Date {
  return new Date(Date.now() + 3600_000);
}

async function inParallel<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      const job = jobs[i];
      if (job) out[i] = await job();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
  return out;
}

function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number } | undefined)?.statusCode === 404;
}

function toRecord(e: Entity): TraceRecord {
  return {
    id: e.messageId,
    at: e.at,
    event: e.event as TraceEvent['event'],
    sender: e.sender,
    details: JSON.parse(e.details) as Record<string, unknown>,
  };
}

function escape(value: string): string {
  return value.replace(/'/g, "''");
}
