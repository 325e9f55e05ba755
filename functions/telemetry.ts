import { startTelemetry } from '../src/telemetry/index.js';

/**
 * No trigger here: loaded by the Functions host like every file in functions/, it starts telemetry
 * once for the worker process (Azure Monitor when APPLICATIONINSIGHTS_CONNECTION_STRING is set).
 */
await startTelemetry({ service: 'functions' });
