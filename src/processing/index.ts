/**
 * What one functions process holds for the message steps (`src/message/`): the runtime they are
 * given, and the worker pool messages are signed in.
 */
export { createRuntime, runtimeFromEnv, type Runtime, type RuntimeParts } from './runtime.js';
export {
  deadlockReason,
  isDeadlock,
  isOverBudget,
  SigningPool,
  SigningStalledError,
  type SigningPoolOptions,
} from './signing-pool.js';
