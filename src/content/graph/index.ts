export {
  GraphClient,
  GraphError,
  graphBaseUrl,
  type GraphClientOptions,
  type GraphRequest,
} from './graph-client.js';
export {
  DefaultSecretReader,
  graphCredential,
  tenantCredential,
  type GraphCredentialOptions,
  type SecretReader,
} from './credential.js';
export {
  syncDirectory,
  syncStateFile,
  userProperties,
  type SyncOptions,
  type SyncResult,
} from './directory-sync.js';
export { photosPerRun, photoStateFile, syncPhotos, type PhotoResult } from './photo-sync.js';
export {
  readSyncStatus,
  syncStatusFile,
  syncStatusOfTenants,
  syncTenants,
  type TenantSyncOptions,
  type TenantSyncOutcome,
  type TenantSyncState,
  type TenantSyncStatus,
} from './tenant-sync.js';
export { runScheduledDirectorySync, syncLocations, type ScheduledSyncResult } from './run.js';
