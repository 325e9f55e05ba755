/**
 * The status module's door: what is waiting, retrying or dead, and whether the configuration and
 * the directory sync are healthy, read from storage and the configuration source alone, so the
 * CLI, a test or an admin page can ask the same question of the local stack or an Azure account.
 */
export {
  collectStatus,
  type ServiceStatus,
  type StatusSources,
  type TenantDirectoryStatus,
} from './collect.js';
export { needsAttention, oldestMessageLimitSeconds } from './attention.js';
export { formatStatus } from './format.js';
export { statusSources, type StatusTarget } from './sources.js';
