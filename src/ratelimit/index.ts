export {
  SenderRateLimiter,
  defaultFirstReadTimeoutMs,
  defaultIdleEvictMs,
  defaultSyncIntervalMs,
  maxBatch,
  type RateLimiterOptions,
  type SyncReport,
} from './limiter.js';
export { replicaField, rowKeyOf } from './shared-entity.js';
export type { RateVerdict, SenderLimits } from './windows.js';
