/**
 * The counting windows, as pure functions of a clock value: one replica's counts for one sender
 * (a "contribution"), the totals of several contributions, and the verdict against the limits.
 *
 * Minute window: the calendar minute (UTC). Day window: the current hour and the 23 before it, so
 * the oldest hour leaves as a whole.
 */
export interface SenderLimits {
  perMinute: number;
  perDay: number;
}

export type RateVerdict =
  | { ok: true; minute: number; day: number }
  | { ok: false; window: 'minute' | 'day'; count: number; limit: number };

/** One replica's messages for one sender: the minute it last counted in, and per-hour counts. */
export interface Contribution {
  /** yyyymmddhhmm (UTC) of `minuteCount`. */
  minute: string;
  minuteCount: number;
  /** hour key (yyyymmddhh, UTC) → messages in that hour. */
  hours: Record<string, number>;
}

export interface Totals {
  minute: number;
  day: number;
}

export const emptyContribution = (): Contribution => ({ minute: '', minuteCount: 0, hours: {} });

/** The contribution with one more message at `now`, hours outside the day window dropped. */
export function record(c: Contribution, now: number): Contribution {
  const minute = minuteKey(now);
  const hour = hourKey(now);
  const hours = liveHours(c.hours, now);
  hours[hour] = (hours[hour] ?? 0) + 1;
  return { minute, minuteCount: (c.minute === minute ? c.minuteCount : 0) + 1, hours };
}

/** What a set of contributions adds up to in the windows open at `now`. */
export function totals(contributions: Iterable<Contribution>, now: number): Totals {
  const minute = minuteKey(now);
  const oldest = oldestLiveHour(now);
  let m = 0;
  let d = 0;
  for (const c of contributions) {
    if (c.minute === minute) m += c.minuteCount;
    for (const [hour, n] of Object.entries(c.hours)) if (hour >= oldest) d += n;
  }
  return { minute: m, day: d };
}

/** Whether one more message fits: the day window is reported first, it is the longer wait. */
export function judge(current: Totals, limits: SenderLimits): RateVerdict {
  if (current.day >= limits.perDay)
    return { ok: false, window: 'day', count: current.day, limit: limits.perDay };
  if (current.minute >= limits.perMinute)
    return { ok: false, window: 'minute', count: current.minute, limit: limits.perMinute };
  return { ok: true, minute: current.minute, day: current.day };
}

/** A contribution that no longer counts in any window (every message in it is also in an hour). */
export function expired(c: Contribution, now: number): boolean {
  return totals([c], now).day === 0;
}

/** Two contributions of one replica counted apart (before and after it forgot a sender), as one. */
export function add(a: Contribution, b: Contribution): Contribution {
  const hours = { ...a.hours };
  for (const [hour, n] of Object.entries(b.hours)) hours[hour] = (hours[hour] ?? 0) + n;
  if (a.minute === b.minute) return { minute: a.minute, minuteCount: a.minuteCount + b.minuteCount, hours };
  const later = a.minute > b.minute ? a : b;
  return { minute: later.minute, minuteCount: later.minuteCount, hours };
}

function liveHours(hours: Record<string, number>, now: number): Record<string, number> {
  const oldest = oldestLiveHour(now);
  return Object.fromEntries(Object.entries(hours).filter(([k]) => k >= oldest));
}

function oldestLiveHour(now: number): string {
  return hourKey(now - 23 * 3600_000);
}

export function minuteKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace(/\D/g, '');
}

export function hourKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 13).replace(/\D/g, '');
}
