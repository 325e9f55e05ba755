import type { Settings } from '../config/index.js';
import { BlobFiles, DirectoryFiles, type ContentStore } from '../content/index.js';
import { instancesTableName, taskHubName } from '../orchestration/task-hub.js';
import { createStorageClients, type StorageClients } from '../storage/index.js';
import type { StatusSources } from './collect.js';

export interface StatusTarget {
  settings: Settings;
  /** An Azure storage account, signed in with DefaultAzureCredential; absent: the configured storage or Azurite. */
  accountName?: string;
  /** A configuration directory; absent: the Blob `config` container in Azure, SIGRELAY_CONFIG locally. */
  configDir?: string;
  /** The Durable Task hub; absent: host.json's. */
  hubName?: string;
}

/** Where the status of the local stack (the default) or of an Azure deployment is read from. */
export function statusSources(target: StatusTarget): StatusSources {
  const { settings } = target;
  const connection = target.accountName
    ? { accountName: target.accountName }
    : settings.storage.connectionString || settings.storage.accountName
      ? settings.storage
      : { connectionString: 'UseDevelopmentStorage=true' };
  const storage = createStorageClients(connection);
  const inAzure = Boolean(target.accountName) || settings.profile === 'production';
  const config =
    target.configDir || !inAzure
      ? new DirectoryFiles(target.configDir ?? settings.configDir)
      : new BlobFiles(storage.config);
  return {
    storage,
    instances: storage.table(instancesTableName(target.hubName ?? taskHubName())),
    config,
    configBaseDir: target.configDir ?? settings.configDir,
    storageLabel: storageLabel(connection),
  };
}

/**
 * The same sources as seen from inside the functions app (the console's health page): its own
 * storage clients, host.json's hub, and its configuration cache instead of a fresh load per look.
 */
export function runtimeStatusSources(
  settings: Settings,
  storage: StorageClients,
  content: () => Promise<ContentStore>,
): StatusSources {
  const production = settings.profile === 'production';
  return {
    storage,
    instances: storage.table(instancesTableName(taskHubName())),
    config: production ? new BlobFiles(storage.config) : new DirectoryFiles(settings.configDir),
    configBaseDir: settings.configDir,
    storageLabel: storageLabel(settings.storage),
    content,
  };
}

function storageLabel(connection: { connectionString?: string; accountName?: string }): string {
  if (connection.accountName) return `storage account ${connection.accountName}`;
  const cs = connection.connectionString ?? '';
  if (/UseDevelopmentStorage=true|AccountName=devstoreaccount1/i.test(cs)) {
    const blob = /BlobEndpoint=([^;]+)/i.exec(cs)?.[1];
    return `Azurite${blob ? ` at ${new URL(blob).host}` : ' (local)'}`;
  }
  return `storage account ${/AccountName=([^;]+)/i.exec(cs)?.[1] ?? '(connection string)'}`;
}
