import type { Settings } from '../../config/index.js';
import { createStorageClients } from '../../storage/index.js';
import { BlobFiles } from '../sources/blob-files.js';
import { graphCredential } from './credential.js';
import { syncDirectory, type SyncResult } from './directory-sync.js';
import { GraphClient } from './graph-client.js';

type Env = Record<string, string | undefined>;

/**
 * One scheduled directory sync into the Blob `config` container, configured from the environment:
 * `SIGRELAY_DIRECTORY_SOURCE=graph` turns it on (users.json maintained by hand is the default),
 * `AZURE_TENANT_ID` / `AZURE_CLIENT_ID` / `AZURE_CLIENT_SECRET` choose the identity, and
 * `SIGRELAY_GRAPH_URL` a national cloud's Graph.
 */
export async function runScheduledDirectorySync(
  settings: Settings,
  env: Env,
): Promise<SyncResult | undefined> {
  if (env.SIGRELAY_DIRECTORY_SOURCE !== 'graph') return undefined;
  const graph = new GraphClient({
    credential: graphCredential({
      tenantId: env.AZURE_TENANT_ID,
      clientId: env.AZURE_CLIENT_ID,
      clientSecret: env.AZURE_CLIENT_SECRET,
    }),
    baseUrl: env.SIGRELAY_GRAPH_URL,
  });
  const target = new BlobFiles(createStorageClients(settings.storage).config);
  return syncDirectory({ graph, target });
}
