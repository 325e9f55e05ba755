import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { defaultSyncIntervalMs } from '../ratelimit/index.js';
import { ConfigError, jsonPath } from './config-error.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository (or installed package) root: dist/src/config → ../../.. */
export const projectRoot = path.resolve(here, '..', '..', '..');
export const sampleConfigDir = path.join(projectRoot, 'config', 'contoso');

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const port = z.coerce.number().int().min(0).max(65535);
const hostPort = z
  .string()
  .regex(/^[^:\s]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, 'expected host:port')
  .transform((v) => {
    const i = v.lastIndexOf(':');
    return { host: v.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(v.slice(i + 1)) };
  });

/**
 * Process settings: everything that comes from the environment. Names are stable (acceptance tests
 * and operators rely on them); defaults give the local profile.
 */
export const settingsSchema = z.object({
  profile: z.enum(['local', 'production']).default('local'),
  configDir: z.string().min(1).default(sampleConfigDir),
  dataDir: z.string().min(1).default(path.join(projectRoot, '.data')),
  smtp: z.object({
    host: z.string().min(1).default('127.0.0.1'),
    port: port.default(2525),
    hostname: z.string().min(1).default('sigrelay.local'),
    requireTls: bool.optional(),
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
    maxMessageBytes: z.coerce
      .number()
      .int()
      .positive()
      .default(150 * 1024 * 1024),
    maxRecipients: z.coerce.number().int().positive().default(1000),
    healthPort: port.optional(),
    /** Comma-separated CIDRs allowed to connect; unset = Exchange Online (production) or loopback (local). */
    allowedClients: z.string().optional(),
    /** Ask for and verify the client certificate (EXO presents `mail.protection.outlook.com`). */
    requireClientCert: bool.default(false),
    clientCertName: z.string().min(1).default('mail.protection.outlook.com'),
    /** CA bundle for client certificates; unset = Node's public root store (EXO's issuer is public). */
    clientCaFile: z.string().optional(),
    /** 256 KiB: Exchange Online's own header limit, so no genuine EXO message is refused for it. */
    maxHeaderBytes: z.coerce
      .number()
      .int()
      .positive()
      .default(256 * 1024),
    /** RFC 5321 allows 1,000 octets; the slack avoids bouncing sloppy but harmless mail. */
    maxLineBytes: z.coerce
      .number()
      .int()
      .min(1000)
      .default(16 * 1024),
    /** RFC 5321 §4.5.3.2.7: a server waits at least 5 minutes for the next command. */
    idleTimeoutMs: z.coerce.number().int().positive().default(300_000),
    /** A command line must be complete this long after its first byte (slowloris). */
    commandTimeoutMs: z.coerce.number().int().positive().default(60_000),
    /** The whole DATA phase must finish within this (RFC 5321's 10-minute data termination wait). */
    dataTimeoutMs: z.coerce.number().int().positive().default(600_000),
    maxConnections: z.coerce.number().int().positive().default(1000),
    maxConnectionsPerAddress: z.coerce.number().int().positive().default(100),
    /** How often the certificate and key files are checked for a new version (Key Vault rotation). */
    certReloadIntervalMs: z.coerce.number().int().positive().default(30_000),
    /** How often each replica writes its per-sender counts and reads the others' (docs/front-door.md). */
    rateSyncIntervalMs: z.coerce.number().int().min(100).default(defaultSyncIntervalMs),
  }),
  delivery: z.object({
    override: hostPort.optional(),
    tls: z.enum(['required', 'optional', 'none']).default('required'),
    caFile: z.string().optional(),
    clientCertFile: z.string().optional(),
    clientKeyFile: z.string().optional(),
    timeoutMs: z.coerce.number().int().positive().default(60_000),
  }),
  storage: z.object({
    connectionString: z.string().optional(),
    accountName: z.string().optional(),
    /**
     * Where the message trace's tables live, when not in the main account: `npm start` keeps them in
     * an in-memory Azurite table service (src/local/stack.ts) so the persisted one stays small.
     */
    traceConnectionString: z.string().optional(),
  }),
  processing: z.object({
    /**
     * Messages up to this size are signed in memory and delivered straight from the queue trigger;
     * larger ones are signed into `signed/<id>` and streamed from there, so memory stays bounded.
     */
    directMaxBytes: z.coerce
      .number()
      .int()
      .nonnegative()
      .default(4 * 1024 * 1024),
    /**
     * Trace events of messages finishing within this window share one Table transaction. 50 ms, not
     * 20: at 20 messages/s end to end it took the trace from 0.24 to 0.15 transactions per message
     * (docs/benchmarks.md); the wait comes after the delivery and the delete, so mail is not delayed.
     */
    traceLingerMs: z.coerce.number().int().nonnegative().default(200),
    /** How long the delete after a 250 is retried through a storage outage before giving up. */
    deleteRetryMs: z.coerce.number().int().nonnegative().default(300_000),
    /**
     * CPU budget of one message's signing: milliseconds its worker thread spends running (time spent
     * waiting for storage does not count). Past it the worker is stopped and the message goes the
     * tenant's signing-failure way (fail-open: unsigned; fail-closed: dead letter), once.
     */
    signBudgetMs: z.coerce.number().int().positive().default(30_000),
    /**
     * Wall-clock limit of one message's signing while it waits on I/O: no byte read or written (nor
     * the signature lookup answered) for this long and the worker is freed, the message failing as
     * a temporary error that the normal path retries. Above the blob client's own timeouts, so it
     * only catches a read or upload that hangs without ever failing.
     */
    signStallMs: z.coerce.number().int().positive().default(60_000),
    /**
     * Heap limit of a signing worker thread, MB: a backstop, not a precise budget — Node may abort
     * the whole process instead of the worker when the limit is reached (nodejs/node#47224).
     */
    signMemoryMb: z.coerce.number().int().min(64).default(2048),
    /** Signing worker threads; 0 = one per core. */
    signWorkers: z.coerce.number().int().nonnegative().default(0),
  }),
  /** The Sent Items update (per tenant in tenants.json, `sentItems`): how it is scheduled. */
  sentItems: z.object({
    /** Outlook saves its Sent Items copy within seconds of sending: the first look waits this long. */
    firstLookSeconds: z.coerce.number().int().nonnegative().default(10),
    /** Wait before looking again for an original not there yet; doubles per try, up to 15 minutes. */
    retrySeconds: z.coerce.number().int().positive().default(30),
    /** The one write that hands a delivered message over (blob + job); past it the update is skipped. */
    stageTimeoutMs: z.coerce.number().int().positive().default(15_000),
  }),
  outbox: z.string().optional(),
  processedHeader: z.string().min(1).default('X-Sigrelay-Processed'),
});

