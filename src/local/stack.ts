import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot, sampleConfigDir } from '../config/index.js';
import { ensureDevPki, type DevPkiFiles } from '../devtls/index.js';
import { createStorageClients, ensureStorage } from '../storage/index.js';
import { Azurite, exitWithParent, freePort, waitForPort, type ProcessExit } from './azurite.js';
import { logTail, stackParts, type StackPart, type Supervisable } from './supervisor.js';

export { waitForPort };

/** Where the functions deliver; absent, the stack's Exchange Online stand-in. */
export interface DeliveryTarget {
  /** `host:port` (SIGRELAY_DELIVERY_HOST). */
  host: string;
  /** SIGRELAY_DELIVERY_TLS; `required` when absent. */
  tls?: string;
  /** CA bundle and client certificate for that endpoint; absent, the dev CA and client certificate. */
  caFile?: string;
  clientCertFile?: string;
  clientKeyFile?: string;
}

/**
 * The delivery target an operator set for `npm start` (SIGRELAY_DELIVERY_HOST and its companions),
 * or undefined: deliver to the stand-in. The port is part of SIGRELAY_DELIVERY_HOST (`host:port`).
 */
export function deliveryFromEnv(env: Record<string, string | undefined>): DeliveryTarget | undefined {
  const host = env.SIGRELAY_DELIVERY_HOST;
  if (!host) return undefined;
  return {
    host,
    ...(env.SIGRELAY_DELIVERY_TLS ? { tls: env.SIGRELAY_DELIVERY_TLS } : {}),
    ...(env.SIGRELAY_DELIVERY_CA ? { caFile: env.SIGRELAY_DELIVERY_CA } : {}),
    ...(env.SIGRELAY_DELIVERY_CLIENT_CERT ? { clientCertFile: env.SIGRELAY_DELIVERY_CLIENT_CERT } : {}),
    ...(env.SIGRELAY_DELIVERY_CLIENT_KEY ? { clientKeyFile: env.SIGRELAY_DELIVERY_CLIENT_KEY } : {}),
  };
}

/** Everything `stackEnvironment` derives the environment from. */
export interface StackEnvironmentParts {
  storageConnection: string;
  /** The in-memory trace store's connection, when the stack runs one. */
  traceStorageConnection?: string;
  configDir: string;
  dataDir: string;
  ports: { smtp: number; standin: number; functions: number };
  pki: Pick<DevPkiFiles, 'frontCert' | 'frontKey' | 'caCert' | 'clientCert' | 'clientKey'>;
  outbox: string;
  functionKey: string;
  delivery?: DeliveryTarget;
  extra?: Record<string, string>;
}

/**
 * The environment shared by the front and the functions (what local.settings.json holds in a func
 * setup). Delivery goes to the stand-in unless a target is given; `extra` overrides anything.
 */
export function stackEnvironment(parts: StackEnvironmentParts): Record<string, string> {
  const { delivery, pki } = parts;
  return {
    SIGRELAY_PROFILE: 'local',
    AzureWebJobsStorage: parts.storageConnection,
    ...(parts.traceStorageConnection
      ? { SIGRELAY_TRACE_STORAGE_CONNECTION: parts.traceStorageConnection }
      : {}),
    SIGRELAY_CONFIG: parts.configDir,
    SIGRELAY_DATA_DIR: parts.dataDir,
    SIGRELAY_SMTP_HOST: '127.0.0.1',
    SIGRELAY_SMTP_PORT: String(parts.ports.smtp),
    SIGRELAY_TLS_CERT: pki.frontCert,
    SIGRELAY_TLS_KEY: pki.frontKey,
    SIGRELAY_DELIVERY_HOST: delivery?.host ?? `127.0.0.1:${parts.ports.standin}`,
    SIGRELAY_DELIVERY_TLS: delivery?.tls ?? 'required',
    SIGRELAY_DELIVERY_CA: delivery?.caFile ?? pki.caCert,
    SIGRELAY_DELIVERY_CLIENT_CERT: delivery?.clientCertFile ?? pki.clientCert,
    SIGRELAY_DELIVERY_CLIENT_KEY: delivery?.clientKeyFile ?? pki.clientKey,
    SIGRELAY_OUTBOX: parts.outbox,
    SIGRELAY_FUNCTIONS_PORT: String(parts.ports.functions),
    SIGRELAY_FUNCTIONS_KEY: parts.functionKey,
    FUNCTIONS_WORKER_RUNTIME: 'node',
    ...(parts.extra ?? {}),
  };
}

