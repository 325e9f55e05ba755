import { metrics, trace, type ProxyTracerProvider } from '@opentelemetry/api';
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import type { SpanExporter } from '@opentelemetry/sdk-trace-node';
import { createInstruments, setInstruments } from './signals.js';

/** `off`: nothing is recorded (the calls cost one check); `console`: stdout; `azure-monitor`: Application Insights. */
export type TelemetryMode = 'off' | 'console' | 'azure-monitor' | 'sinks';

export type TelemetryService = 'front' | 'functions';

/** Where a test sends what is emitted (the SDK's in-memory exporters). */
export interface TelemetrySinks {
  metricReader: MetricReader;
  spanExporter: SpanExporter;
}

export interface TelemetryOptions {
  service: TelemetryService;
  env?: NodeJS.ProcessEnv;
  /** When given, telemetry goes here whatever the environment says. */
  sinks?: TelemetrySinks;
}

export interface RunningTelemetry {
  mode: TelemetryMode;
  /** Exports everything recorded so far. */
  flush(): Promise<void>;
  /** Flushes, then stops exporting (process shutdown). */
  shutdown(): Promise<void>;
}

/** How often the console exporter prints metrics (Azure Monitor's distro keeps its own 60 s). */
const consoleIntervalMs = 10_000;

/**
 * `SIGRELAY_TELEMETRY` = `off` | `console` | `azure-monitor`; unset, Azure Monitor when
 * `APPLICATIONINSIGHTS_CONNECTION_STRING` is set, else off.
 */
export function telemetryMode(env: NodeJS.ProcessEnv = process.env): Exclude<TelemetryMode, 'sinks'> {
  const asked = env.SIGRELAY_TELEMETRY?.trim().toLowerCase();
  if (asked === 'off' || asked === 'console' || asked === 'azure-monitor') return asked;
  if (asked) throw new Error(`SIGRELAY_TELEMETRY: expected off, console or azure-monitor, got "${asked}"`);
  return env.APPLICATIONINSIGHTS_CONNECTION_STRING ? 'azure-monitor' : 'off';
}

let running: Promise<RunningTelemetry> | undefined;

/**
 * Starts telemetry once per process (later calls get the same instance). The SDK packages are
 * loaded only when telemetry is on, so an `off` process pays nothing for them.
 */
export function startTelemetry(options: TelemetryOptions): Promise<RunningTelemetry> {
  running ??= start(options);
  return running;
}

async function start(options: TelemetryOptions): Promise<RunningTelemetry> {
  const env = options.env ?? process.env;
  const mode = options.sinks ? 'sinks' : telemetryMode(env);
  const serviceName = `sigrelay-${options.service}`;
  if (mode === 'off') return { mode, flush: () => Promise.resolve(), shutdown: () => Promise.resolve() };
  if (mode === 'azure-monitor') return startAzureMonitor(env, serviceName);

  const { MeterProvider, PeriodicExportingMetricReader, ConsoleMetricExporter } =
    await import('@opentelemetry/sdk-metrics');
  const { NodeTracerProvider, SimpleSpanProcessor, BatchSpanProcessor, ConsoleSpanExporter } =
    await import('@opentelemetry/sdk-trace-node');
  const reader =
    options.sinks?.metricReader ??
    new PeriodicExportingMetricReader({
      exporter: new ConsoleMetricExporter(),
      exportIntervalMillis: consoleIntervalMs,
    });
  const spanProcessor = options.sinks
    ? new SimpleSpanProcessor(options.sinks.spanExporter)
    : new BatchSpanProcessor(new ConsoleSpanExporter());
  const meterProvider = new MeterProvider({ readers: [reader] });
  const tracerProvider = new NodeTracerProvider({ spanProcessors: [spanProcessor] });
  // Registers the W3C trace-context propagator and the AsyncLocalStorage context manager too.
  tracerProvider.register();
  metrics.setGlobalMeterProvider(meterProvider);
  setInstruments(createInstruments(metrics.getMeter(serviceName)));
  const flush = async () => {
    await tracerProvider.forceFlush();
    await meterProvider.forceFlush();
  };
  return {
    mode,
    flush,
    shutdown: async () => {
      await flush();
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

async function startAzureMonitor(env: NodeJS.ProcessEnv, serviceName: string): Promise<RunningTelemetry> {
  const { useAzureMonitor, shutdownAzureMonitor } = await import('@azure/monitor-opentelemetry');
  // Application Insights is created with local auth disabled: ingestion needs an Entra token, from
  // the managed identity that AZURE_CLIENT_ID names (the same one storage uses).
  const entra = /Authorization=AAD/i.test(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? '');
  const credential = entra ? new (await import('@azure/identity')).DefaultAzureCredential() : undefined;
  // The distro takes the role name (cloud_RoleName) from OTEL_SERVICE_NAME; Azure's own value wins.
  process.env.OTEL_SERVICE_NAME ??= serviceName;
  useAzureMonitor({
    azureMonitorExporterOptions: {
      connectionString: env.APPLICATIONINSIGHTS_CONNECTION_STRING,
      ...(credential ? { credential } : {}),
    },
    // Storage calls are traced by the Azure SDK instrumentation; raw HTTP spans would repeat them.
    instrumentationOptions: { http: { enabled: false } },
  });
  setInstruments(createInstruments(metrics.getMeter(serviceName)));
  return {
    mode: 'azure-monitor',
    flush: async () => {
      // The distro keeps its providers to itself; the global ones are they (the tracer behind its proxy).
      type Flushable = { forceFlush?: () => Promise<void> };
      const tracer = (trace.getTracerProvider() as ProxyTracerProvider).getDelegate() as Flushable;
      await tracer.forceFlush?.();
      await (metrics.getMeterProvider() as Flushable).forceFlush?.();
    },
    shutdown: () => shutdownAzureMonitor(),
  };
}
