export { LocalFunctionsHost, type HostOptions } from './host.js';
export { DurableBackend, retryDelay, type InstanceStatus } from './durable-backend.js';
export { Ncrontab } from './ncrontab.js';
