import type { RecentActivity } from '../contracts/service-status.js';
import type { MessageTrace } from '../trace/index.js';

/** Viewers within one interval share one fan-out over the trace's shards (the console refreshes every 15 s). */
const reuseForMs = 15_000;

/** What the trace recorded in the hour before `now`: deliveries, failed attempts, dead letters. */
export async function recentActivity(
  trace: Pick<MessageTrace, 'eventsSince'>,
  now = Date.now(),
): Promise<RecentActivity> {
  const lastHour: RecentActivity = { delivered: 0, failed: 0, deadLettered: 0 };
  const recent = await trace.eventsSince(
    new Date(now - 3600_000),
    ['delivered', 'dead-lettered', 'delivery-attempt'],
    { reuseForMs },
  );
  for (const r of recent) {
    if (r.event === 'delivered') lastHour.delivered++;
    else if (r.event === 'dead-lettered') lastHour.deadLettered++;
    else if (r.details.status !== 'delivered') lastHour.failed++;
  }
  return lastHour;
}
