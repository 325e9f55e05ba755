import { RestError, type TableClient } from '@azure/data-tables';

/**
 * Per-sender message limits counted in Azure Table storage, so every SMTP front replica sees the
 * same counts (in-memory counters would allow N replicas × the limit).
 *
 * One entity per (tenant, sender) holds the current minute's count and 24 hourly counts. Counting
 * is a read-modify-write guarded by the entity's ETag (optimistic concurrency): two replicas racing
 * on the same sender cannot both win, the loser re-reads and re-checks. One entity per sender keeps
 * it at one point read + one conditional write per message, and the table never grows with traffic.
 * Trade-offs: the day window slides by the hour (the oldest hour leaves as a whole), and a burst
 * from one sender across replicas costs retries, never a wrong count.
 */
export interface SenderLimits {
  perMinute: number;
  perDay: number;
}

export type RateVerdict =
  | { ok: true; minute: number; day: number }
  | { ok: false; window: 'minute' | 'day'; count: number; limit: number };

interface CounterEntity {
  partitionKey: string;
  rowKey: string;
  minute: string;
  minuteCount: number;
  /** JSON object: hour key (yyyymmddhh, UTC) → messages in that hour. */
  hours: string;
}

export interface RateLimiterOptions {
  now?: () => number;
  /** Conditional-write attempts before letting this one count slip (see `consume`). */
  maxAttempts?: number;
}

export class SenderRateLimiter {
  private readonly table: TableClient;
  private readonly now: () => number;
  private readonly maxAttempts: number;

  constructor(table: TableClient, options: RateLimiterOptions = {}) {
    this.table = table;
    this.now = options.now ?? Date.now;
    this.maxAttempts = options.maxAttempts ?? 8;
  }

  /** Whether one more message fits, without counting it (cheap early refusal at MAIL FROM). */
  async check(tenantId: string, sender: string, limits: SenderLimits): Promise<RateVerdict> {
    const stored = await this.read(tenantId, sender);
    return judge(counts(stored?.entity, this.now()), limits);
  }

  /** Counts one message if it fits; otherwise says which window is full and counts nothing. */
  async consume(tenantId: string, sender: string, limits: SenderLimits): Promise<RateVerdict> {
    for (let attempt = 1; ; attempt++) {
      const now = this.now();
      const stored = await this.read(tenantId, sender);
      const current = counts(stored?.entity, now);
      const verdict = judge(current, limits);
      if (!verdict.ok) return verdict;
      const next = increment(current, tenantId, sender, now);
      try {
        if (stored) await this.table.updateEntity(next, 'Replace', { etag: stored.etag });
        else await this.table.createEntity(next);
        return { ok: true, minute: current.minute + 1, day: current.day + 1 };
      } catch (err) {
        const lostRace = err instanceof RestError && (err.statusCode === 412 || err.statusCode === 409);
        if (!lostRace) throw err;
        // Under heavy contention (many messages of one sender at the same instant, across replicas)
        // one count is allowed to slip rather than deferring legitimate mail with a 4xx: the limit
        // protects against abuse, and the very next messages are counted again.
        if (attempt >= this.maxAttempts) return { ok: true, minute: current.minute, day: current.day };
        await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
      }
    }
  }

  private async read(
    tenantId: string,
    sender: string,
  ): Promise<{ entity: CounterEntity; etag: string } | undefined> {
    try {
      const entity = await this.table.getEntity<CounterEntity>(tenantId, rowKeyOf(sender));
      return { entity, etag: entity.etag };
    } catch (err) {
      if (err instanceof RestError && err.statusCode === 404) return undefined;
      throw err;
    }
  }
}

interface Counts {
  minute: number;
  day: number;
  hours: Record<string, number>;
}

function counts(entity: CounterEntity | undefined, now: number): Counts {
  if (!entity) return { minute: 0, day: 0, hours: {} };
  const hours = liveHours(JSON.parse(entity.hours) as Record<string, number>, now);
  const day = Object.values(hours).reduce((a, b) => a + b, 0);
  return { minute: entity.minute === minuteKey(now) ? entity.minuteCount : 0, day, hours };
}

function judge(current: Counts, limits: SenderLimits): RateVerdict {
  if (current.day >= limits.perDay)
    return { ok: false, window: 'day', count: current.day, limit: limits.perDay };
  if (current.minute >= limits.perMinute)
    return { ok: false, window: 'minute', count: current.minute, limit: limits.perMinute };
  return { ok: true, minute: current.minute, day: current.day };
}

function increment(current: Counts, tenantId: string, sender: string, now: number): CounterEntity {
  const hour = hourKey(now);
  const hours = { ...current.hours, [hour]: (current.hours[hour] ?? 0) + 1 };
  return {
    partitionKey: tenantId,
    rowKey: rowKeyOf(sender),
    minute: minuteKey(now),
    minuteCount: current.minute + 1,
    hours: JSON.stringify(hours),
  };
}

/** The current hour and the 23 before it: the sliding 24 h window, at hour granularity. */
function liveHours(hours: Record<string, number>, now: number): Record<string, number> {
  const oldest = hourKey(now - 23 * 3600_000);
  return Object.fromEntries(Object.entries(hours).filter(([k]) => k >= oldest));
}

function minuteKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace(/\D/g, '');
}

function hourKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 13).replace(/\D/g, '');
}

/** Table keys may not contain / \ # ? or control characters; addresses may. */
function rowKeyOf(sender: string): string {
  return encodeURIComponent(sender || '<>');
}
