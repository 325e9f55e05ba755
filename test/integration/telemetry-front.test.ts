import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { createDevPki, type DevPki } from '../../src/devtls/index.js';
import { replies } from '../../src/errors/index.js';
import { decodeClaimCheck } from '../../src/contracts/index.js';
import type { StorageClients } from '../../src/storage/index.js';
import {
  attributeNames,
  metricNames,
  spanNames,
  startTelemetry,
  telemetry,
  withRemoteParent,
  type RunningTelemetry,
} from '../../src/telemetry/index.js';
import {
  assertReply,
  contosoId,
  message,
  openSession,
  startFront,
  startStorage,
  transaction,
  type RunningFront,
} from '../helpers/front-harness.js';

const secretSubject = 'Quarterly figures for the board';
const secretBody = 'The password is swordfish';

let storage: StorageClients;
let disposeStorage: () => Promise<void>;
let pki: DevPki;
let front: RunningFront;
let running: RunningTelemetry;
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const spanExporter = new InMemorySpanExporter();

/** The queued message's id, and the refusal that follows it on the same connection. */
let acceptedId = '';

before(async () => {
  running = await startTelemetry({
    service: 'front',
    sinks: {
      // Exported only when the test flushes.
      metricReader: new PeriodicExportingMetricReader({
        exporter: metricExporter,
        exportIntervalMillis: 3_600_000,
      }),
      spanExporter,
    },
  });
  ({ storage, dispose: disposeStorage } = await startStorage());
  pki = createDevPki();
  front = await startFront({ storage, pki });

  const client = await openSession(front.port, pki);
  const mail = message({ Subject: secretSubject }, `${secretBody}\r\n`);
  const ok = await transaction(client, 'alice@contoso.com', ['bob@example.net', 'carol@example.net'], mail);
  assertReply(ok.end, 250, '2.0.0', 'accepted message');
  acceptedId = /2\.0\.0 (\S+) queued/.exec(ok.end?.text ?? '')?.[1] ?? '';
  const nul = await transaction(client, 'alice@contoso.com', ['bob@example.net'], `${mail}\x00\r\n`);
  const refusal = replies.nulInData();
  assertReply(nul.end, refusal.responseCode, refusal.enhancedStatus, 'refused message');
  const stranger = await transaction(client, 'mallory@stranger.example', ['bob@example.net'], mail);
  assertReply(stranger.mail, 550, '5.7.1', 'unknown sender domain');
  client.close();
  await running.flush();
});

after(async () => {
  await front.close();
  await disposeStorage();
  await running.shutdown();
});

function points(name: string): DataPoint<number | Histogram>[] {
  const last = metricExporter.getMetrics().at(-1);
  const metric = last?.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
  return (metric?.dataPoints ?? []) as DataPoint<number | Histogram>[];
}

function transactionSpans(): ReadableSpan[] {
  return spanExporter.getFinishedSpans().filter((s) => s.name === spanNames.smtpTransaction);
}

test('an accepted message counts one session, one acceptance for its tenant, and its bytes', async () => {
  assert.deepEqual(
    points(metricNames.sessions).map((p) => p.value),
    [1],
  );
  const accepted = points(metricNames.accepted);
  assert.deepEqual(
    accepted.map((p) => [p.attributes[attributeNames.tenantId], p.value]),
    [[contosoId, 1]],
  );
  const stored = await storage.inbound.getBlockBlobClient(acceptedId).getProperties();
  assert.deepEqual(
    points(metricNames.bytes).map((p) => p.value),
    [stored.contentLength],
  );
});

test('refused messages are counted by reply code, enhanced status and SMTP phase', () => {
  const nul = replies.nulInData();
  const refused = points(metricNames.refused).map((p) => ({
    code: p.attributes[attributeNames.replyCode],
    status: p.attributes[attributeNames.replyStatus],
    phase: p.attributes[attributeNames.phase],
    count: p.value,
  }));
  assert.deepEqual(
    refused.sort((x, y) => String(x.phase).localeCompare(String(y.phase))),
    [
      { code: nul.responseCode, status: nul.enhancedStatus, phase: 'data', count: 1 },
      { code: 550, status: '5.7.1', phase: 'mail', count: 1 },
    ],
  );
});

