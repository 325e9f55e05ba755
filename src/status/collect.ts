import type { TableClient } from '@azure/data-tables';
import type { QueueClient } from '@azure/storage-queue';
import { parseTenants } from '../config/tenants.js';
import type { Tenant } from '../config/index.js';
import { ContentStore } from '../content/index.js';
import type { ConfigFiles } from '../content/index.js';
import { readSyncStatus } from '../content/graph/tenant-sync.js';
import { orchestratorName } from '../contracts/index.js';
import { describeError } from '../errors/index.js';
import { explainReply } from '../exchange/replies.js';
import {
  DeadLetters,
  DeliveryStateTable,
  isNotFound,
  MessageStore,
  names,
  retriedAfterPermanentReply,
  type DeliveryState,
  type StorageClients,
} from '../storage/index.js';
import type { RetryReason, ServiceStatus, TenantDirectoryStatus } from '../contracts/service-status.js';

export type {
  QueueStatus,
  RetryReason,
  ServiceStatus,
  TenantDirectoryStatus,
} from '../contracts/service-status.js';

/** Where the status is read from: the storage account (or Azurite) and the configuration source. */
export interface StatusSources {
  storage: StorageClients;
  /** The Durable Task hub's `<hub>Instances` table (the local host mirrors its instances there). */
  instances: TableClient;
  /** The configuration as the services load it: the local directory, or the Blob `config` container. */
  config: ConfigFiles;
  /** Directory that relative certificate paths in tenants.json resolve against. */
  configBaseDir: string;
  /** What to call the storage in the report (`Azurite (local)`, the account name). */
  storageLabel: string;
  /**
   * The configuration cache of a long-running process (the console's): read after a refresh rather
   * than loading the whole configuration again on every look. Absent: loaded once from `config`.
   */
  content?: () => Promise<ContentStore>;
  now?: () => number;
}

async function depth(queue: QueueClient): Promise<number> {
  try {
    return (await queue.getProperties()).approximateMessagesCount ?? 0;
  } catch (err) {
    if (isNotFound(err)) return 0;
    throw err;
  }
}

/** How many stored messages the permanent-reply check reads a delivery record for, at most. */
const permanentScanLimit = 5000;

/** One listing of `inbound` answers how many are stored, the oldest, and which were refused for good. */
async function storedMessages(
  storage: StorageClients,
  records: DeliveryRecords,
  now: number,
): Promise<{
  stored: number;
  oldest: ServiceStatus['inbound']['oldest'];
  afterPermanentReply: ServiceStatus['retrying']['afterPermanentReply'];
}> {
  let stored = 0;
  let oldest: { id: string; at: number } | undefined;
  const ids: string[] = [];
  for await (const blob of storage.inbound.listBlobsFlat()) {
    stored++;
    if (ids.length < permanentScanLimit) ids.push(blob.name);
    const at = blob.properties.lastModified?.getTime() ?? now;
    if (!oldest || at < oldest.at) oldest = { id: blob.name, at };
  }
  // A claim-check whose message is no longer listed (or listed late) still says how long one waits.
  const [queued] =
    (await storage.inboundQueue.peekMessages().catch(() => undefined))?.peekedMessageItems ?? [];
  if (queued && (!oldest || queued.insertedOn.getTime() < oldest.at))
    oldest = { id: `claim-check ${queued.messageId}`, at: queued.insertedOn.getTime() };
  return {
    stored,
    oldest: oldest
      ? {
          id: oldest.id,
          since: new Date(oldest.at).toISOString(),
          ageSeconds: Math.max(0, Math.round((now - oldest.at) / 1000)),
        }
      : null,
    afterPermanentReply: await afterPermanentReply(ids, records).catch((err: unknown) => {
      if (isNotFound(err)) return [];
      throw err;
    }),
  };
}

async function afterPermanentReply(
  ids: readonly string[],
  records: DeliveryRecords,
): Promise<ServiceStatus['retrying']['afterPermanentReply']> {
  const found: ServiceStatus['retrying']['afterPermanentReply'] = [];
  const read = await records.read(ids);
  for (const [i, id] of ids.entries()) {
    const progress = read[i];
    if (progress && retriedAfterPermanentReply(progress))
      found.push({ id, response: progress.lastResponse.slice(0, 200) });
  }
  return found;
}

/** Delivery records read at once: how many point reads one look keeps in flight. */
const recordReadsInFlight = 16;

/**
 * The delivery records one look reads, each at most once (a retrying message is both stored and
 * retrying), a bounded number at a time: during an outage thousands of messages are stored and
 * retrying, and the Health page looks every 15 s, so one read after another would take the look
 * tens of seconds, while all at once would flood the account.
 */
class DeliveryRecords {
  private readonly cache = new Map<string, Promise<DeliveryState | undefined>>();
  constructor(private readonly state: DeliveryStateTable) {}

  async read(ids: readonly string[]): Promise<(DeliveryState | undefined)[]> {
    const out: (DeliveryState | undefined)[] = new Array<DeliveryState | undefined>(ids.length);
    let next = 0;
    const reader = async () => {
      while (next < ids.length) {
        const i = next++;
        const id = ids[i] as string;
        let pending = this.cache.get(id);
        if (!pending) {
          pending = this.state.get(id);
          this.cache.set(id, pending);
        }
        out[i] = await pending;
      }
    };
    await Promise.all(Array.from({ length: Math.min(recordReadsInFlight, ids.length) }, reader));
    return out;
  }
}

/** Enough to name the reasons; beyond this the rest are counted but not read one by one. */
const reasonsReadLimit = 500;