export type Settings = z.infer<typeof settingsSchema>;

type Env = Record<string, string | undefined>;

/** Reads process settings from environment variables, failing loudly with the variable's name. */
export function loadSettings(env: Env = process.env): Settings {
  const raw = {
    profile: env.SIGRELAY_PROFILE,
    configDir: env.SIGRELAY_CONFIG,
    dataDir: env.SIGRELAY_DATA_DIR,
    smtp: {
      host: env.SIGRELAY_SMTP_HOST,
      port: env.SIGRELAY_SMTP_PORT,
      hostname: env.SIGRELAY_SMTP_HOSTNAME,
      requireTls: env.SIGRELAY_REQUIRE_TLS,
      certFile: env.SIGRELAY_TLS_CERT,
      keyFile: env.SIGRELAY_TLS_KEY,
      maxMessageBytes: env.SIGRELAY_MAX_MESSAGE_BYTES,
      maxRecipients: env.SIGRELAY_MAX_RECIPIENTS,
      healthPort: env.SIGRELAY_HEALTH_PORT,
      allowedClients: env.SIGRELAY_ALLOWED_CLIENTS,
      requireClientCert: env.SIGRELAY_REQUIRE_CLIENT_CERT,
      clientCertName: env.SIGRELAY_CLIENT_CERT_NAME,
      clientCaFile: env.SIGRELAY_CLIENT_CA,
      maxHeaderBytes: env.SIGRELAY_MAX_HEADER_BYTES,
      maxLineBytes: env.SIGRELAY_MAX_LINE_BYTES,
      idleTimeoutMs: env.SIGRELAY_SMTP_IDLE_TIMEOUT_MS,
      commandTimeoutMs: env.SIGRELAY_SMTP_COMMAND_TIMEOUT_MS,
      dataTimeoutMs: env.SIGRELAY_SMTP_DATA_TIMEOUT_MS,
      maxConnections: env.SIGRELAY_MAX_CONNECTIONS,
      maxConnectionsPerAddress: env.SIGRELAY_MAX_CONNECTIONS_PER_ADDRESS,
      certReloadIntervalMs: env.SIGRELAY_TLS_RELOAD_INTERVAL_MS,
      rateSyncIntervalMs: env.SIGRELAY_RATE_SYNC_INTERVAL_MS,
    },
    delivery: {
      override: env.SIGRELAY_DELIVERY_HOST,
      tls: env.SIGRELAY_DELIVERY_TLS,
      caFile: env.SIGRELAY_DELIVERY_CA,
      clientCertFile: env.SIGRELAY_DELIVERY_CLIENT_CERT,
      clientKeyFile: env.SIGRELAY_DELIVERY_CLIENT_KEY,
      timeoutMs: env.SIGRELAY_DELIVERY_TIMEOUT_MS,
    },
    storage: {
      connectionString: env.SIGRELAY_STORAGE_CONNECTION ?? env.AzureWebJobsStorage,
      accountName: env.AzureWebJobsStorage__accountName,
      traceConnectionString: env.SIGRELAY_TRACE_STORAGE_CONNECTION,
    },
    processing: {
      directMaxBytes: env.SIGRELAY_DIRECT_MAX_BYTES,
      traceLingerMs: env.SIGRELAY_TRACE_LINGER_MS,
      deleteRetryMs: env.SIGRELAY_DELETE_RETRY_MS,
      signBudgetMs: env.SIGRELAY_SIGN_BUDGET_MS,
      signStallMs: env.SIGRELAY_SIGN_STALL_MS,
      signMemoryMb: env.SIGRELAY_SIGN_MEMORY_MB,
      signWorkers: env.SIGRELAY_SIGN_WORKERS,
    },
    sentItems: {
      firstLookSeconds: env.SIGRELAY_SENTITEMS_FIRST_LOOK_SECONDS,
      retrySeconds: env.SIGRELAY_SENTITEMS_RETRY_SECONDS,
      stageTimeoutMs: env.SIGRELAY_SENTITEMS_STAGE_TIMEOUT_MS,
    },
    outbox: env.SIGRELAY_OUTBOX,
    processedHeader: env.SIGRELAY_PROCESSED_HEADER,
  };
  const result = settingsSchema.safeParse(stripUndefined(raw));
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue ? jsonPath(issue.path) : '';
    throw new ConfigError('environment', envNameFor(field), issue?.message ?? 'invalid');
  }
  // In production a tenant's mail goes only to its own Exchange Online endpoint (tenants.json
  // allows nothing else); one setting that sends every tenant's mail elsewhere is for local runs.
  if (result.data.profile === 'production' && result.data.delivery.override)
    throw new ConfigError(
      'environment',
      'SIGRELAY_DELIVERY_HOST',
      "is allowed only with SIGRELAY_PROFILE=local; in production mail goes back to each tenant's *.mail.protection.outlook.com",
    );
  return result.data;
}

