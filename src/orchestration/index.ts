export { createActivities, TemporaryDeliveryError, type Activities } from './activities.js';
export { deliveryRetry, processMessageOrchestrator, retryOptions } from './orchestrator.js';
export { startProcessing } from './start.js';
export { purgeHistory, sweep, sweepOptionsFromEnv, type SweepOptions } from './sweeper.js';
export { instancesTableName, taskHubName } from './task-hub.js';
