import type { TableClient, TransactionAction } from '@azure/data-tables';
import type { HandoverReason, SigningAction } from '../contracts/index.js';
import type { Logger } from '../log/index.js';
import { describeError } from '../errors/index.js';

/** What happened to a message, step by step. Never a subject, a body or an attachment name. */
export type TraceEvent =
  | {
      event: 'received';
      size: number;
      sender: string;
      recipients: number;
      tenantId: string;
      client: string;
      tls?: string;
    }
  | { event: SigningAction; reason: string; template?: string; rule?: string }
  | {
      event: 'delivery-attempt';
      endpoint: string;
      status: string;
      response: string;
      accepted: number;
      deferred: number;
      rejected: number;
    }
  | { event: 'delivered'; response: string; recipients: number }
  | { event: 'dsn-sent'; to: string; response: string }
  | { event: 'dead-lettered'; reason: string }
  | { event: 'deleted' }
  | { event: 'missing'; reason: string }
  | { event: 'replayed'; by: string }
  | { event: 'restarted'; by: string }
  | { event: 'handed-over'; reason: HandoverReason; response?: string }
  /** The signed copy handed to the Sent Items update (`staged`, `already-staged`, `stage-failed`, …). */
  | { event: 'sent-items'; outcome: string };

export interface TraceRecord {
  id: string;
  at: string;
  event: TraceEvent['event'];
  sender?: string;
  details: Record<string, unknown>;
}

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

/**
 * The message trace in Table storage. Entities are partitioned by the hour the message was received,
 * which our message ids start with (YYYYMMDDHH…): one message's events share a partition, so the
 * events of one step are written in one transaction, a lookup by id is one partition range query,
 * and "--sender x --since 1h" reads only the last hours' partitions. Retention deletes whole
 * partitions older than N days.
 */
export interface TraceOptions {
  /**
   * Writes wait this long for other messages' events of the same partition and go out as one
   * transaction (at most 100 entities). 0 writes each call at once.
   */
  lingerMs?: number;
}

/** Events of several messages waiting to go out as one transaction. */
interface PendingBatch {
  actions: TransactionAction[];
  ids: Set<string>;
  done: (() => void)[];
  timer: NodeJS.Timeout;
}

/** An entity group transaction holds at most 100 entities. */
const maxBatch = 100;

export class MessageTrace {
  private seq = 0;
  private readonly lingerMs: number;
  private readonly pending = new Map<string, PendingBatch>();

  constructor(
    private readonly table: TableClient,
    private readonly log?: Logger,
    options: TraceOptions = {},
  ) {
    this.lingerMs = options.lingerMs ?? 0;
  }

  static partitionOf(id: string): string {
    return /^\d{10}/.test(id) ? id.slice(0, 10) : 'other';
  }

  /**
   * Records events for one message. Tracing never breaks mail flow: a failure is logged, not thrown.
   * `sender` is stored on every event so sender queries need no second index. Resolves once the
   * events are written (or the write failed and was logged).
   */
  async record(id: string, events: TraceEvent[], sender?: string): Promise<void> {
    if (events.length === 0) return;
    const partitionKey = MessageTrace.partitionOf(id);
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
    if (this.lingerMs <= 0 || actions.length > maxBatch) return this.submit(actions, [id]);
    const current = this.pending.get(partitionKey);
    // flush never rejects: a failed write is logged and its waiters resolved.
    if (current && current.actions.length + actions.length > maxBatch) void this.flush(partitionKey);
    return new Promise((resolve) => {
      let batch = this.pending.get(partitionKey);
      if (!batch) {
        batch = {
          actions: [],
          ids: new Set(),
          done: [],
          timer: setTimeout(() => void this.flush(partitionKey), this.lingerMs),
        };
        this.pending.set(partitionKey, batch);
      }
      batch.actions.push(...actions);
      batch.ids.add(id);
      batch.done.push(resolve);
      if (batch.actions.length >= maxBatch) void this.flush(partitionKey);
    });
  }

  /** Writes whatever is waiting now (shutdown, tests). */
  async flushAll(): Promise<void> {
    await Promise.all([...this.pending.keys()].map((p) => this.flush(p)));
  }

