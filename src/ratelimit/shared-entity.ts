import crypto from 'node:crypto';
import os from 'node:os';
import type { Contribution } from './windows.js';

/**
 * The shared counts in Table storage (`sigrelaylimits`): one entity per (tenant, sender),
 * PartitionKey = tenant id, RowKey = the sender address. Each front replica owns one property of it,
 * named `r_<host>_<random>`, holding that replica's own counts as readable JSON:
 *
 *   r_front_5d8f7c_a1b2c3 = {"minute":"202603021000","minuteCount":3,"hours":{"2026030210":5}}
 *
 * A replica only ever writes its own property (an upsert in Merge mode leaves the others alone), so
 * replicas never conflict and need no ETag on their writes; the global count is the sum of every
 * property. The values are absolute, not deltas, so a write that is retried or repeated after a
 * timeout cannot count anything twice. Properties whose counts have all left the 24 h window are
 * removed by whichever replica reads them next, with a conditional (ETag) replace.
 */
export const fieldPrefix = 'r_';

/** The property name of this process. Unique per process: a restarted replica must not take over
 * the property of its previous life (it would overwrite counts it no longer holds). */
export function replicaField(hostname = os.hostname()): string {
  const host = hostname.replace(/[^A-Za-z0-9]/g, '_').slice(0, 40);
  return `${fieldPrefix}${host}_${crypto.randomBytes(3).toString('hex')}`;
}

/** Every replica's contribution in an entity, by property name; unreadable values are skipped. */
export function contributionsOf(entity: Record<string, unknown>): Map<string, Contribution> {
  const out = new Map<string, Contribution>();
  for (const [name, value] of Object.entries(entity)) {
    if (!name.startsWith(fieldPrefix) || typeof value !== 'string') continue;
    const parsed = parseContribution(value);
    if (parsed) out.set(name, parsed);
  }
  return out;
}

export function formatContribution(c: Contribution): string {
  return JSON.stringify({ minute: c.minute, minuteCount: c.minuteCount, hours: c.hours });
}

function parseContribution(value: string): Contribution | undefined {
  try {
    const v = JSON.parse(value) as Partial<Contribution>;
    if (typeof v.minute !== 'string' || typeof v.minuteCount !== 'number') return undefined;
    if (typeof v.hours !== 'object' || v.hours === null) return undefined;
    const hours: Record<string, number> = {};
    for (const [k, n] of Object.entries(v.hours)) if (typeof n === 'number') hours[k] = n;
    return { minute: v.minute, minuteCount: v.minuteCount, hours };
  } catch {
    return undefined;
  }
}

/**
 * Table keys may not contain / \ # ? or control characters and stop at 1 KiB; addresses may hold
 * all of those (and SMTPUTF8 ones grow when encoded), so an over-long key becomes a hash.
 */
export function rowKeyOf(sender: string): string {
  const encoded = encodeURIComponent(sender || '<>');
  if (encoded.length <= 512) return encoded;
  return `sha256-${crypto.createHash('sha256').update(sender).digest('hex')}`;
}
