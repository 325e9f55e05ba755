import type { TokenCredential } from '@azure/identity';
import { ConfigError, type Tenant } from '../../config/index.js';
import { parseTenants } from '../../config/tenants.js';
import { describeError } from '../../errors/index.js';
import type { ConfigFiles, WritableConfigFiles } from '../sources/config-files.js';
import { DirectoryFiles } from '../sources/directory-files.js';
import { WritableSubFolderFiles } from '../sources/sub-folder.js';
import { syncDirectory, type SyncResult } from './directory-sync.js';
import { GraphClient, GraphError } from './graph-client.js';
import { syncPhotos } from './photo-sync.js';

/** Where one tenant's sync state lives, relative to the configuration root (`sigrelay status` reads it). */
export function syncStatusFile(tenantId: string): string {
  return `.sync/status/${tenantId}.json`;
}

/** The per-tenant sync state: what happened last, what the snapshot holds. Version 1. */
export interface TenantSyncStatus {
  version: 1;
  tenantId: string;
  tenantName: string;
  /** ISO times. */
  lastAttemptAt: string;
  lastSuccessAt: string | null;
  /** The last run's failure; null after a successful run. */
  lastError: { at: string; status: number | null; code: string | null; message: string } | null;
  consecutiveFailures: number;
  /** Of the last successful run. */
  mode: 'full' | 'delta' | null;
  users: number | null;
  groups: number | null;
  missingGroups: string[];
  photos: number | null;
  durationMs: number;
}

export interface TenantSyncOptions {
  tenants: readonly Tenant[];
  /** The configuration root (users.json go into each tenant's folder, state under `.sync/`). */
  target: WritableConfigFiles;
  /** The photo store (`<tenant id>/<file>`). */
  photos: WritableConfigFiles;
  credentialFor: (tenant: Tenant) => Promise<TokenCredential>;
  graphUrl?: string;
  now?: () => number;
  /** Sync every tenant now, whatever its schedule. */
  force?: boolean;
  /** Tenants synced at once. */
  concurrency?: number;
}

export interface TenantSyncOutcome {
  tenant: string;
  status: TenantSyncStatus;
  /** Undefined when the tenant was not due. */
  ran: boolean;
}

/**
 * Syncs every tenant that has `directory` and is due by its own `everyMinutes`, each with its own
 * credential and timeout. A tenant's failure (401 consent withdrawn, 403 missing role, throttling
 * beyond the retries, a timeout) is written to its status and never stops another tenant's sync.
 */
export async function syncTenants(options: TenantSyncOptions): Promise<TenantSyncOutcome[]> {
  const now = options.now ?? Date.now;
  const synced = options.tenants.filter((t) => t.directory);
  const queue = [...synced];
  const outcomes: TenantSyncOutcome[] = [];
  const worker = async (): Promise<void> => {
    for (let tenant = queue.shift(); tenant; tenant = queue.shift())
      outcomes.push(await syncOneTenant(tenant, options, now));
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, synced.length) }, worker));
  return synced.map((t) => outcomes.find((o) => o.status.tenantId === t.id) as TenantSyncOutcome);
}

async function syncOneTenant(
  tenant: Tenant,
  options: TenantSyncOptions,
  now: () => number,
): Promise<TenantSyncOutcome> {
  const directory = tenant.directory;
  if (!directory) throw new Error(`tenant ${tenant.name} has no directory sync`);
  const previous = await readSyncStatus(options.target, tenant.id);
  if (
    !options.force &&
    previous &&
    now() - Date.parse(previous.lastAttemptAt) < directory.everyMinutes * 60_000
  )
    return { tenant: tenant.name, status: previous, ran: false };

  const started = now();
  const target = tenant.folder ? new WritableSubFolderFiles(options.target, tenant.folder) : options.target;
  const signal = AbortSignal.timeout(directory.timeoutSeconds * 1000);
  let status: TenantSyncStatus;
  try {
    const graph = new GraphClient({
      credential: await options.credentialFor(tenant),
      baseUrl: options.graphUrl,
      signal,
      // A long Retry-After is not slept through: the next scheduled run tries again.
      maxWaitMs: 60_000,
    });
    const photos = directory.photos;
    const result: SyncResult = await syncDirectory({
      graph,
      target,
      attributes: directory.attributes,
      groups: directory.groups,
      photos:
        photos &&
        (async (ids) =>
          (
            await syncPhotos(ids, {
              graph,
              state: target,
              photos: options.photos,
              tenantId: tenant.id,
              size: photos.size,
              refreshHours: photos.refreshHours,
              now,
            })
          ).files),
    });
    status = {
      version: 1,
      tenantId: tenant.id,
      tenantName: tenant.name,
      lastAttemptAt: new Date(started).toISOString(),
      lastSuccessAt: new Date(now()).toISOString(),
      lastError: null,
      consecutiveFailures: 0,
      mode: result.mode,
      users: result.users,
      groups: result.groups,
      missingGroups: result.missingGroups,
      photos: result.photos ?? null,
      durationMs: now() - started,
    };
  } catch (err) {
    status = {
      version: 1,
      tenantId: tenant.id,
      tenantName: tenant.name,
      lastAttemptAt: new Date(started).toISOString(),
      lastSuccessAt: previous?.lastSuccessAt ?? null,
      lastError: errorOf(err, signal, now()),
      consecutiveFailures: (previous?.consecutiveFailures ?? 0) + 1,
      mode: previous?.mode ?? null,
      users: previous?.users ?? null,
      groups: previous?.groups ?? null,
      missingGroups: previous?.missingGroups ?? [],
      photos: previous?.photos ?? null,
      durationMs: now() - started,
    };
  }
  await options.target.write(syncStatusFile(tenant.id), `${JSON.stringify(status, null, 2)}\n`);
  return { tenant: tenant.name, status, ran: true };
}

