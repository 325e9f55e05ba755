import type { Runtime } from '../processing/index.js';
import { retriedAfterPermanentReply } from '../storage/index.js';
import type { ConfigStatus, Health } from './contract.js';

/** How many stored messages the health page looks at, at most (it counts, it does not page). */
const scanLimit = 5000;

/**
 * The facts on the health page, read from storage as they are now: the inbound queue and its poison
 * queue, the messages still stored in `inbound` (the oldest one's age), those the orchestration is
 * retrying (a delivery record with attempts and the message still stored), dead letters, and the
 * trace's last hour. Written here because `sigrelay status` (src/status) does not exist on main yet.
 */
export async function collectHealth(
  rt: Pick<Runtime, 'storage' | 'deliveryState' | 'trace' | 'deadLetters'>,
  config: () => Promise<ConfigStatus>,
): Promise<Health> {
  const now = Date.now();
  const [depth, poison] = await Promise.all([
    queueDepth(rt.storage.inboundQueue),
    queueDepth(rt.storage.queues.getQueueClient(`${rt.storage.inboundQueue.name}-poison`)),
  ]);
  const [queued] = depth > 0 ? (await rt.storage.inboundQueue.peekMessages()).peekedMessageItems : [];
  let messages = 0;
  let oldest = queued?.insertedOn.getTime() ?? now;
  let inRetry = 0;
  let afterPermanent = 0;
  for await (const blob of rt.storage.inbound.listBlobsFlat()) {
    if (++messages > scanLimit) break;
    const at = blob.properties.lastModified?.getTime() ?? now;
    oldest = Math.min(oldest, at);
    // The direct path finishes in seconds; a stored message with delivery attempts behind it is being retried.
    const progress = await rt.deliveryState.get(blob.name);
    if (now - at > 30_000 && (progress?.attempts ?? 0) > 0) inRetry++;
    if (retriedAfterPermanentReply(progress)) afterPermanent++;
  }
  const deadLetters = (await rt.deadLetters.list()).length;
  const hourAgo = new Date(now - 3600_000);
  const lastHour = { delivered: 0, failed: 0, deadLettered: 0 };
  // The console refreshes every 15 s: viewers within one interval share one fan-out over the shards.
  const recent = await rt.trace.eventsSince(hourAgo, ['delivered', 'dead-lettered', 'delivery-attempt'], {
    reuseForMs: 15_000,
  });
  for (const r of recent) {
    if (r.event === 'delivered') lastHour.delivered++;
    else if (r.event === 'dead-lettered') lastHour.deadLettered++;
    else if (r.details.status !== 'delivered') lastHour.failed++;
  }
  return {
    at: new Date(now).toISOString(),
    queue: { depth, poison },
    unfinished: {
      messages: Math.min(messages, scanLimit),
      oldestAgeSeconds: Math.round((now - oldest) / 1000),
    },
    inRetry,
    retriedAfterPermanentReply: afterPermanent,
    deadLetters,
    lastHour,
    config: await config(),
  };
}

async function queueDepth(queue: Runtime['storage']['inboundQueue']): Promise<number> {
  try {
    return (await queue.getProperties()).approximateMessagesCount ?? 0;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return 0;
    throw err;
  }
}