async function retrying(
  instances: TableClient,
  records: DeliveryRecords,
): Promise<Omit<ServiceStatus['retrying'], 'afterPermanentReply'>> {
  let count = 0;
  let oldest: number | undefined;
  const ids: string[] = [];
  try {
    const filter = `Name eq '${orchestratorName}' and (RuntimeStatus eq 'Running' or RuntimeStatus eq 'Pending')`;
    for await (const row of instances.listEntities<{ CreatedTime?: Date }>({
      queryOptions: { filter, select: ['PartitionKey', 'CreatedTime'] },
    })) {
      count++;
      if (ids.length < reasonsReadLimit && row.partitionKey) ids.push(row.partitionKey);
      const created = row.CreatedTime ? new Date(row.CreatedTime).getTime() : undefined;
      if (created !== undefined && (oldest === undefined || created < oldest)) oldest = created;
    }
  } catch (err) {
    // No orchestration has ever run on this hub.
    if (!isNotFound(err)) throw err;
  }
  return {
    count,
    oldestSince: oldest === undefined ? null : new Date(oldest).toISOString(),
    byReason: await reasons(ids, records),
  };
}

/** Groups retrying messages by what the endpoint last answered, most common first. */
async function reasons(ids: readonly string[], records: DeliveryRecords): Promise<RetryReason[]> {
  const groups = new Map<string, RetryReason>();
  for (const progress of await records.read(ids)) {
    const last = progress?.lastResponse;
    const e = explainReply(last);
    const key = e?.id ?? (last ? 'other' : 'no-reply-yet');
    const group = groups.get(key) ?? {
      reason: key,
      title: e?.title ?? (last ? 'Other reply' : 'No delivery attempt recorded yet'),
      count: 0,
      ...(e ? { remedy: e.remedy } : {}),
      ...(last ? { example: last.slice(0, 200) } : {}),
    };
    group.count += 1;
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

async function configuration(
  sources: StatusSources,
): Promise<{ status: ServiceStatus['configuration']; tenants: readonly Tenant[] }> {
  const source = sources.config.label('');
  try {
    const store = sources.content
      ? await sources.content()
      : await ContentStore.open(sources.config, { baseDir: sources.configBaseDir });
    // A cached store keeps the last good configuration in service; its refresh says whether the
    // newest one loads, which is what a fresh load answers for the CLI.
    if (sources.content) await store.refresh();
    const tenants = store.tenants.tenants;
    return {
      status: {
        source,
        tenants: tenants.map((t) => ({ id: t.id, name: t.name })),
        error: store.lastError ? describeError(store.lastError) : null,
      },
      tenants,
    };
  } catch (err) {
    // The directory sync state is still worth showing when only a template or rule is broken.
    const tenants = await tenantsAlone(sources).catch(() => []);
    return {
      status: {
        source,
        tenants: tenants.map((t) => ({ id: t.id, name: t.name })),
        error: describeError(err),
      },
      tenants,
    };
  }
}

async function tenantsAlone(sources: StatusSources): Promise<readonly Tenant[]> {
  const raw = await sources.config.read('tenants.json');
  if (!raw) return [];
  return parseTenants(
    JSON.parse(raw.toString('utf8')),
    sources.config.label('tenants.json'),
    sources.configBaseDir,
  ).tenants;
}

async function directory(
  sources: StatusSources,
  tenants: readonly Tenant[],
): Promise<TenantDirectoryStatus[]> {
  const out: TenantDirectoryStatus[] = [];
  for (const tenant of tenants.filter((t) => t.directory)) {
    const sync = await readSyncStatus(sources.config, tenant.id).catch(() => undefined);
    out.push(
      sync
        ? {
            tenantId: tenant.id,
            tenant: tenant.name,
            lastAttemptAt: sync.lastAttemptAt,
            lastSuccessAt: sync.lastSuccessAt,
            lastError: sync.lastError
              ? `${sync.lastError.status ?? ''} ${sync.lastError.code ?? ''} ${sync.lastError.message}`.trim()
              : null,
            consecutiveFailures: sync.consecutiveFailures,
            users: sync.users,
          }
        : { tenantId: tenant.id, tenant: tenant.name, consecutiveFailures: 0 },
    );
  }
  return out;
}

/** Reads everything `sigrelay status` shows; storage errors (unreachable, forbidden) are thrown. */
export async function collectStatus(sources: StatusSources): Promise<ServiceStatus> {
  const now = (sources.now ?? Date.now)();
  const { storage } = sources;
  const poison = (name: string) => depth(storage.queues.getQueueClient(`${name}-poison`));
  const state = new DeliveryStateTable(storage.table(names.stateTable));
  const records = new DeliveryRecords(state);
  const deadLetters = new DeadLetters(storage, new MessageStore(storage), state);
  const [inboundDepth, inboundPoison, stored, sentDepth, sentPoison, retries, dead, config] =
    await Promise.all([
      depth(storage.inboundQueue),
      poison(names.inboundQueue),
      storedMessages(storage, records, now),
      depth(storage.sentItemsQueue),
      poison(names.sentItemsQueue),
      retrying(sources.instances, records),
      deadLetters.list().catch((err: unknown) => {
        if (isNotFound(err)) return [];
        throw err;
      }),
      configuration(sources),
    ]);
  return {
    at: new Date(now).toISOString(),
    storage: sources.storageLabel,
    inbound: { depth: inboundDepth, poison: inboundPoison, stored: stored.stored, oldest: stored.oldest },
    sentItems: { depth: sentDepth, poison: sentPoison },
    retrying: { ...retries, afterPermanentReply: stored.afterPermanentReply },
    deadLetters: { count: dead.length, oldestAt: dead[0]?.deadAt ?? null },
    directory: await directory(sources, config.tenants),
    configuration: config.status,
  };
}
