export { GraphClient, GraphError, graphBaseUrl, type GraphClientOptions } from './graph-client.js';
export { graphCredential, type GraphCredentialOptions } from './credential.js';
export {
  syncDirectory,
  syncStateFile,
  userProperties,
  type SyncOptions,
  type SyncResult,
} from './directory-sync.js';
export { runScheduledDirectorySync } from './run.js';
