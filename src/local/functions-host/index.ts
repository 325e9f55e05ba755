export { LocalFunctionsHost, type HostOptions } from './host.js';
export { DurableBackend, nextRetry, type InstanceStatus } from './durable-backend.js';
export { Ncrontab } from './ncrontab.js';
