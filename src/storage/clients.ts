import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { TableClient } from '@azure/data-tables';
import type { Settings } from '../config/index.js';
import { expandDevelopmentStorage } from './dev-storage.js';
import { storageRestFor, type StorageRest } from './rest-client.js';

/**
 * Names of every storage resource the product uses (Bicep creates the same ones). The message trace's
 * tables are not here: it creates a table per day itself (src/trace/layout.ts).
 */
export const names = {
  inboundContainer: 'inbound',
  envelopeContainer: 'envelopes',
  signedContainer: 'signed',
  deadletterContainer: 'deadletter',
  configContainer: 'config',
  /** User photos the directory sync stored: `<tenant id>/<user id>-<hash>.jpg`. */
  photosContainer: 'photos',
  /** Signed copies waiting to replace the sender's Sent Items copy: `<message id>.eml`. */
  sentItemsContainer: 'sentitems',
  /** The admin console's last versions of each configuration file: `<path>/<version>`. */
  configVersionsContainer: 'configversions',
  inboundQueue: 'inbound',
  /** Sent Items replacement jobs (SentItemsJob JSON). */
  sentItemsQueue: 'sentitems',
  stateTable: 'sigrelaystate',
  limitsTable: 'sigrelaylimits',
  /** Every write made through the admin console: who, what, when, before/after hashes. */
  auditTable: 'sigrelayaudit',
} as const;

export interface StorageClients {
  blobs: BlobServiceClient;
  queues: QueueServiceClient;
  inbound: ContainerClient;
  envelopes: ContainerClient;
  signed: ContainerClient;
  deadletter: ContainerClient;
  config: ContainerClient;
  photos: ContainerClient;
  sentItems: ContainerClient;
  configVersions: ContainerClient;
  inboundQueue: QueueClient;
  sentItemsQueue: QueueClient;
  table: (name: string) => TableClient;
  /**
   * The message trace's tables (a property, not a method: the trace takes it on its own to open its
   * day tables): `table` unless `traceConnectionString` names another store.
   */
  traceTable: (name: string) => TableClient;
  /**
   * The lean client for the message path's blob and queue calls (see rest-client.ts); absent when
   * `SIGRELAY_STORAGE_REST=off` or the connection cannot be read by it, and the SDK is used instead.
   */
  rest?: StorageRest;
}

/**
 * Retries are short on purpose: the SMTP front must answer 451 within seconds when storage is down
 * (Exchange Online retries for a day), and the orchestration owns the long retries.
 */
const pipeline = {
  retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000, tryTimeoutInMs: 60_000 },
  keepAliveOptions: { enable: true },
};

export type StorageConnection = Pick<Settings['storage'], 'connectionString' | 'accountName'> &
  Partial<Pick<Settings['storage'], 'traceConnectionString'>>;

/** Clients from a connection string (Azurite, keys) or, in Azure, the account name + managed identity. */
export function createStorageClients(connection: StorageConnection): StorageClients {
  let blobs: BlobServiceClient;
  let queues: QueueServiceClient;
  let table: (name: string) => TableClient;
  let rest: StorageRest | undefined;
  if (connection.connectionString) {
    const cs = expandDevelopmentStorage(connection.connectionString);
    blobs = BlobServiceClient.fromConnectionString(cs, pipeline);
    queues = QueueServiceClient.fromConnectionString(cs, pipeline);
    table = tablesAt(cs);
    rest = storageRestFor({ connectionString: cs });
  } else if (connection.accountName) {
    const account = connection.accountName;
    const credential = new DefaultAzureCredential({
      managedIdentityClientId: process.env.AzureWebJobsStorage__clientId,
    });
    blobs = new BlobServiceClient(`https://${account}.blob.core.windows.net`, credential, pipeline);
    queues = new QueueServiceClient(`https://${account}.queue.core.windows.net`, credential, pipeline);
    table = (name) => new TableClient(`https://${account}.table.core.windows.net`, name, credential);
    rest = storageRestFor({ accountName: account }, credential);
  } else {
    throw new Error(
      'no storage configured: set AzureWebJobsStorage (connection string) or AzureWebJobsStorage__accountName',
    );
  }
  return {
    blobs,
    queues,
    inbound: blobs.getContainerClient(names.inboundContainer),
    envelopes: blobs.getContainerClient(names.envelopeContainer),
    signed: blobs.getContainerClient(names.signedContainer),
    deadletter: blobs.getContainerClient(names.deadletterContainer),
    config: blobs.getContainerClient(names.configContainer),
    photos: blobs.getContainerClient(names.photosContainer),
    sentItems: blobs.getContainerClient(names.sentItemsContainer),
    configVersions: blobs.getContainerClient(names.configVersionsContainer),
    inboundQueue: queues.getQueueClient(names.inboundQueue),
    sentItemsQueue: queues.getQueueClient(names.sentItemsQueue),
    table,
    traceTable: connection.traceConnectionString
      ? tablesAt(expandDevelopmentStorage(connection.traceConnectionString))
      : table,
    ...(rest ? { rest } : {}),
  };
}

function tablesAt(connectionString: string): (name: string) => TableClient {
  return (name) =>
    TableClient.fromConnectionString(connectionString, name, {
      allowInsecureConnection: connectionString.includes('http://'),
    });
}

/** Creates every container, queue and table if missing (local runs and tests; Bicep does it in Azure). */
export async function ensureStorage(clients: StorageClients): Promise<void> {
  await Promise.all([
    clients.inbound.createIfNotExists(),
    clients.envelopes.createIfNotExists(),
    clients.signed.createIfNotExists(),
    clients.deadletter.createIfNotExists(),
    clients.config.createIfNotExists(),
    clients.photos.createIfNotExists(),
    clients.sentItems.createIfNotExists(),
    clients.configVersions.createIfNotExists(),
    clients.inboundQueue.createIfNotExists(),
    clients.sentItemsQueue.createIfNotExists(),
    clients.table(names.stateTable).createTable(),
    clients.table(names.limitsTable).createTable(),
    clients.table(names.auditTable).createTable(),
  ]);
}