export interface StackOptions {
  dataDir: string;
  configDir?: string;
  smtpPort?: number;
  standinPort?: number;
  functionsPort?: number;
  /** Extra environment for every process (e.g. SIGRELAY_REQUIRE_TLS, log level). */
  env?: Record<string, string>;
  /** Azurite's ports; free ports when absent (tests), the standard 10000–10002 for `npm start`. */
  azuritePorts?: { blob: number; queue: number; table: number };
  /** `local` (in-process host, default when `func` is absent) or `func` (Core Tools). */
  functionsRuntime?: 'local' | 'func';
  /** Where child output goes: a log file per process (default) or inherited. */
  logDir?: string;
  /** Azurite's debug log file (see AzuriteOptions.debugLog); off when absent. */
  debugLog?: string;
  /** Deliver here instead of the stand-in (`npm start` with SIGRELAY_DELIVERY_HOST set). */
  delivery?: DeliveryTarget;
  /**
   * Keep the message trace in a second Azurite, table service only, in memory, on this port (0: a
   * free one). LokiJS rewrites a persisted table file whole on every autosave (every 5 s), so a
   * trace kept beside the delivery records makes the emulator dearer the more mail it has carried;
   * in memory it never autosaves. The price: the trace starts empty whenever Azurite restarts.
   * Absent: the trace stays in the main Azurite (tests, benchmarks that count its requests).
   */
  traceTablePort?: number;
  /** The trace store's own debug log (see `debugLog`), for benchmarks that count its requests too. */
  traceDebugLog?: string;
}

const dist = path.join(projectRoot, 'dist');
const entry = {
  front: path.join(dist, 'src', 'front', 'main.js'),
  standin: path.join(dist, 'src', 'standin', 'main.js'),
  functions: path.join(dist, 'src', 'local', 'functions-main.js'),
};

