import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Counter,
  type Gauge,
  type Histogram,
  type Meter,
  type Span,
} from '@opentelemetry/api';
import type { SigningAction } from '../contracts/index.js';
import {
  attributeNames as a,
  latencyBucketsMs,
  metricNames as m,
  spanNames,
  type DeliveryPath,
  type RefusalPhase,
  type SentItemsEvent,
} from './names.js';

interface Instruments {
  sessions: Counter;
  accepted: Counter;
  refused: Counter;
  bytes: Counter;
  signingDecisions: Counter;
  delivered: Counter;
  retried: Counter;
  deadLettered: Counter;
  latency: Histogram;
  inboundMessages: Gauge;
  oldestAge: Gauge;
  sentItems: Counter;
}

export function createInstruments(meter: Meter): Instruments {
  meter
    .createObservableGauge(m.frontReady, { description: '1 while this front replica is ready for mail' })
    .addCallback((result) => {
      if (readiness) result.observe(readiness() ? 1 : 0);
    });
  return {
    sessions: meter.createCounter(m.sessions, { description: 'SMTP sessions admitted by the front' }),
    accepted: meter.createCounter(m.accepted, { description: 'Messages answered 250 (stored and queued)' }),
    refused: meter.createCounter(m.refused, { description: 'Messages refused or deferred, by reply code' }),
    bytes: meter.createCounter(m.bytes, { description: 'Size of accepted messages', unit: 'By' }),
    signingDecisions: meter.createCounter(m.signingDecisions, { description: 'Signing outcomes' }),
    delivered: meter.createCounter(m.delivered, { description: 'Messages the endpoint accepted' }),
    retried: meter.createCounter(m.retried, { description: 'Delivery attempts that will be retried' }),
    deadLettered: meter.createCounter(m.deadLettered, { description: 'Messages moved to dead letters' }),
    latency: meter.createHistogram(m.latency, {
      description: 'From the front storing a message to the endpoint accepting it',
      unit: 'ms',
      advice: { explicitBucketBoundaries: latencyBucketsMs },
    }),
    inboundMessages: meter.createGauge(m.inboundMessages, {
      description: 'Messages stored in inbound, not yet finished (each sweep)',
    }),
    oldestAge: meter.createGauge(m.oldestAge, {
      description: 'Age of the oldest message in inbound (each sweep)',
      unit: 's',
    }),
    sentItems: meter.createCounter(m.sentItems, {
      description: 'Sent Items updates: hand-overs after delivery and worker runs, by outcome',
    }),
  };
}

/** Set once telemetry is on; until then (and when off) every call below returns at once. */
let instruments: Instruments | undefined;
/** The front's readiness, read whenever metrics are collected. */
let readiness: (() => boolean) | undefined;

export function setInstruments(next: Instruments): void {
  instruments = next;
}

const tracer = () => trace.getTracer('sigrelay');

/**
 * The calls the rest of sigrelay makes. Attributes are tenant ids, reply codes and closed
 * vocabularies only; the message id goes on spans, never on metrics (one series per message).
 */
