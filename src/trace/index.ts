export type { TraceEvent, TraceRecord } from './events.js';
export { MessageTrace, type TraceOptions, type TraceTables } from './message-trace.js';
export { legacyTable, shardCount, shardOf, tableOf } from './layout.js';
