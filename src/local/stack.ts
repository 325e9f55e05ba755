import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot, sampleConfigDir } from '../config/index.js';
import { ensureDevPki, type DevPkiFiles } from '../devtls/index.js';
import { Azurite, freePort, waitForPort } from './azurite.js';

export { waitForPort };

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
export class LocalStack {
  readonly options: StackOptions;
  readonly azurite: Azurite;
  pki!: DevPkiFiles;
  ports = { smtp: 0, standin: 0, standinControl: 0, functions: 0 };
  readonly outbox: string;
  readonly logDir: string;
  functionKey = '';
  functionsRuntime: 'local' | 'func' = 'local';
  private readonly children = new Map<string, ChildProcess>();

  constructor(options: StackOptions) {
    this.options = options;
    this.azurite = new Azurite({
      location: path.join(options.dataDir, 'azurite'),
      ports: options.azuritePorts,
      debugLog: options.debugLog,
    });
    this.outbox = path.join(options.dataDir, 'outbox');
    this.logDir = options.logDir ?? path.join(options.dataDir, 'logs');
  }

  /** Environment shared by the front and the functions (what local.settings.json holds in a func setup). */
  env(): Record<string, string> {
    return {
      SIGRELAY_PROFILE: 'local',
      AzureWebJobsStorage: this.azurite.connectionString,
      SIGRELAY_CONFIG: this.options.configDir ?? sampleConfigDir,
      SIGRELAY_DATA_DIR: this.options.dataDir,
      SIGRELAY_SMTP_HOST: '127.0.0.1',
      SIGRELAY_SMTP_PORT: String(this.ports.smtp),
      SIGRELAY_TLS_CERT: this.pki.frontCert,
      SIGRELAY_TLS_KEY: this.pki.frontKey,
      SIGRELAY_DELIVERY_HOST: `127.0.0.1:${this.ports.standin}`,
      SIGRELAY_DELIVERY_TLS: 'required',
      SIGRELAY_DELIVERY_CA: this.pki.caCert,
      SIGRELAY_DELIVERY_CLIENT_CERT: this.pki.clientCert,
      SIGRELAY_DELIVERY_CLIENT_KEY: this.pki.clientKey,
      SIGRELAY_OUTBOX: this.outbox,
      SIGRELAY_FUNCTIONS_PORT: String(this.ports.functions),
      SIGRELAY_FUNCTIONS_KEY: this.functionKey,
      FUNCTIONS_WORKER_RUNTIME: 'node',
      ...(this.options.env ?? {}),
    };
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
    await this.azurite.start();
    await this.startStandin();
    await this.startFront();
    await this.startFunctions();
  }

  /** Starts the stand-in; `tls` replaces its certificate files (e.g. one from a CA we do not trust). */
  async startStandin(tls?: { cert: string; key: string; ca: string }): Promise<void> {
    await this.spawn('standin', entry.standin, {
      SIGRELAY_STANDIN_PORT: String(this.ports.standin),
      SIGRELAY_STANDIN_CONTROL_PORT: String(this.ports.standinControl),
      SIGRELAY_STANDIN_CERT: tls?.cert ?? this.pki.standinCert,
      SIGRELAY_STANDIN_KEY: tls?.key ?? this.pki.standinKey,
      SIGRELAY_STANDIN_CA: tls?.ca ?? this.pki.caCert,
      SIGRELAY_OUTBOX: this.outbox,
    });
    await waitForPort(this.ports.standin);
  }

  async startFront(): Promise<void> {
    await this.spawn('front', entry.front, this.env());
    await waitForPort(this.ports.smtp);
  }

  async startFunctions(): Promise<void> {
    const runtime = this.options.functionsRuntime ?? (coreToolsAvailable() ? 'func' : 'local');
    this.functionsRuntime = runtime;
    if (runtime === 'func') {
      await this.spawn(
        'functions',
        'func',
        { ...this.env() },
        ['start', '--port', String(this.ports.functions)],
        true,
      );
    } else {
      await this.spawn('functions', entry.functions, this.env());
    }
    await waitForPort(this.ports.functions, 60_000);
  }

  /** The process id of each running part (CPU accounting in benchmarks). */
  pids(): Partial<Record<'azurite' | 'front' | 'functions' | 'standin', number>> {
    const out: Partial<Record<'azurite' | 'front' | 'functions' | 'standin', number>> = {};
    if (this.azurite.pid) out.azurite = this.azurite.pid;
    for (const name of ['front', 'functions', 'standin'] as const) {
      const child = this.children.get(name);
      if (child?.pid && child.exitCode === null && child.signalCode === null) out[name] = child.pid;
    }
    return out;
  }

  /** Changes how the stand-in answers (fault tests). */
  async setStandinBehaviour(behaviour: object): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${this.ports.standinControl}/behaviour`, {
      method: 'PUT',
      body: JSON.stringify(behaviour),
    });
    if (res.status !== 204) throw new Error(`stand-in control answered ${res.status}`);
  }

  /** Kills one process (SIGKILL = crash, SIGTERM = graceful). */
  async kill(name: 'front' | 'functions' | 'standin', signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.children.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    // A graceful stop gets 15 s to drain; then it is a crash like any other.
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    // A replacement may have been started meanwhile; only forget the process we stopped.
    if (this.children.get(name) === child) this.children.delete(name);
  }

  async stop(): Promise<void> {
    for (const name of ['front', 'functions', 'standin'] as const) await this.kill(name, 'SIGTERM');
    await this.azurite.stop();
  }

  private async spawn(
    name: string,
    file: string,
    env: Record<string, string>,
    args: string[] = [],
    isCommand = false,
  ): Promise<void> {
    const out = fs.openSync(path.join(this.logDir, `${name}.log`), 'a');
    const child = isCommand
      ? spawn(file, args, { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', out, out] })
      : spawn(process.execPath, [...childNodeArgs(name), file, ...args], {
          cwd: projectRoot,
          env: { ...process.env, ...env },
          stdio: ['ignore', out, out],
        });
    fs.closeSync(out);
    this.children.set(name, child);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
    child.once('exit', (code, signal) => {
      if (this.children.get(name) === child && code !== 0 && signal === null) {
        process.stderr.write(
          `sigrelay: ${name} exited with code ${code}; see ${path.join(this.logDir, `${name}.log`)}\n`,
        );
      }
    });
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
