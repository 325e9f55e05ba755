/**
 * Where a trace event lives. Table storage serves one partition from one partition server (about
 * 2,000 entities/s) and range-partitions by PartitionKey, so a key that starts with the time sends
 * every write to the newest range: the "prepend/append anti-pattern" of Microsoft's table design
 * patterns. The trace therefore keeps one table per UTC day of the message id (retention drops a
 * whole table) and, inside it, `shardCount` partitions chosen by a hash of the message id, with the
 * shard first in the key so the writes of one moment spread over every range. The RowKey starts
 * with the message id (which starts with its receive time), so a time range is a RowKey range in
 * each shard and a message is one small range in one shard. docs/architecture.md has the figures.
 */

/** 64 × 2,000 entities/s is far above one storage account's request target: the shards never cap. */
export const shardCount = 64;

/** Also the pre-day-table layout's only table (PartitionKey = receive hour), still read after an upgrade. */
export const legacyTable = 'sigrelaytrace';

/** Ids that do not start with a time stamp (hand-made, tests) share one table, trimmed row by row. */
export const undatedTable = `${legacyTable}undated`;

const dayTablePattern = new RegExp(`^${legacyTable}(\\d{8})$`);

/** The day table of a message id (`sigrelaytraceYYYYMMDD`), or the undated table. */
export function tableOf(id: string): string {
  return /^\d{8}/.test(id) ? `${legacyTable}${id.slice(0, 8)}` : undatedTable;
}

/** The day (`YYYYMMDD`) a table name holds, if it is a day table. */
export function dayOf(table: string): string | undefined {
  return dayTablePattern.exec(table)?.[1];
}

/** The shard's PartitionKey ("00"–"63"): FNV-1a of the whole id, so any id format spreads evenly. */
export function shardOf(id: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return shardKey(h % shardCount);
}

export function shardKey(n: number): string {
  return String(n).padStart(2, '0');
}

export const allShards: readonly string[] = Array.from({ length: shardCount }, (_, i) => shardKey(i));

/** `YYYYMMDDHH` of a date (UTC): the prefix our message ids share within an hour. */
export function hourKey(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 10);
}

/** The day tables from the day of `since` to the day of `until`, oldest first. */
export function dayTablesBetween(since: Date, until: Date): string[] {
  const out: string[] = [];
  const day = new Date(Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate()));
  for (; day <= until; day.setUTCDate(day.getUTCDate() + 1))
    out.push(`${legacyTable}${hourKey(day).slice(0, 8)}`);
  return out;
}
