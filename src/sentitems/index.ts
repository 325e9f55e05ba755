/**
 * Sent Items update: after the endpoint's 250, the sender's Sent Items copy is replaced with the
 * signed message through Graph (per tenant, `sentItems.enabled`, off by default). The delivery paths
 * (src/message/sent-items.ts: the direct path and the delete activity) call
 * `SentItemsOutbox.stage`; the `sentItems` queue function runs `SentItemsWorker.handle`.
 */
import type { Settings, Tenant, TenantDirectory } from '../config/index.js';
import { parseTenants } from '../config/tenants.js';
import { DefaultSecretReader, syncLocations, tenantCredential } from '../content/graph/index.js';
import type { Logger } from '../log/index.js';
import { createStorageClients } from '../storage/index.js';
import { SentItemsWorker } from './worker.js';

export {
  SentItemsOutbox,
  type OutboxOptions,
  type SentItemsInput,
  type SignedCopy,
  type StageResult,
} from './outbox.js';
export {
  SentItemsWorker,
  retryDelaySeconds,
  type SentItemsOutcome,
  type SentItemsWorkerOptions,
} from './worker.js';
export { decodeSentItemsJob, encodeSentItemsJob, stagedBlobName, type SentItemsJob } from './job.js';
export { copyOfProperty, copyStateProperty, inlineAttachmentLimit } from './graph-mailbox.js';

type Env = Record<string, string | undefined>;

/** The worker as the Functions host runs it: storage, tenants.json and credentials from the settings. */
export function sentItemsWorkerFromSettings(settings: Settings, env: Env, logger: Logger): SentItemsWorker {
  const clients = createStorageClients(settings.storage);
  const { config } = syncLocations(settings);
  const secrets = new DefaultSecretReader(env);
  let cached: { at: number; tenants: TenantDirectory } | undefined;
  return new SentItemsWorker({
    container: clients.sentItems,
    queue: clients.sentItemsQueue,
    logger,
    graphUrl: env.SIGRELAY_GRAPH_URL,
    firstRetrySeconds: settings.sentItems.retrySeconds,
    tenants: async () => {
      if (cached && Date.now() - cached.at < 60_000) return cached.tenants;
      const content = await config.read('tenants.json');
      if (!content) throw new Error(`${config.label('tenants.json')} not found`);
      const tenants = parseTenants(
        JSON.parse(content.toString('utf8')),
        config.label('tenants.json'),
        settings.configDir,
      );
      cached = { at: Date.now(), tenants };
      return tenants;
    },
    credentialFor: (tenant: Tenant) => {
      const credential = tenant.sentItems?.credential ?? tenant.directory?.credential;
      if (!credential)
        throw new Error(
          `tenant ${tenant.name}: sentItems needs a credential (sentItems.credential or directory.credential)`,
        );
      return tenantCredential(
        tenant,
        credential,
        secrets,
        env.SIGRELAY_HOME_TENANT_ID ?? env.AZURE_TENANT_ID,
      );
    },
  });
}
