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
  type StorageClients,
} from '../storage/index.js';

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
  now?: () => number;
}

export interface QueueStatus {
  /** Approximate, as the service reports it: visible and leased messages. */
  depth: number;
  poison: number;
}

export interface TenantDirectoryStatus {
  tenantId: string;
  tenant: string;
  /** Undefined before the first sync. */
  lastAttemptAt?: string;
  lastSuccessAt?: string | null;
  lastError?: string | null;
  consecutiveFailures: number;
  users?: number | null;
}

/** Retrying messages that share one explanation of the endpoint's last reply (src/exchange/replies.ts). */
export interface RetryReason {
  /** The catalogue id, `no-reply-yet` before a first attempt is recorded, `other` for an unknown reply. */
  reason: string;
  title: string;
  count: number;
  remedy?: string;
  /** One of the replies, as the endpoint worded it. */
  example?: string;
}

export interface ServiceStatus {
  at: string;
  storage: string;
  inbound: QueueStatus & {
    /** Messages stored in `inbound` (received, not yet delivered and deleted). */
    stored: number;
    /** The oldest stored message or claim-check; null when there is none. */
    oldest: { id: string; since: string; ageSeconds: number } | null;
  };
  sentItems: QueueStatus;
  /** Messages in retry: orchestrations running or waiting on a timer, grouped by the endpoint's last reply. */
  retrying: {
    count: number;
    oldestSince: string | null;
    byReason: RetryReason[];
    /** Stored messages still retried although the endpoint's last reply was permanent (5xx). */
    afterPermanentReply: { id: string; response: string }[];
  };
  deadLetters: { count: number; oldestAt: string | null };
  directory: TenantDirectoryStatus[];
  configuration: {
    source: string;
    /** What the services would load now: the tenants, or the error that keeps the last good one in service. */
    tenants: { id: string; name: string }[];
    error: string | null;
  };
}

async function depth(queue: QueueClient): Promise<number> {
  try {
    return (await queue.getProperties()).approximateMessagesCount ?? 0;
  } catch (err) {
    if (isNotFound(err)) return 0;
    throw err;
  }
}

async function oldestInbound(
  storage: StorageClients,
  now: number,
): Promise<{ stored: number; oldest: ServiceStatus['inbound']['oldest'] }> {
  let stored = 0;
  let oldest: { id: string; at: number } | undefined;
  for await (const blob of storage.inbound.listBlobsFlat()) {
    stored++;
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
  };
}

/** How many stored messages the permanent-reply check reads a delivery record for, at most. */
const permanentScanLimit = 5000;

async function afterPermanentReply(
  storage: StorageClients,
  state: DeliveryStateTable,
): Promise<ServiceStatus['retrying']['afterPermanentReply']> {
  const found: ServiceStatus['retrying']['afterPermanentReply'] = [];
  let scanned = 0;
  for await (const blob of storage.inbound.listBlobsFlat()) {
    if (++scanned > permanentScanLimit) break;
    const progress = await state.get(blob.name);
    if (progress && retriedAfterPermanentReply(progress))
      found.push({ id: blob.name, response: progress.lastResponse.slice(0, 200) });
  }
  return found;
}

/** Enough to name the reasons; beyond this the rest are counted but not read one by one. */
const reasonsReadLimit = 500;

async function retrying(
  instances: TableClient,
  state: DeliveryStateTable,
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
    byReason: await reasons(ids, state),
  };
}

/** Groups retrying messages by what the endpoint last answered, most common first. */
async function reasons(ids: readonly string[], state: DeliveryStateTable): Promise<RetryReason[]> {
  const groups = new Map<string, RetryReason>();
  for (const id of ids) {
    const last = (await state.get(id))?.lastResponse;
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
    const store = await ContentStore.open(sources.config, { baseDir: sources.configBaseDir });
    const tenants = store.tenants.tenants;
    return {
      status: { source, tenants: tenants.map((t) => ({ id: t.id, name: t.name })), error: null },
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
  const deadLetters = new DeadLetters(storage, new MessageStore(storage), state);
  const [inboundDepth, inboundPoison, backlog, sentDepth, sentPoison, retries, permanent, dead, config] =
    await Promise.all([
      depth(storage.inboundQueue),
      poison(names.inboundQueue),
      oldestInbound(storage, now),
      depth(storage.sentItemsQueue),
      poison(names.sentItemsQueue),
      retrying(sources.instances, state),
      afterPermanentReply(storage, state).catch((err: unknown) => {
        if (isNotFound(err)) return [];
        throw err;
      }),
      deadLetters.list().catch((err: unknown) => {
        if (isNotFound(err)) return [];
        throw err;
      }),
      configuration(sources),
    ]);
  return {
    at: new Date(now).toISOString(),
    storage: sources.storageLabel,
    inbound: { depth: inboundDepth, poison: inboundPoison, ...backlog },
    sentItems: { depth: sentDepth, poison: sentPoison },
    retrying: { ...retries, afterPermanentReply: permanent },
    deadLetters: { count: dead.length, oldestAt: dead[0]?.deadAt ?? null },
    directory: await directory(sources, config.tenants),
    configuration: config.status,
  };
}
