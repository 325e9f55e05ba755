export {
  deadLetterActivity,
  deleteActivity,
  deliverActivity,
  signActivity,
  TemporaryDeliveryError,
} from './activities.js';
export type { DeliverInput, DeliverResult, SignOutcome } from './activities.js';
export {
  activityNames,
  orchestratorName,
  processMessageOrchestrator,
  type ProcessResult,
} from './orchestrator.js';
export { resetRuntime, runtime } from './runtime.js';
export { startProcessing } from './start.js';
