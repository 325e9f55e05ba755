import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  currentTraceparent,
  startTelemetry,
  telemetry,
  telemetryMode,
  withRemoteParent,
} from '../../../src/telemetry/index.js';

test('telemetry is off without a connection string, Azure Monitor with one, console when asked', () => {
  assert.equal(telemetryMode({}), 'off');
  assert.equal(
    telemetryMode({ APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=x' }),
    'azure-monitor',
  );
  assert.equal(telemetryMode({ SIGRELAY_TELEMETRY: 'console' }), 'console');
  assert.equal(
    telemetryMode({
      SIGRELAY_TELEMETRY: 'off',
      APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=x',
    }),
    'off',
  );
});

test('an unknown SIGRELAY_TELEMETRY value fails loudly, naming the setting', () => {
  assert.throws(() => telemetryMode({ SIGRELAY_TELEMETRY: 'otlp' }), /SIGRELAY_TELEMETRY.*"otlp"/);
});

test('when off, every call is a no-op and no trace context reaches the claim-check', async () => {
  const running = await startTelemetry({ service: 'front', env: {} });
  assert.equal(running.mode, 'off');
  telemetry.sessionOpened();
  telemetry.messageAccepted({ tenantId: 't', bytes: 1 });
  telemetry.messageRefused({ code: 550, status: '5.6.0', phase: 'data' });
  telemetry.delivered({ latencyMs: 1, path: 'direct' });
  assert.equal(currentTraceparent(), undefined);
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  assert.equal(await withRemoteParent(traceparent, 'deliver', () => Promise.resolve(42)), 42);
  assert.equal(await startTelemetry({ service: 'front' }), running, 'started once per process');
});
