import type { DurableClient } from 'durable-functions';
import { describeError } from '../errors/index.js';
import { runtime } from './runtime.js';
import { startProcessing } from './start.js';

export interface SweepOptions {
  /** Blobs in `inbound` older than this with no live orchestration are restarted. */
  orphanMinutes: number;
  /** Trace and delivery records older than this are deleted. */
  retentionDays: number;
}

export function sweepOptionsFromEnv(env: Record<string, string | undefined> = process.env): SweepOptions {
  return {
    orphanMinutes: Number(env.SIGRELAY_ORPHAN_MINUTES ?? 10),
    retentionDays: Number(env.SIGRELAY_TRACE_RETENTION_DAYS ?? 7),
  };
}

/**
 * The last line of defence before the lifecycle rule: any message still in `inbound` well after it
 * arrived, whose orchestration is missing, failed, terminated or completed without deleting it, is
 * started again (the delivery record prevents a second send). Also applies trace retention.
 */
export async function sweep(
  client: DurableClient,
  options: SweepOptions,
): Promise<{ restarted: string[]; purged: number }> {
  const rt = runtime();
  const log = rt.logger.child({ step: 'sweep' });
  const cutoff = Date.now() - options.orphanMinutes * 60_000;
  const restarted: string[] = [];
  for await (const blob of rt.storage.inbound.listBlobsFlat()) {
    if ((blob.properties.lastModified?.getTime() ?? Date.now()) > cutoff) continue;
    try {
      if ((await startProcessing(client, blob.name, { force: true })) === 'started') {
        restarted.push(blob.name);
        await rt.trace.record(blob.name, [{ event: 'restarted', by: 'sweeper' }]);
        log.warn({ messageId: blob.name }, 'orphaned message restarted');
      }
    } catch (err) {
      log.error({ messageId: blob.name, err: describeError(err) }, 'could not restart an orphaned message');
    }
  }
  const before = new Date(Date.now() - options.retentionDays * 86_400_000);
  const purged = (await rt.trace.purgeBefore(before)) + (await rt.state.purgeBefore(before));
  if (restarted.length > 0 || purged > 0) log.info({ restarted: restarted.length, purged }, 'sweep done');
  return { restarted, purged };
}