  private flush(partitionKey: string): Promise<void> {
    const batch = this.pending.get(partitionKey);
    if (!batch) return Promise.resolve();
    this.pending.delete(partitionKey);
    clearTimeout(batch.timer);
    return this.submit(batch.actions, [...batch.ids]).then(() => {
      for (const done of batch.done) done();
    });
  }

  private async submit(actions: TransactionAction[], ids: string[]): Promise<void> {
    try {
      for (let i = 0; i < actions.length; i += maxBatch)
        await this.table.submitTransaction(actions.slice(i, i + maxBatch));
    } catch (err) {
      this.log?.warn({ messageIds: ids, err: describeError(err) }, 'trace write failed');
    }
  }

  /** Every event of one message, oldest first. */
  async forMessage(id: string): Promise<TraceRecord[]> {
    const partition = MessageTrace.partitionOf(id);
    const filter = `PartitionKey eq '${escape(partition)}' and RowKey ge '${escape(id)}|' and RowKey lt '${escape(id)}|~'`;
    const out: TraceRecord[] = [];
    for await (const e of this.table.listEntities<Entity>({ queryOptions: { filter } }))
      out.push(toRecord(e));
    return out.sort((a, b) => a.at.localeCompare(b.at));
  }

  /** Events of every message from `sender` received since `since`, grouped by message. */
  async forSender(sender: string, since: Date): Promise<Map<string, TraceRecord[]>> {
    const from = hourKey(since);
    const filter = `PartitionKey ge '${from}' and PartitionKey le '9999999999' and sender eq '${escape(sender.toLowerCase())}'`;
    const out = new Map<string, TraceRecord[]>();
    for await (const e of this.table.listEntities<Entity>({ queryOptions: { filter } })) {
      const r = toRecord(e);
      const list = out.get(r.id) ?? [];
      list.push(r);
      out.set(r.id, list);
    }
    for (const list of out.values()) list.sort((a, b) => a.at.localeCompare(b.at));
    return out;
  }

  /**
   * The `received` events of messages received between `since` and `until` (newest first, at most
   * `limit`): the hour partitions in range, filtered on the event name, so no index is written on
   * the delivery path for it.
   */
  async receivedBetween(since: Date, until: Date, limit = 100): Promise<TraceRecord[]> {
    const filter = `PartitionKey ge '${hourKey(since)}' and PartitionKey le '${hourKey(until)}' and event eq 'received'`;
    const out: TraceRecord[] = [];
    for await (const e of this.table.listEntities<Entity>({ queryOptions: { filter } })) {
      const r = toRecord(e);
      if (r.at >= since.toISOString() && r.at <= until.toISOString()) out.push(r);
    }
    return out.sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit);
  }

  /** Events named `events` recorded since `since`, over the hour partitions from then (health counts). */
  async eventsSince(since: Date, events: TraceEvent['event'][]): Promise<TraceRecord[]> {
    const names = events.map((e) => `event eq '${escape(e)}'`).join(' or ');
    const filter = `PartitionKey ge '${hourKey(since)}' and PartitionKey le '9999999999' and (${names})`;
    const out: TraceRecord[] = [];
    for await (const e of this.table.listEntities<Entity>({ queryOptions: { filter } })) {
      if (e.at >= since.toISOString()) out.push(toRecord(e));
    }
    return out;
  }

  /** Deletes the trace of messages received before `before` (retention). Returns the count deleted. */
  async purgeBefore(before: Date): Promise<number> {
    const filter = `PartitionKey lt '${hourKey(before)}'`;
    const byPartition = new Map<string, TransactionAction[]>();
    for await (const e of this.table.listEntities<Entity>({
      queryOptions: { filter, select: ['PartitionKey', 'RowKey'] },
    })) {
      const list = byPartition.get(e.partitionKey) ?? [];
      list.push(['delete', { partitionKey: e.partitionKey, rowKey: e.rowKey }]);
      byPartition.set(e.partitionKey, list);
    }
    let count = 0;
    for (const actions of byPartition.values()) {
      for (let i = 0; i < actions.length; i += 100) {
        const chunk = actions.slice(i, i + 100);
        await this.table.submitTransaction(chunk);
        count += chunk.length;
      }
    }
    return count;
  }
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

function hourKey(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 10);
}

function escape(value: string): string {
  return value.replace(/'/g, "''");
}
