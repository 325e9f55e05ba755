/**
 * Telemetry (OpenTelemetry): metrics and traces for the front and the functions. Off unless
 * `APPLICATIONINSIGHTS_CONNECTION_STRING` or `SIGRELAY_TELEMETRY` says otherwise; every call is a
 * no-op until `startTelemetry` ran. Names and what they mean: docs/operations.md ("Telemetry").
 */
export {
  startTelemetry,
  telemetryMode,
  type RunningTelemetry,
  type TelemetryMode,
  type TelemetryOptions,
  type TelemetryService,
  type TelemetrySinks,
} from './start.js';
export {
  currentTraceparent,
  sinceReceived,
  smtpTransaction,
  telemetry,
  withRemoteParent,
} from './signals.js';
export {
  attributeNames,
  latencyBucketsMs,
  metricNames,
  spanNames,
  type DeliveryPath,
  type RefusalPhase,
  type SentItemsEvent,
} from './names.js';
