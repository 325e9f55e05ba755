/**
 * Handling one stored message in the functions app: the direct path (sign and deliver from the
 * queue trigger) and the pieces it shares with the orchestration's activities.
 */
export { DirectPath, type DirectResult, type Handover } from './direct-path.js';
export {
  afterAttempt,
  attemptEvent,
  attemptLog,
  receivedEvent,
  signingEvent,
  type AfterAttempt,
} from './outcome.js';
export { mayDeliverUnsigned, policyOf } from './policy.js';
export { createRuntime, runtimeFromEnv, type Runtime, type RuntimeParts } from './runtime.js';
export {
  openSignedCopy,
  stageSentItems,
  type DeliveredMessage,
  type OpenedCopy,
  type StageOutcome,
} from './sent-items.js';
export { returnHeaders, signInto, signIntoBlob, type SigningResult } from './signing.js';
export { isOverBudget, SigningPool, SigningStalledError, type SigningPoolOptions } from './signing-pool.js';
