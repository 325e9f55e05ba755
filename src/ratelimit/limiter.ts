import { odata, RestError, type TableClient, type TransactionAction } from '@azure/data-tables';
import { describeError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import { contributionsOf, formatContribution, replicaField, rowKeyOf } from './shared-entity.js';
import {
  add,
  emptyContribution,
  expired,
  judge,
  record,
  totals,
  type Contribution,
  type RateVerdict,
  type SenderLimits,
} from './windows.js';

/** How often a replica writes its counts and reads the others' (SIGRELAY_RATE_SYNC_INTERVAL_MS). */
export const defaultSyncIntervalMs = 2000;
/** A sender not seen for this long (and fully written) leaves the replica's memory. */
export const defaultIdleEvictMs = 10 * 60_000;
/** How long the first message of a sender new to this replica waits for its shared count. */
export const defaultFirstReadTimeoutMs = 1000;
/** Table transactions hold at most 100 operations, all in one partition (here: one tenant). */
export const maxBatch = 100;

export interface RateLimiterOptions {
  /** The clock the windows are counted on (tests move it). */
  now?: () => number;
  /** The clock for idle eviction and for the Timestamp filter of the read-back (the server's time). */
  wallClock?: () => number;
  syncIntervalMs?: number;
  idleEvictMs?: number;
  firstReadTimeoutMs?: number;
  /** How far before the last read-back the next one looks: covers clock skew against the server. */
  clockSkewMs?: number;
  /** This replica's property in the shared entities; unique per process by default. */
  replicaField?: string;
  logger?: Logger;
}

/** What one sync did, for logs and tests. */
export interface SyncReport {
  written: number;
  read: number;
  failed: number;
  evicted: number;
}

interface SenderState {
  tenantId: string;
  rowKey: string;
  /** This replica's counts: authoritative, replaced (never mutated) on every message. */
  own: Contribution;
  /** The other replicas' counts as last read. */
  others: Map<string, Contribution>;
  /** `own` has counts the table does not have yet. */
  dirty: boolean;
  /** False until the shared entity has been read once (a failed first read is retried by the sync). */
  loaded: boolean;
  loading?: Promise<void>;
  lastSeen: number;
}

/**
 * Per-sender message limits shared by every SMTP front replica, without a storage request per
 * message: each replica counts locally and decides against (the other replicas' counts at its last
 * sync + its own exact count); a background sync every `syncIntervalMs` writes the senders it
 * counted since the last sync (batched per tenant) and reads back what the other replicas wrote.
 * The first message of a sender new to this replica waits for one point read of the sender's
 * shared count, so a restarted or added replica starts from the real count. Storage being down
 * never refuses mail: the replica counts locally, logs, and writes when storage is back.
 * How far over the limit N replicas can go is in docs/front-door.md.
 */
export class SenderRateLimiter {
  private readonly table: TableClient;
  private readonly now: () => number;
  private readonly wall: () => number;
  private readonly syncIntervalMs: number;
  private readonly idleEvictMs: number;
  private readonly firstReadTimeoutMs: number;
  private readonly clockSkewMs: number;
  private readonly log: Logger;
  readonly field: string;
  private readonly states = new Map<string, SenderState>();
  /** Per tenant: the wall-clock start of the last successful read-back. */
  private readonly lastRead = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SyncReport> | undefined;
  private failingSince: number | undefined;
  private lastFailureLog = 0;

  constructor(table: TableClient, options: RateLimiterOptions = {}) {
    this.table = table;
    this.now = options.now ?? Date.now;
    this.wall = options.wallClock ?? Date.now;
    this.syncIntervalMs = options.syncIntervalMs ?? defaultSyncIntervalMs;
    this.idleEvictMs = options.idleEvictMs ?? defaultIdleEvictMs;
    this.firstReadTimeoutMs = options.firstReadTimeoutMs ?? defaultFirstReadTimeoutMs;
    this.clockSkewMs = options.clockSkewMs ?? 15_000;
    this.field = options.replicaField ?? replicaField();
    this.log = (options.logger ?? silentLogger).child({ component: 'ratelimit', replica: this.field });
  }

  /** Whether one more message fits, without counting it (cheap early refusal at MAIL FROM). */
  async check(tenantId: string, sender: string, limits: SenderLimits): Promise<RateVerdict> {
    const state = await this.state(tenantId, sender);
    return judge(this.totalsOf(state), limits);
  }

  /** Counts one message if it fits; otherwise says which window is full and counts nothing. */
  async consume(tenantId: string, sender: string, limits: SenderLimits): Promise<RateVerdict> {
    const state = await this.state(tenantId, sender);
    const verdict = judge(this.totalsOf(state), limits);
    if (!verdict.ok) return verdict;
    state.own = record(state.own, this.now());
    state.dirty = true;
    return { ok: true, minute: verdict.minute + 1, day: verdict.day + 1 };
  }

  /** Senders held in memory (bounded by eviction). */
  get size(): number {
    return this.states.size;
  }

  /** Starts the background sync; the timer does not keep the process alive. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sync(), this.syncIntervalMs);
    this.timer.unref();
    this.log.info({ syncIntervalMs: this.syncIntervalMs }, 'rate limit sync started');
  }

  /** Stops the background sync and writes what is not written yet (front shutdown). */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    let timeout: NodeJS.Timeout | undefined;
    const flushed = (async () => {
      await this.running;
      await this.writeDirty({ written: 0, read: 0, failed: 0, evicted: 0 });
    })();
    const gaveUp = new Promise<'timeout'>((resolve) => {
      timeout = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([flushed, gaveUp]);
    clearTimeout(timeout);
    const unwritten = [...this.states.values()].filter((s) => s.dirty).length;
    if (outcome === 'timeout' || unwritten > 0)
      this.log.warn({ unwritten }, 'rate limit counts not written at shutdown');
    else this.log.info('rate limit counts written at shutdown');
  }

  /**
   * One round: read the senders whose first read failed, write every sender counted since the
   * last round, read back what the other replicas wrote, forget idle senders. Never rejects;
   * failures are logged and retried next round. Calls during a round share it.
   */
  sync(): Promise<SyncReport> {
    this.running ??= this.syncOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async syncOnce(): Promise<SyncReport> {
    const report: SyncReport = { written: 0, read: 0, failed: 0, evicted: 0 };
    await this.readUnloaded(report);
    await this.writeDirty(report);
    await this.readBack(report);
    report.evicted = this.evictIdle();
    this.noteOutcome(report);
    return report;
  }

  private async state(tenantId: string, sender: string): Promise<SenderState> {
    const rowKey = rowKeyOf(sender);
    const key = `${tenantId}\n${rowKey}`;
    let state = this.states.get(key);
    if (!state) {
      state = {
        tenantId,
        rowKey,
        own: emptyContribution(),
        others: new Map(),
        dirty: false,
        loaded: false,
        lastSeen: this.wall(),
      };
      this.states.set(key, state);
      if (!this.lastRead.has(tenantId)) this.lastRead.set(tenantId, this.wall());
      // While storage is known to be down, new senders count locally at once; the sync reads them.
      if (this.failingSince === undefined) state.loading = this.firstRead(state);
    }
    if (state.loading) await state.loading;
    state.lastSeen = this.wall();
    return state;
  }

  private async firstRead(state: SenderState): Promise<void> {
    try {
      await this.pointRead(state, AbortSignal.timeout(this.firstReadTimeoutMs));
    } catch (err) {
      // Counted locally from here; the next sync reads it before writing it.
      this.failure('first read', err);
    } finally {
      state.loading = undefined;
    }
  }

  /** Reads one sender's entity and merges it in; our own property adds to what we counted since. */
  private async pointRead(state: SenderState, abortSignal?: AbortSignal): Promise<void> {
    let entity: Record<string, unknown> | undefined;
    try {
      entity = await this.table.getEntity(state.tenantId, state.rowKey, { abortSignal });
    } catch (err) {
      if (!(err instanceof RestError && err.statusCode === 404)) throw err;
    }
    if (entity) {
      const all = contributionsOf(entity);
      const mine = all.get(this.field);
      all.delete(this.field);
      // Our property is there when this sender was forgotten after its counts were written.
      if (mine) {
        const countedMeanwhile = Object.keys(state.own.hours).length > 0;
        state.own = add(mine, state.own);
        state.dirty ||= countedMeanwhile;
      }
      state.others = all;
    }
    state.loaded = true;
  }

  private async readUnloaded(report: SyncReport): Promise<void> {
    for (const state of this.states.values()) {
      if (state.loaded || state.loading) continue;
      try {
        await this.pointRead(state);
        report.read++;
      } catch (err) {
        report.failed++;
        this.failure('read', err);
        return;
      }
    }
  }

  /** Upserts (Merge) this replica's property of every sender counted since the last write. */
  private async writeDirty(report: SyncReport): Promise<void> {
    const byTenant = new Map<string, SenderState[]>();
    for (const state of this.states.values()) {
      // An unread sender is not written: our property may hold counts we would overwrite.
      if (!state.dirty || !state.loaded) continue;
      const list = byTenant.get(state.tenantId) ?? [];
      list.push(state);
      byTenant.set(state.tenantId, list);
    }
    for (const [tenantId, list] of byTenant) {
      for (let i = 0; i < list.length; i += maxBatch) {
        const batch = list.slice(i, i + maxBatch).map((state) => ({ state, own: state.own }));
        const actions: TransactionAction[] = batch.map(({ state, own }) => [
          'upsert',
          { partitionKey: tenantId, rowKey: state.rowKey, [this.field]: formatContribution(own) },
          'Merge',
        ]);
        try {
          await this.table.submitTransaction(actions);
          // Messages counted while the batch was in flight keep the sender dirty.
          for (const { state, own } of batch) if (state.own === own) state.dirty = false;
          report.written += batch.length;
        } catch (err) {
          report.failed++;
          this.failure('write', err);
        }
      }
    }
  }

  /**
   * One query per tenant with senders in memory: every entity of the tenant changed since the last
   * read-back (the server's Timestamp), whoever changed it. Unchanged senders cost nothing.
   */
  private async readBack(report: SyncReport): Promise<void> {
    const tenants = new Set([...this.states.values()].map((s) => s.tenantId));
    const stale: { entity: Record<string, unknown>; etag: string }[] = [];
    for (const tenantId of tenants) {
      const started = this.wall();
      const since = new Date((this.lastRead.get(tenantId) ?? started) - this.clockSkewMs);
      try {
        const entities = this.table.listEntities<Record<string, unknown>>({
          queryOptions: { filter: odata`PartitionKey eq ${tenantId} and Timestamp ge ${since}` },
        });
        for await (const entity of entities) {
          report.read++;
          const state = this.states.get(`${tenantId}\n${entity.rowKey}`);
          const all = contributionsOf(entity);
          const now = this.now();
          if ([...all.values()].some((c) => expired(c, now))) stale.push({ entity, etag: entity.etag });
          if (!state || state.loading || !state.loaded) continue;
          all.delete(this.field);
          state.others = all;
        }
        this.lastRead.set(tenantId, started);
      } catch (err) {
        report.failed++;
        this.failure('read', err);
      }
    }
    for (const { entity, etag } of stale) await this.dropExpired(entity, etag);
  }

  /** Removes properties whose counts all left the day window, unless someone wrote meanwhile. */
  private async dropExpired(entity: Record<string, unknown>, etag: string): Promise<void> {
    const now = this.now();
    const kept: Record<string, unknown> = { partitionKey: entity.partitionKey, rowKey: entity.rowKey };
    const contributions = contributionsOf(entity);
    for (const [name, value] of Object.entries(entity)) {
      if (['partitionKey', 'rowKey', 'etag', 'timestamp', 'odata.metadata'].includes(name)) continue;
      const c = contributions.get(name);
      if (c && expired(c, now)) continue;
      kept[name] = value;
    }
    try {
      await this.table.updateEntity(kept as { partitionKey: string; rowKey: string }, 'Replace', { etag });
    } catch (err) {
      // 412: another replica wrote first; the next read-back sees the entity again and retries.
      if (!(err instanceof RestError && (err.statusCode === 412 || err.statusCode === 404)))
        this.failure('cleanup', err);
    }
  }

  private evictIdle(): number {
    const cutoff = this.wall() - this.idleEvictMs;
    let evicted = 0;
    for (const [key, state] of this.states) {
      if (state.dirty || !state.loaded || state.loading || state.lastSeen > cutoff) continue;
      this.states.delete(key);
      evicted++;
    }
    const tenants = new Set([...this.states.values()].map((s) => s.tenantId));
    for (const tenantId of this.lastRead.keys()) if (!tenants.has(tenantId)) this.lastRead.delete(tenantId);
    return evicted;
  }

  private totalsOf(state: SenderState) {
    return totals([state.own, ...state.others.values()], this.now());
  }

  /** Logs the first failure of an outage, then at most once a minute; counting goes on locally. */
  private failure(step: string, err: unknown): void {
    const wall = this.wall();
    this.failingSince ??= wall;
    if (wall - this.lastFailureLog < 60_000) return;
    this.lastFailureLog = wall;
    const unwritten = [...this.states.values()].filter((s) => s.dirty).length;
    this.log.warn(
      { step, err: describeError(err), unwritten, failingForMs: wall - this.failingSince },
      'rate limit sync failed: counting locally, retrying every sync',
    );
  }

  private noteOutcome(report: SyncReport): void {
    if (report.failed > 0 || this.failingSince === undefined) return;
    this.log.info({ failedForMs: this.wall() - this.failingSince }, 'rate limit sync recovered');
    this.failingSince = undefined;
    this.lastFailureLog = 0;
  }
}