/** True when the front must refuse MAIL before STARTTLS: always in production, opt-out locally. */
export function frontRequiresTls(settings: Settings): boolean {
  return settings.smtp.requireTls ?? settings.profile === 'production';
}

const envNames: Record<string, string> = {
  profile: 'SIGRELAY_PROFILE',
  configDir: 'SIGRELAY_CONFIG',
  dataDir: 'SIGRELAY_DATA_DIR',
  'smtp.host': 'SIGRELAY_SMTP_HOST',
  'smtp.port': 'SIGRELAY_SMTP_PORT',
  'smtp.hostname': 'SIGRELAY_SMTP_HOSTNAME',
  'smtp.requireTls': 'SIGRELAY_REQUIRE_TLS',
  'smtp.maxMessageBytes': 'SIGRELAY_MAX_MESSAGE_BYTES',
  'smtp.maxRecipients': 'SIGRELAY_MAX_RECIPIENTS',
  'smtp.healthPort': 'SIGRELAY_HEALTH_PORT',
  'smtp.allowedClients': 'SIGRELAY_ALLOWED_CLIENTS',
  'smtp.requireClientCert': 'SIGRELAY_REQUIRE_CLIENT_CERT',
  'smtp.clientCertName': 'SIGRELAY_CLIENT_CERT_NAME',
  'smtp.clientCaFile': 'SIGRELAY_CLIENT_CA',
  'smtp.maxHeaderBytes': 'SIGRELAY_MAX_HEADER_BYTES',
  'smtp.maxLineBytes': 'SIGRELAY_MAX_LINE_BYTES',
  'smtp.idleTimeoutMs': 'SIGRELAY_SMTP_IDLE_TIMEOUT_MS',
  'smtp.commandTimeoutMs': 'SIGRELAY_SMTP_COMMAND_TIMEOUT_MS',
  'smtp.dataTimeoutMs': 'SIGRELAY_SMTP_DATA_TIMEOUT_MS',
  'smtp.maxConnections': 'SIGRELAY_MAX_CONNECTIONS',
  'smtp.maxConnectionsPerAddress': 'SIGRELAY_MAX_CONNECTIONS_PER_ADDRESS',
  'smtp.certReloadIntervalMs': 'SIGRELAY_TLS_RELOAD_INTERVAL_MS',
  'smtp.rateSyncIntervalMs': 'SIGRELAY_RATE_SYNC_INTERVAL_MS',
  'delivery.override': 'SIGRELAY_DELIVERY_HOST',
  'delivery.tls': 'SIGRELAY_DELIVERY_TLS',
  'delivery.timeoutMs': 'SIGRELAY_DELIVERY_TIMEOUT_MS',
  'storage.traceConnectionString': 'SIGRELAY_TRACE_STORAGE_CONNECTION',
  'processing.directMaxBytes': 'SIGRELAY_DIRECT_MAX_BYTES',
  'processing.traceLingerMs': 'SIGRELAY_TRACE_LINGER_MS',
  'processing.deleteRetryMs': 'SIGRELAY_DELETE_RETRY_MS',
  'processing.signBudgetMs': 'SIGRELAY_SIGN_BUDGET_MS',
  'processing.signStallMs': 'SIGRELAY_SIGN_STALL_MS',
  'processing.signMemoryMb': 'SIGRELAY_SIGN_MEMORY_MB',
  'processing.signWorkers': 'SIGRELAY_SIGN_WORKERS',
  'sentItems.firstLookSeconds': 'SIGRELAY_SENTITEMS_FIRST_LOOK_SECONDS',
  'sentItems.retrySeconds': 'SIGRELAY_SENTITEMS_RETRY_SECONDS',
  'sentItems.stageTimeoutMs': 'SIGRELAY_SENTITEMS_STAGE_TIMEOUT_MS',
  processedHeader: 'SIGRELAY_PROCESSED_HEADER',
};

function envNameFor(field: string): string {
  return envNames[field] ?? field;
}

function stripUndefined(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || v === '') continue;
    out[k] = stripUndefined(v);
  }
  return out;
}

/** The settings as JSON with secrets masked, for `sigrelay config print`. */
export function maskedSettings(settings: Settings): Settings {
  const mask = (conn: string | undefined) =>
    conn ? conn.replace(/(AccountKey|SharedAccessSignature|sig)=[^;&]+/gi, '$1=***') : undefined;
  return {
    ...settings,
    storage: {
      ...settings.storage,
      connectionString: mask(settings.storage.connectionString),
      traceConnectionString: mask(settings.storage.traceConnectionString),
    },
  };
}
