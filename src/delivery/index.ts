export {
  closeDeliveryPools,
  deliver,
  targetFor,
  type DeliveryOutcome,
  type DeliveryRequest,
  type DeliveryTarget,
} from './deliver.js';