function errorOf(err: unknown, signal: AbortSignal, at: number): NonNullable<TenantSyncStatus['lastError']> {
  const when = new Date(at).toISOString();
  if (signal.aborted)
    return { at: when, status: null, code: 'Timeout', message: 'the sync took longer than timeoutSeconds' };
  if (err instanceof GraphError)
    return { at: when, status: err.status || null, code: err.code ?? null, message: err.message };
  return { at: when, status: null, code: null, message: describeError(err) };
}

/** One tenant's last sync state, or undefined before its first sync. */
export async function readSyncStatus(
  files: Pick<WritableConfigFiles, 'read'>,
  tenantId: string,
): Promise<TenantSyncStatus | undefined> {
  const content = await files.read(syncStatusFile(tenantId));
  if (!content) return undefined;
  const parsed = JSON.parse(content.toString('utf8')) as Partial<TenantSyncStatus>;
  return parsed.version === 1 ? (parsed as TenantSyncStatus) : undefined;
}

/** One configured tenant's directory sync, as an operator wants to see it (`sigrelay status`). */
export interface TenantSyncState {
  tenantId: string;
  tenantName: string;
  /** False for a tenant without `directory` in tenants.json: its users.json is maintained by hand. */
  synced: boolean;
  /** ISO times; null before the first sync (or without sync). */
  lastAttemptAt: string | null;
  lastSuccessAt: string | null;
  /** The last run's failure; null after a successful run, before the first one, or without sync. */
  lastError: TenantSyncStatus['lastError'];
  consecutiveFailures: number;
  /** What the last successful run stored; null when unknown. */
  users: number | null;
  groups: number | null;
  missingGroups: string[];
  photos: number | null;
  /** The status file as written by the sync; undefined before the first sync. */
  status?: TenantSyncStatus;
  /** Set when the status file exists but cannot be read: what is wrong with it. */
  problem?: string;
}

/**
 * Every configured tenant's directory sync state, in tenants.json order: last attempt and success,
 * last error, users, groups and photos, read from `.sync/status/<tenant id>.json`. `from` is a local
 * configuration directory (`config/msp`) or the configuration's files — in Azure the Blob container
 * `config` (`syncLocations(settings).config`, or `new BlobFiles(clients.config)`). A missing or
 * invalid tenants.json throws a ConfigError naming the file; a tenant that was never synced, or
 * whose status file is unreadable, is reported as such rather than failing the others.
 */
export async function syncStatusOfTenants(
  from: string | Pick<ConfigFiles, 'read' | 'label'>,
): Promise<TenantSyncState[]> {
  const files = typeof from === 'string' ? new DirectoryFiles(from) : from;
  const file = files.label('tenants.json');
  const content = await files.read('tenants.json');
  if (!content) throw new ConfigError(file, '', 'not found');
  let json: unknown;
  try {
    json = JSON.parse(content.toString('utf8'));
  } catch (err) {
    throw new ConfigError(file, '', `invalid JSON (${describeError(err)})`);
  }
  const tenants = parseTenants(json, file, typeof from === 'string' ? from : '.').tenants;
  return Promise.all(tenants.map((tenant) => syncStateOf(files, tenant)));
}

async function syncStateOf(files: Pick<ConfigFiles, 'read'>, tenant: Tenant): Promise<TenantSyncState> {
  const state: TenantSyncState = {
    tenantId: tenant.id,
    tenantName: tenant.name,
    synced: tenant.directory !== undefined,
    lastAttemptAt: null,
    lastSuccessAt: null,
    lastError: null,
    consecutiveFailures: 0,
    users: null,
    groups: null,
    missingGroups: [],
    photos: null,
  };
  let status: TenantSyncStatus | undefined;
  try {
    status = await readSyncStatus(files, tenant.id);
  } catch (err) {
    return { ...state, problem: `${syncStatusFile(tenant.id)}: ${describeError(err)}` };
  }
  if (!status) return state;
  return {
    ...state,
    lastAttemptAt: status.lastAttemptAt,
    lastSuccessAt: status.lastSuccessAt,
    lastError: status.lastError,
    consecutiveFailures: status.consecutiveFailures,
    users: status.users,
    groups: status.groups,
    missingGroups: status.missingGroups,
    photos: status.photos,
    status,
  };
}