export const telemetry = {
  sessionOpened(): void {
    instruments?.sessions.add(1);
  },

  messageAccepted(m: { tenantId: string; bytes: number; messageId?: string; recipients?: number }): void {
    if (!instruments) return;
    const attributes = { [a.tenantId]: m.tenantId };
    instruments.accepted.add(1, attributes);
    instruments.bytes.add(m.bytes, attributes);
    trace.getActiveSpan()?.setAttributes({
      ...attributes,
      [a.size]: m.bytes,
      ...(m.messageId ? { [a.messageId]: m.messageId } : {}),
      ...(m.recipients === undefined ? {} : { [a.recipientCount]: m.recipients }),
    });
  },

  messageRefused(r: { code: number; status: string; phase: RefusalPhase }): void {
    instruments?.refused.add(1, { [a.replyCode]: r.code, [a.replyStatus]: r.status, [a.phase]: r.phase });
  },

  signingDecision(d: { action: SigningAction; tenantId?: string }): void {
    instruments?.signingDecisions.add(1, {
      [a.signingAction]: d.action,
      ...(d.tenantId ? { [a.tenantId]: d.tenantId } : {}),
    });
  },

  /** `latencyMs`: now minus the claim-check's (or the stored metadata's) `receivedAt`. */
  delivered(d: { latencyMs: number; path: DeliveryPath; tenantId?: string }): void {
    if (!instruments) return;
    const attributes = { [a.deliveryPath]: d.path, ...(d.tenantId ? { [a.tenantId]: d.tenantId } : {}) };
    instruments.delivered.add(1, attributes);
    if (Number.isFinite(d.latencyMs) && d.latencyMs >= 0) instruments.latency.record(d.latencyMs, attributes);
  },

  retried(): void {
    instruments?.retried.add(1);
  },

  deadLettered(): void {
    instruments?.deadLettered.add(1);
  },

  sentItems(e: { outcome: SentItemsEvent; tenantId?: string }): void {
    instruments?.sentItems.add(1, {
      [a.sentItemsOutcome]: e.outcome,
      ...(e.tenantId ? { [a.tenantId]: e.tenantId } : {}),
    });
  },

  /** What the sweeper saw in `inbound`: how many messages are unfinished and how old the oldest is. */
  backlog(b: { messages: number; oldestAgeSeconds: number }): void {
    instruments?.inboundMessages.record(b.messages);
    instruments?.oldestAge.record(Math.max(0, b.oldestAgeSeconds));
  },

  /** The front reports `ready()` (1 or 0) at every collection; a replica that is gone reports nothing. */
  observeReadiness(ready: () => boolean): void {
    readiness = ready;
  },
};

/** The latency `delivered` wants, from an ISO `receivedAt`. */
export function sinceReceived(receivedAt: string, now = Date.now()): number {
  return now - Date.parse(receivedAt);
}

/**
 * Runs one SMTP transaction (the front's DATA handler) inside a server span, so that
 * `currentTraceparent()` inside it names this span. The span ends with the reply's code: 250,
 * or the `code`/`enhancedStatus` of the error `fn` throws.
 */
export function smtpTransaction<T>(
  facts: { sessionId: string; clientAddress: string; tenantId?: string },
  fn: () => Promise<T>,
): Promise<T> {
  const attributes: Attributes = {
    [a.sessionId]: facts.sessionId,
    [a.clientAddress]: facts.clientAddress,
    ...(facts.tenantId ? { [a.tenantId]: facts.tenantId } : {}),
  };
  return tracer().startActiveSpan(spanNames.smtpTransaction, { kind: SpanKind.SERVER, attributes }, (span) =>
    settle(span, fn, { [a.replyCode]: 250 }),
  );
}

/** The W3C `traceparent` of the active span (for the claim-check), or undefined when telemetry is off. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/**
 * Runs `fn` in a consumer span whose parent is the front's span named by `traceparent` (from the
 * claim-check), so one message's trace runs SMTP session → queue → delivery. Without a
 * traceparent the span starts a trace of its own.
 */
export function withRemoteParent<T>(
  traceparent: string | undefined,
  name: string,
  fn: () => Promise<T>,
  attributes: Attributes = {},
): Promise<T> {
  const parent = traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
  return tracer().startActiveSpan(name, { kind: SpanKind.CONSUMER, attributes }, parent, (span) =>
    settle(span, fn, {}),
  );
}

/** Ends `span` with fn's outcome; an error is described by its SMTP codes or its name, never its text. */
async function settle<T>(span: Span, fn: () => Promise<T>, onSuccess: Attributes): Promise<T> {
  try {
    const result = await fn();
    span.setAttributes(onSuccess);
    return result;
  } catch (err) {
    const smtp = err as { responseCode?: unknown; enhancedStatus?: unknown };
    if (typeof smtp.responseCode === 'number') span.setAttribute(a.replyCode, smtp.responseCode);
    if (typeof smtp.enhancedStatus === 'string') span.setAttribute(a.replyStatus, smtp.enhancedStatus);
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message:
        typeof smtp.enhancedStatus === 'string'
          ? smtp.enhancedStatus
          : err instanceof Error
            ? err.name
            : 'error',
    });
    throw err;
  } finally {
    span.end();
  }
}
