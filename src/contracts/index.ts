/**
 * The contracts of the message path: the claim-check the front queues, the orchestration input, the
 * activities' names with their inputs and outputs, the delivery state. Imported by the front,
 * `functions/`, the message steps and the orchestration, so each side reads the same definitions.
 */
export {
  claimCheckSchema,
  decodeClaimCheck,
  encodeClaimCheck,
  newMessageId,
  type ClaimCheck,
} from './claim-check.js';
export {
  activityNames,
  orchestratorName,
  type DeadLetterInput,
  type DeleteInput,
  type DeliverInput,
  type DeliverResult,
  type DeliveryState,
  type FirstAttempt,
  type HandoverReason,
  type FailurePolicy,
  type NotifyInput,
  type ProcessInput,
  type ProcessResult,
  type SignInput,
  type SigningAction,
  type SigningResult,
  type SignActivityResult,
} from './processing.js';
