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
  shardOf,
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

/** Events of several messages waiting to go out as one transaction. */
interface PendingBatch {
  table: string;
  actions: TransactionAction[];
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
 * table, one message's events in one shard (so one step's events are one transaction and a lookup
 * by id is one RowKey range query). Queries over time fan out over the shards of each day in
 * parallel; retention drops whole day tables. The table of the earlier layout (`sigrelaytrace`,
 * PartitionKey = receive hour) is still read until retention has emptied it, then dropped.
 */
export class MessageTrace {
  private seq = 0;
  private readonly lingerMs: number;
  private readonly parallelQueries: number;
  private readonly pending = new Map<string, PendingBatch>();
  private readonly clients = new Map<string, TableClient>();
  private readonly created = new Map<string, Promise<void>>();
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
    const partitionKey = shardOf(id);
    const now = Date.now();
    const actions: TransactionAction[] = events.map((e, i) => {
      const { event, ...details } = e;
      const at = new Date(now + i).toISOString();
      const entity: Entity = {
        partitionKey,
        rowKey: `${id}|${at}|${String(this.seq++ % 1000).padStart(3, '0')}|${event}`,
        messageId: id,
        at,
        event,
        details: JSON.stringify(details),
        ...(sender ? { sender: sender.toLowerCase() } : {}),
      };
      const action: TransactionAction = ['upsert', entity, 'Replace'];
      return action;
    });
    if (this.lingerMs <= 0 || actions.length > maxBatch) return this.submit(table, actions, [id]);
    const key = `${table}/${partitionKey}`;
    const current = this.pending.get(key);
    // flush never rejects: a failed write is logged and its waiters resolved.
    if (current && current.actions.length + actions.length > maxBatch) void this.flush(key);
    return new Promise((resolve) => {
      let batch = this.pending.get(key);
      if (!batch) {
        batch = {
          table,
          actions: [],
          ids: new Set(),
          done: [],
          timer: setTimeout(() => void this.flush(key), this.lingerMs),
        };
        this.pending.set(key, batch);
      }
      batch.actions.push(...actions);
      batch.ids.add(id);
      batch.done.push(resolve);
      if (batch.actions.length >= maxBatch) void this.flush(key);
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
    return this.submit(batch.table, batch.actions, [...batch.ids]).then(() => {
      for (const done of batch.done) done();
    });
  }

  private async submit(table: string, actions: TransactionAction[], ids: string[]): Promise<void> {
    try {
      await this.ensureTable(table);
      for (let i = 0; i < actions.length; i += maxBatch)
        await this.client(table).submitTransaction(actions.slice(i, i + maxBatch));
    } catch (err) {
      this.log?.warn({ messageIds: ids, err: describeError(err) }, 'trace write failed');
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

  /** Every event of one message, oldest first. */
  async forMessage(id: string): Promise<TraceRecord[]> {
    const rows = `RowKey ge '${escape(id)}|' and RowKey lt '${escape(id)}|~'`;
    const [current, legacy] = await Promise.all([
      this.query(tableOf(id), `PartitionKey eq '${shardOf(id)}' and ${rows}`),
      this.queryLegacy(`PartitionKey eq '${escape(legacyPartitionOf(id))}' and ${rows}`),
    ]);
    return [...current, ...legacy].sort((a, b) => a.at.localeCompare(b.at));
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

  /** Events named `events` recorded since `since`, of messages received from that hour on (health counts). */
  async eventsSince(since: Date, events: TraceEvent['event'][]): Promise<TraceRecord[]> {
    const names = events.map((e) => `event eq '${escape(e)}'`).join(' or ');
    const from = since.toISOString();
    return (await this.overTime(since, soon(), `(${names})`)).filter((r) => r.at >= from);
  }

  /**
   * Events matching `filter` of messages whose id falls in the hours from `since` to `until`: one
   * RowKey range query per shard of each day table, in parallel, plus the old layout's hours.
   */
  private async overTime(since: Date, until: Date, filter: string): Promise<TraceRecord[]> {
    const low = hourKey(since);
    const high = `${hourKey(until)}~`;
    const jobs = dayTablesBetween(since, until).flatMap((table) =>
      allShards.map(
        (shard) => () =>
          this.query(
            table,
            `PartitionKey eq '${shard}' and RowKey ge '${low}' and RowKey lt '${high}' and ${filter}`,
          ),
      ),
    );
    jobs.push(() =>
      this.queryLegacy(`PartitionKey ge '${low}' and PartitionKey le '${hourKey(until)}' and ${filter}`),
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
