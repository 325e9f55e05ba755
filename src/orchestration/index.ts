export {
  deadLetterActivity,
  deleteActivity,
  deliverActivity,
  notifySenderActivity,
  signActivity,
  TemporaryDeliveryError,
} from './activities.js';
export type { DeliverInput, DeliverResult, MessagePolicy, SignOutcome } from './activities.js';
export { DeadLetters, type DeadLetter } from './dead-letters.js';
export {
  activityNames,
  deliveryRetry,
  orchestratorName,
  processMessageOrchestrator,
  type ProcessResult,
} from './orchestrator.js';
export { runtime } from './runtime.js';
export { startProcessing } from './start.js';
export { sweep, sweepOptionsFromEnv, type SweepOptions } from './sweeper.js';