test('each DATA transaction is one server span ending with its reply code', () => {
  const spans = transactionSpans();
  assert.equal(spans.length, 2);
  const [ok, refused] = spans;
  assert.equal(ok?.attributes[attributeNames.replyCode], 250);
  assert.equal(ok?.attributes[attributeNames.messageId], acceptedId);
  assert.equal(ok?.attributes[attributeNames.tenantId], contosoId);
  assert.equal(ok?.attributes[attributeNames.recipientCount], 2);
  assert.equal(refused?.attributes[attributeNames.replyCode], replies.nulInData().responseCode);
  assert.equal(refused?.status.message, replies.nulInData().enhancedStatus);
});

test("the claim-check carries the transaction span's trace context, and delivery continues that trace", async () => {
  const queued = (await storage.inboundQueue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems
    .map((item) => decodeClaimCheck(item.messageText))
    .find((claim) => claim.id === acceptedId);
  assert.ok(queued?.traceparent, 'claim-check has a traceparent');
  const frontSpan = transactionSpans()[0]?.spanContext();
  assert.equal(queued.traceparent, `00-${frontSpan?.traceId}-${frontSpan?.spanId}-01`);

  await withRemoteParent(queued.traceparent, 'sigrelay.deliver', () => Promise.resolve());
  await running.flush();
  const deliver = spanExporter.getFinishedSpans().find((s) => s.name === 'sigrelay.deliver');
  assert.equal(deliver?.spanContext().traceId, frontSpan?.traceId);
  assert.equal(deliver?.parentSpanContext?.spanId, frontSpan?.spanId);
});

test('no metric or span carries anything from the subject or the body', async () => {
  await running.flush();
  const everything = JSON.stringify({
    metrics: metricExporter.getMetrics().map((r) => r.scopeMetrics.flatMap((s) => s.metrics)),
    spans: spanExporter.getFinishedSpans().map((s) => ({
      name: s.name,
      attributes: s.attributes,
      events: s.events,
      status: s.status,
    })),
  });
  for (const secret of [secretSubject, secretBody, 'swordfish', 'Quarterly'])
    assert.ok(!everything.includes(secret), `"${secret}" was emitted`);
  // Nor an address: only tenant ids, codes and fixed vocabularies.
  assert.ok(!/@(contoso\.com|example\.net|stranger\.example)/.test(everything), 'an address was emitted');
});

test('the functions-side calls emit signing decisions, deliveries with latency, retries and dead letters', async () => {
  telemetry.signingDecision({ action: 'signed', tenantId: contosoId });
  telemetry.signingDecision({ action: 'skipped', tenantId: contosoId });
  telemetry.delivered({ latencyMs: 1_500, path: 'direct', tenantId: contosoId });
  telemetry.retried();
  telemetry.deadLettered();
  await running.flush();
  assert.deepEqual(
    points(metricNames.signingDecisions)
      .map((p) => [p.attributes[attributeNames.signingAction], p.value])
      .sort(),
    [
      ['signed', 1],
      ['skipped', 1],
    ],
  );
  assert.deepEqual(
    points(metricNames.delivered).map((p) => [p.attributes[attributeNames.deliveryPath], p.value]),
    [['direct', 1]],
  );
  const latency = points(metricNames.latency)[0]?.value as Histogram | undefined;
  assert.equal(latency?.count, 1);
  assert.equal(latency?.sum, 1_500);
  assert.deepEqual(
    points(metricNames.retried).map((p) => p.value),
    [1],
  );
  assert.deepEqual(
    points(metricNames.deadLettered).map((p) => p.value),
    [1],
  );
});

test("the sweeper's backlog and the front's readiness are reported as gauges", async () => {
  let ready = true;
  telemetry.observeReadiness(() => ready);
  telemetry.backlog({ messages: 3, oldestAgeSeconds: 1_200 });
  await running.flush();
  assert.deepEqual(
    points(metricNames.frontReady).map((p) => p.value),
    [1],
  );
  assert.deepEqual(
    points(metricNames.inboundMessages).map((p) => p.value),
    [3],
  );
  assert.deepEqual(
    points(metricNames.oldestAge).map((p) => p.value),
    [1_200],
  );
  ready = false;
  await running.flush();
  assert.deepEqual(
    points(metricNames.frontReady).map((p) => p.value),
    [0],
  );
});
