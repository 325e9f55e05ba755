export {
  createStorageClients,
  ensureStorage,
  names,
  type StorageClients,
  type StorageConnection,
} from './clients.js';
export {
  isNotFound,
  MessageStore,
  type Envelope,
  type MessageMeta,
  type MessageMetaInput,
} from './message-store.js';
export {
  azuriteConnectionString,
  defaultAzuritePorts,
  localTraceTablePort,
  type AzuritePorts,
} from './dev-storage.js';
export { MessageIntake, type IntakeOptions } from './message-intake.js';
export { DeadLetters, type DeadLetter } from './dead-letters.js';
export { DeliveryStateTable, retriedAfterPermanentReply, type DeliveryState } from './delivery-state.js';
