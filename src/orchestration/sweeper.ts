import { OrchestrationRuntimeStatus, type DurableClient } from 'durable-functions';
import { describeError } from '../errors/index.js';
import { recordTrace } from '../message/index.js';
import type { Runtime } from '../processing/index.js';
import { telemetry } from '../telemetry/index.js';
import { startProcessing } from './start.js';

export interface SweepOptions {
  /**
   * Blobs in `inbound` older than this with no live orchestration are started again. Longer than the
   * function timeout (host.json, 10 min), so a direct attempt still running is never raced.
   */
  orphanMinutes: number;
  /** Trace and delivery records older than this are deleted. */
  retentionDays: number;
  /** Finished orchestrations' history (Durable's task hub) older than this is purged. */
  historyRetentionDays: number;
}

export function sweepOptionsFromEnv(env: Record<string, string | undefined> = process.env): SweepOptions {
  return {
    orphanMinutes: Number(env.SIGRELAY_ORPHAN_MINUTES ?? 15),
    retentionDays: Number(env.SIGRELAY_TRACE_RETENTION_DAYS ?? 7),
    historyRetentionDays: Number(env.SIGRELAY_HISTORY_RETENTION_DAYS ?? 7),
  };
}

/**
 * The safety net: any message still in `inbound` well after it arrived, whose orchestration is
 * missing, failed, terminated or completed without deleting it, is started again (the delivery
 * record prevents a second send). It covers a claim-check lost after its blob was committed (the
 * front's rollback failed) or moved to the poison queue. Also applies trace retention.
 *
 * The direct path keeps no per-message record, so while any claim-check is still in the queue
 * (visible or leased) a stored message may be about to be handled there, and starting it here too
 * could deliver it twice. Orphans are therefore looked for only when the queue is empty — its
 * approximate count is never lower than the real one — and otherwise wait for the next quiet minute.
 */
export async function sweep(
  rt: Runtime,
  client: DurableClient,
  options: SweepOptions,
): Promise<{ restarted: string[]; purged: number }> {
  const log = rt.logger.child({ step: 'sweep' });
  const cutoff = Date.now() - options.orphanMinutes * 60_000;
  const restarted: string[] = [];
  const waiting = (await rt.storage.inboundQueue.getProperties()).approximateMessagesCount ?? 0;
  const blobs = waiting > 0 ? [] : rt.storage.inbound.listBlobsFlat({ includeMetadata: true });
  const backlog = { messages: waiting, oldest: Date.now() };
  for await (const blob of blobs) {
    backlog.messages++;
    backlog.oldest = Math.min(backlog.oldest, blob.properties.lastModified?.getTime() ?? Date.now());
    if ((blob.properties.lastModified?.getTime() ?? Date.now()) > cutoff) continue;
    try {
      const tenantId = blob.metadata?.tenant;
      const input = { id: blob.name, reason: 'orphan' as const, ...(tenantId ? { tenantId } : {}) };
      if ((await startProcessing(client, input, { force: true })) === 'started') {
        restarted.push(blob.name);
        await recordTrace(rt, blob.name, [{ event: 'restarted', by: 'sweeper' }]);
        log.warn({ messageId: blob.name }, 'orphaned message restarted');
      }
    } catch (err) {
      log.error({ messageId: blob.name, err: describeError(err) }, 'could not restart an orphaned message');
    }
  }
  // While the queue is busy the oldest claim-check stands for the backlog (messages in retry wait for a quiet minute).
  const [queued] = waiting > 0 ? (await rt.storage.inboundQueue.peekMessages()).peekedMessageItems : [];
  backlog.oldest = Math.min(backlog.oldest, queued?.insertedOn.getTime() ?? Date.now());
  telemetry.backlog({ messages: backlog.messages, oldestAgeSeconds: (Date.now() - backlog.oldest) / 1000 });
  const before = new Date(Date.now() - options.retentionDays * 86_400_000);
  const purged = (await rt.trace.purgeBefore(before)) + (await rt.deliveryState.purgeBefore(before));
  if (restarted.length > 0 || purged > 0) log.info({ restarted: restarted.length, purged }, 'sweep done');
  return { restarted, purged };
}

/**
 * Deletes the task hub's history of finished orchestrations older than the retention: the Azure
 * Storage provider keeps every instance's History and Instances rows forever otherwise.
 */
export async function purgeHistory(
  rt: Runtime,
  client: DurableClient,
  options: Pick<SweepOptions, 'historyRetentionDays'>,
): Promise<number> {
  const result = await client.purgeInstanceHistoryBy({
    createdTimeFrom: new Date(0),
    createdTimeTo: new Date(Date.now() - options.historyRetentionDays * 86_400_000),
    runtimeStatus: [
      OrchestrationRuntimeStatus.Completed,
      OrchestrationRuntimeStatus.Failed,
      OrchestrationRuntimeStatus.Terminated,
    ],
  });
  if (result.instancesDeleted > 0)
    rt.logger.info({ step: 'purge', instances: result.instancesDeleted }, 'orchestration history purged');
  return result.instancesDeleted;
}
