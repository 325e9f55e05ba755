export {
  deliver,
  targetFor,
  type DeliveryOutcome,
  type DeliveryRequest,
  type DeliveryTarget,
} from './deliver.js';
export { buildDsn, type DsnRecipient, type DsnRequest } from './dsn.js';