/** True when Azure Functions Core Tools (`func`) is on PATH. */
export function coreToolsAvailable(): boolean {
  return spawnSync('func', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * The whole loop on one machine: Azurite, the Exchange Online stand-in, the SMTP front and the
 * functions app, each its own process (so tests can kill any of them), wired by environment.
 */
export class LocalStack implements Supervisable {
  readonly options: StackOptions;
  readonly azurite: Azurite;
  /** The in-memory trace store (`traceTablePort`), when the stack runs one. */
  readonly traceStore: Azurite | undefined;
  pki!: DevPkiFiles;
  ports = { smtp: 0, standin: 0, standinControl: 0, functions: 0 };
  readonly outbox: string;
  readonly logDir: string;
  functionKey = '';
  functionsRuntime: 'local' | 'func' = 'local';
  private readonly children = new Map<string, ChildProcess>();
  /** Children asked to stop (`kill`, `stop`): their exit is no crash. */
  private readonly stopping = new WeakSet<ChildProcess>();
  private readonly exitListeners: ((part: StackPart, exit: ProcessExit) => void)[] = [];
  readonly partNames: readonly StackPart[] = stackParts;

  constructor(options: StackOptions) {
    this.options = options;
    this.outbox = path.join(options.dataDir, 'outbox');
    this.logDir = options.logDir ?? path.join(options.dataDir, 'logs');
    this.azurite = new Azurite({
      location: path.join(options.dataDir, 'azurite'),
      ports: options.azuritePorts,
      debugLog: options.debugLog,
      logFile: this.logFile('azurite'),
    });
    this.azurite.onUnexpectedExit = (exit) => this.exited('azurite', exit);
    this.traceStore =
      options.traceTablePort === undefined
        ? undefined
        : new Azurite({
            location: path.join(options.dataDir, 'azurite-trace'),
            inMemoryTables: true,
            ports: options.traceTablePort ? { table: options.traceTablePort } : {},
            debugLog: options.traceDebugLog,
            logFile: this.logFile('azurite'),
          });
    // Supervised as part of `azurite`: restarting that part starts whichever of the two is down.
    if (this.traceStore) this.traceStore.onUnexpectedExit = (exit) => this.exited('azurite', exit);
  }

  /** Environment shared by the front and the functions (what local.settings.json holds in a func setup). */
  env(): Record<string, string> {
    return stackEnvironment({
      storageConnection: this.azurite.connectionString,
      ...(this.traceStore ? { traceStorageConnection: this.traceStore.connectionString } : {}),
      configDir: this.options.configDir ?? sampleConfigDir,
      dataDir: this.options.dataDir,
      ports: this.ports,
      pki: this.pki,
      outbox: this.outbox,
      functionKey: this.functionKey,
      delivery: this.options.delivery,
      extra: this.options.env,
    });
  }

  /** Where the functions deliver: the stand-in, or the target `npm start` was given. */
  get deliveryHost(): string {
    return this.env().SIGRELAY_DELIVERY_HOST ?? '';
  }

  logFile(part: StackPart): string {
    return path.join(this.logDir, `${part}.log`);
  }

  onUnexpectedExit(listener: (part: StackPart, exit: ProcessExit) => void): void {
    this.exitListeners.push(listener);
  }

  /** Starts one part again (the supervisor's restart); resolves once it serves. */
  async startPart(part: StackPart): Promise<void> {
    if (part === 'azurite') {
      await this.startAzurite();
      // Azurite saves every 5 s: killed before its first save, it comes back without the containers
      // and queues the front and the functions created once at their start, and every write would
      // fail until they were restarted too. Creating what is missing is idempotent.
      await ensureStorage(createStorageClients({ connectionString: this.azurite.connectionString }));
      return;
    }
    if (part === 'standin') return this.startStandin();
    if (part === 'front') return this.startFront();
    return this.startFunctions();
  }

  private exited(part: StackPart, exit: ProcessExit): void {
    if (this.exitListeners.length === 0) {
      // Unsupervised (tests): say so once, the test decides what follows.
      if (exit.code !== 0 && exit.signal === null)
        process.stderr.write(`sigrelay: ${part} exited with code ${exit.code}; see ${this.logFile(part)}\n`);
      return;
    }
    for (const listener of this.exitListeners) listener(part, exit);
  }

  async start(): Promise<void> {
    fs.mkdirSync(this.logDir, { recursive: true });
    fs.mkdirSync(this.outbox, { recursive: true });
    this.pki = await ensureDevPki(path.join(this.options.dataDir, 'tls'));
    this.functionKey = this.options.env?.SIGRELAY_FUNCTIONS_KEY ?? 'local-dev-key';
    this.ports = {
      smtp: this.options.smtpPort ?? (await freePort()),
      standin: this.options.standinPort ?? (await freePort()),
      standinControl: await freePort(),
      functions: this.options.functionsPort ?? (await freePort()),
    };
    try {
      await this.startAzurite();
      await this.startStandin();
      await this.startFront();
      await this.startFunctions();
    } catch (err) {
      // Whatever did start is stopped again: a half-started stack would outlive its caller.
      await this.stop().catch(() => undefined);
      throw err;
    }
  }

  /** Both Azurites (each start does nothing when it already runs). */
  private async startAzurite(): Promise<void> {
    await this.azurite.start();
    await this.traceStore?.start();
  }

  /** Starts the stand-in; `tls` replaces its certificate files (e.g. one from a CA we do not trust). */
  async startStandin(tls?: { cert: string; key: string; ca: string }): Promise<void> {
    const child = await this.spawn('standin', entry.standin, {
      SIGRELAY_STANDIN_PORT: String(this.ports.standin),
      SIGRELAY_STANDIN_CONTROL_PORT: String(this.ports.standinControl),
      SIGRELAY_STANDIN_CERT: tls?.cert ?? this.pki.standinCert,
      SIGRELAY_STANDIN_KEY: tls?.key ?? this.pki.standinKey,
      SIGRELAY_STANDIN_CA: tls?.ca ?? this.pki.caCert,
      SIGRELAY_OUTBOX: this.outbox,
    });
    await this.serves('standin', child, this.ports.standin);
    await waitForPort(this.ports.standinControl);
  }

  async startFront(): Promise<void> {
    const child = await this.spawn('front', entry.front, this.env());
    await this.serves('front', child, this.ports.smtp);
  }

  async startFunctions(): Promise<void> {
    const runtime = this.options.functionsRuntime ?? (coreToolsAvailable() ? 'func' : 'local');
    this.functionsRuntime = runtime;
    const child =
      runtime === 'func'
        ? await this.spawn(
            'functions',
            'func',
            // Core Tools starts its Node worker from PATH; pin it to the runtime the stack runs on.
            { ...this.env(), languageWorkers__node__defaultExecutablePath: process.execPath },
            ['start', '--port', String(this.ports.functions)],
            true,
          )
        : await this.spawn('functions', entry.functions, this.env());
    await this.serves('functions', child, this.ports.functions, 60_000);
  }

  /** The process id of each running part (CPU accounting in benchmarks); `trace` is the trace store. */
  pids(): Partial<Record<'azurite' | 'trace' | 'front' | 'functions' | 'standin', number>> {
    const out: Partial<Record<'azurite' | 'trace' | 'front' | 'functions' | 'standin', number>> = {};
    if (this.azurite.pid) out.azurite = this.azurite.pid;
    if (this.traceStore?.pid) out.trace = this.traceStore.pid;
    for (const name of ['front', 'functions', 'standin'] as const) {
      const child = this.children.get(name);
      if (child?.pid && child.exitCode === null && child.signalCode === null) out[name] = child.pid;
    }
    return out;
  }

  /** Changes how the stand-in answers (fault tests). */
  async setStandinBehaviour(behaviour: object): Promise<void> {
    const url = `http://127.0.0.1:${this.ports.standinControl}/behaviour`;
    // The PUT is idempotent, so a kept-alive socket the control server closed while idle (its
    // keep-alive timeout racing the pooled client's reuse on a loaded machine) is simply tried again.
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(url, { method: 'PUT', body: JSON.stringify(behaviour) });
        if (res.status !== 204) throw new Error(`stand-in control answered ${res.status}`);
        return;
      } catch (err) {
        if (!(err instanceof TypeError) || attempt === 3) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  /** Kills one process (SIGKILL = crash, SIGTERM = graceful). */
  async kill(name: 'front' | 'functions' | 'standin', signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.children.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.stopping.add(child);
    child.kill(signal);
    // A graceful stop gets 15 s to drain; then it is a crash like any other.
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    // A replacement may have been started meanwhile; only forget the process we stopped.
    if (this.children.get(name) === child) this.children.delete(name);
  }

  /**
   * Stops everything in order: the front first (it stops accepting and drains), then the functions
   * (they finish what is in flight), the stand-in, and Azurite last, with SIGTERM so it saves its data.
   */
  async stop(report?: (part: StackPart) => void): Promise<void> {
    for (const name of ['front', 'functions', 'standin'] as const) {
      await this.kill(name, 'SIGTERM');
      report?.(name);
    }
    await this.traceStore?.stop('SIGTERM');
    await this.azurite.stop('SIGTERM');
    report?.('azurite');
  }

  /**
   * Resolves once the child accepts connections on `port`. Rejects if it exits first, or kills it
   * and rejects if it never listens, so a restart never meets a half-started predecessor.
   */
  private async serves(
    name: StackPart,
    child: ChildProcess,
    port: number,
    timeoutMs = 30_000,
  ): Promise<void> {
    let onExit: (() => void) | undefined;
    const exited = new Promise<never>((_, reject) => {
      // Names the part and shows the end of its log: "exited before it listened" alone says nothing.
      onExit = () =>
        void logTail(this.logFile(name), 10).then((tail) =>
          reject(
            new Error(
              `${name} exited (code ${child.exitCode}, signal ${child.signalCode}) before it listened on ${port}` +
                (tail ? `; last lines of ${this.logFile(name)}:\n${tail}` : ''),
            ),
          ),
        );
      if (child.exitCode !== null || child.signalCode !== null) onExit();
      else child.once('exit', onExit);
    });
    try {
      await Promise.race([waitForPort(port, timeoutMs), exited]);
    } catch (err) {
      if (child.exitCode === null && child.signalCode === null) {
        this.stopping.add(child);
        child.kill('SIGKILL');
      }
      throw err;
    } finally {
      if (onExit) child.off('exit', onExit);
    }
  }

  private async spawn(
    name: StackPart,
    file: string,
    env: Record<string, string>,
    args: string[] = [],
    isCommand = false,
  ): Promise<ChildProcess> {
    const out = fs.openSync(this.logFile(name), 'a');
    // Node children get their own process group (Ctrl-C reaches only the stack, which stops them in
    // order) and an IPC channel that stops them if the stack dies (exit-with-parent.ts).
    const child = isCommand
      ? spawn(file, args, { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', out, out] })
      : spawn(process.execPath, [...childNodeArgs(name), '--import', exitWithParent, file, ...args], {
          cwd: projectRoot,
          env: { ...process.env, ...env },
          stdio: ['ignore', out, out, 'ipc'],
          detached: true,
        });
    fs.closeSync(out);
    this.children.set(name, child);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
    child.once('exit', (code, signal) => {
      if (this.children.get(name) === child && !this.stopping.has(child)) this.exited(name, { code, signal });
    });
    return child;
  }
}

/**
 * Extra node flags for one child, for profiling: SIGRELAY_NODE_ARGS_FUNCTIONS="--cpu-prof" and so on
 * (NODE_OPTIONS refuses --cpu-prof).
 */
function childNodeArgs(name: string): string[] {
  const value = process.env[`SIGRELAY_NODE_ARGS_${name.toUpperCase()}`];
  return value ? value.split(/\s+/).filter(Boolean) : [];
}
