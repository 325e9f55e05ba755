import path from 'node:path';
import type { Settings } from '../../config/index.js';
import { parseTenants } from '../../config/tenants.js';
import { createStorageClients } from '../../storage/index.js';
import { BlobFiles } from '../sources/blob-files.js';
import type { WritableConfigFiles } from '../sources/config-files.js';
import { DirectoryFiles } from '../sources/directory-files.js';
import { DefaultSecretReader, graphCredential, tenantCredential } from './credential.js';
import { syncDirectory, type SyncResult } from './directory-sync.js';
import { GraphClient } from './graph-client.js';
import { syncTenants, type TenantSyncOutcome } from './tenant-sync.js';

type Env = Record<string, string | undefined>;

export type ScheduledSyncResult =
  { kind: 'tenants'; outcomes: TenantSyncOutcome[] } | { kind: 'single'; result: SyncResult };

/** Where the sync reads tenants.json and writes snapshots: where the services read their content. */
export function syncLocations(settings: Settings): {
  config: WritableConfigFiles;
  photos: WritableConfigFiles;
} {
  if (settings.profile === 'production') {
    const clients = createStorageClients(settings.storage);
    return { config: new BlobFiles(clients.config), photos: new BlobFiles(clients.photos) };
  }
  return {
    config: new DirectoryFiles(settings.configDir),
    photos: new DirectoryFiles(path.join(settings.configDir, '.photos')),
  };
}

/**
 * One scheduled directory sync, turned on by `SIGRELAY_DIRECTORY_SOURCE=graph` (users.json
 * maintained by hand is the default). Tenants with `directory` in tenants.json are synced each with
 * its own credential and schedule into its own folder. A configuration without any falls back to
 * one sync of the root users.json with `AZURE_TENANT_ID` / `AZURE_CLIENT_ID` / `AZURE_CLIENT_SECRET`.
 * `SIGRELAY_GRAPH_URL` points at a national cloud's Graph.
 */
export async function runScheduledDirectorySync(
  settings: Settings,
  env: Env,
  locations = syncLocations(settings),
): Promise<ScheduledSyncResult | undefined> {
  if (env.SIGRELAY_DIRECTORY_SOURCE !== 'graph') return undefined;
  const tenantsJson = await locations.config.read('tenants.json');
  const tenants = tenantsJson
    ? parseTenants(
        JSON.parse(tenantsJson.toString('utf8')),
        locations.config.label('tenants.json'),
        settings.configDir,
      ).tenants
    : [];
  if (tenants.some((t) => t.directory)) {
    const secrets = new DefaultSecretReader(env);
    const home = env.SIGRELAY_HOME_TENANT_ID ?? env.AZURE_TENANT_ID;
    const outcomes = await syncTenants({
      tenants,
      target: locations.config,
      photos: locations.photos,
      graphUrl: env.SIGRELAY_GRAPH_URL,
      credentialFor: (tenant) => {
        if (!tenant.directory) throw new Error(`tenant ${tenant.name} has no directory sync`);
        return tenantCredential(tenant, tenant.directory.credential, secrets, home);
      },
    });
    return { kind: 'tenants', outcomes };
  }
  const graph = new GraphClient({
    credential: graphCredential({
      tenantId: env.AZURE_TENANT_ID,
      clientId: env.AZURE_CLIENT_ID,
      clientSecret: env.AZURE_CLIENT_SECRET,
    }),
    baseUrl: env.SIGRELAY_GRAPH_URL,
  });
  return { kind: 'single', result: await syncDirectory({ graph, target: locations.config }) };
}
