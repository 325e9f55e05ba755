/** A UTC instant in the admin's locale and time zone, to the second (or the millisecond, for timelines). */
export function formatTime(iso: string | undefined, precise = false): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  if (!precise) return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  const day = date.toLocaleDateString(undefined, { dateStyle: 'medium' });
  const time = date.toLocaleTimeString(undefined, {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    fractionalSecondDigits: 3,
  });
  return `${day}, ${time}`;
}

/** Seconds as "42 s", "3 min 5 s", "2 h 10 min". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
