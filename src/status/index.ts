/**
 * The operators' read-model: what is waiting, retrying or dead, and whether the configuration and
 * the directory sync are healthy, read from storage and the configuration source alone. The CLI
 * (`sigrelay status`) and the console's health page both render `collectStatus`; each figure is
 * defined once in docs/operations.md. The types live in src/contracts/service-status.ts, which the
 * console's browser build includes.
 */
export {
  collectStatus,
  type RetryReason,
  type ServiceStatus,
  type StatusSources,
  type TenantDirectoryStatus,
} from './collect.js';
export { recentActivity } from './activity.js';
export { needsAttention, oldestMessageLimitSeconds } from './attention.js';
export { formatStatus } from './format.js';
export { runtimeStatusSources, statusSources, type StatusTarget } from './sources.js';
