import { spawn, type ChildProcess } from 'node:child_process';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import { createRequire } from 'node:module';
import { azuriteConnectionString, defaultAzuritePorts } from '../storage/index.js';
import { logTail } from './supervisor.js';

const require = createRequire(import.meta.url);
const azuriteMain = require.resolve('azurite/dist/src/azurite.js');
/** Azurite's table service alone (`azurite-table`): the local profile's in-memory trace store. */
const azuriteTableMain = require.resolve('azurite/dist/src/table/main.js');
/** Stops the child when its parent is gone (see exit-with-parent.ts). */
export const exitWithParent = new URL('./exit-with-parent.js', import.meta.url).href;

export { azuriteConnectionString, defaultAzuritePorts };

export type { AzuritePorts } from '../storage/index.js';
import type { AzuritePorts } from '../storage/index.js';

export interface AzuriteOptions {
  /**
   * Workspace directory (data survives restarts of the process). With `inMemory` it is only the
   * process's working directory: Azurite refuses `--location` beside `--inMemoryPersistence`.
   */
  location: string;
  /**
   * Only the table service (blob and queue ports stay 0), kept in memory (`--inMemoryPersistence`,
   * Azurite ≥ 3.28): LokiJS then never autosaves, so its cost does not grow with what it holds, and
   * everything in it is gone when the process stops. The local profile keeps the trace here.
   */
  inMemoryTables?: boolean;
  /** Fixed ports; free ports are picked when absent. */
  ports?: Partial<AzuritePorts>;
  host?: string;
  /**
   * Azurite's debug log file (`--debug`): one block of lines per request, with its method, URL,
   * operation and status. Verbose and costly; for counting storage requests in benchmarks.
   */
  debugLog?: string;
  /** Where Azurite's own output goes (appended); discarded when absent. */
  logFile?: string;
  /**
   * How long a stop waits for Azurite to save its data and exit before it is killed. Azurite writes
   * its metadata to disk every 5 s and on SIGTERM/SIGINT; SIGKILL loses what it had not saved.
   */
  forceStopAfterMs?: number;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A real Azurite process from node_modules, with stop/start for fault tests. */
export class Azurite {
  readonly location: string;
  readonly host: string;
  ports: AzuritePorts = { blob: 0, queue: 0, table: 0 };
  private child: ChildProcess | undefined;
  private readonly requested: Partial<AzuritePorts>;
  private readonly debugLog: string | undefined;
  readonly logFile: string | undefined;
  private readonly forceStopAfterMs: number;
  readonly inMemoryTables: boolean;
  /** Children asked to stop: their exit is no crash. */
  private readonly stopping = new WeakSet<ChildProcess>();
  /** Told when Azurite exits without `stop` having been called (a crash, or killed from outside). */
  onUnexpectedExit: ((exit: ProcessExit) => void) | undefined;

  constructor(options: AzuriteOptions) {
    this.location = options.location;
    this.host = options.host ?? '127.0.0.1';
    this.requested = options.ports ?? {};
    this.debugLog = options.debugLog;
    this.logFile = options.logFile;
    this.forceStopAfterMs = options.forceStopAfterMs ?? 60_000;
    this.inMemoryTables = options.inMemoryTables ?? false;
  }

  /** The running process's id (CPU accounting in benchmarks). */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get connectionString(): string {
    return azuriteConnectionString(this.ports, this.host);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts Azurite (re-using the same ports on a restart) and waits until all three services listen. */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const keys = this.inMemoryTables ? (['table'] as const) : (['blob', 'queue', 'table'] as const);
      const picked = !this.ports.table && keys.some((k) => this.requested[k] === undefined);
      try {
        return await this.startOnce();
      } catch (err) {
        // A port found free can be taken by another process before Azurite binds it (tests run
        // side by side, each picking ports): ports we picked ourselves are picked again. Ports
        // asked for, or kept from an earlier start, are the caller's to keep.
        if (!picked || attempt >= 3 || !String((err as Error).message).includes('EADDRINUSE')) throw err;
        this.ports = { blob: 0, queue: 0, table: 0 };
      }
    }
  }

  private async startOnce(): Promise<void> {
    if (this.running) return;
    await fs.mkdir(this.location, { recursive: true });
    if (!this.ports.table) {
      this.ports = this.inMemoryTables
        ? { blob: 0, queue: 0, table: this.requested.table ?? (await freePort(this.host)) }
        : {
            blob: this.requested.blob ?? (await freePort(this.host)),
            queue: this.requested.queue ?? (await freePort(this.host)),
            table: this.requested.table ?? (await freePort(this.host)),
          };
    }
    const services = this.inMemoryTables
      ? [azuriteTableMain, '--inMemoryPersistence']
      : [
          azuriteMain,
          '--location',
          this.location,
          '--blobHost',
          this.host,
          '--blobPort',
          String(this.ports.blob),
          '--queueHost',
          this.host,
          '--queuePort',
          String(this.ports.queue),
        ];
    const args = [
      ...services,
      '--tableHost',
      this.host,
      '--tablePort',
      String(this.ports.table),
      '--silent',
      '--skipApiVersionCheck',
      '--loose',
      '--disableTelemetry',
      ...(this.debugLog ? ['--debug', this.debugLog] : []),
    ];
    const extra = (process.env.SIGRELAY_NODE_ARGS_AZURITE ?? '').split(/\s+/).filter(Boolean);
    const out = this.logFile ? fsSync.openSync(this.logFile, 'a') : 'ignore';
    // Its own process group: Ctrl-C in a terminal reaches the stack, which stops Azurite last.
    const child = spawn(process.execPath, [...extra, '--import', exitWithParent, ...args], {
      stdio: ['ignore', out, this.logFile ? out : 'pipe', 'ipc'],
      detached: true,
      cwd: this.location,
    });
    if (typeof out === 'number') fsSync.closeSync(out);
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => {
        void (this.logFile ? logTail(this.logFile) : Promise.resolve(stderr)).then((tail) =>
          reject(new Error(`azurite exited early (code ${code}): ${tail}`)),
        );
      }),
    );
    exited.catch(() => undefined);
    await Promise.race([
      Promise.all(
        [this.ports.blob, this.ports.queue, this.ports.table]
          .filter((p) => p > 0)
          .map((p) => waitForPort(p, 30_000, this.host)),
      ),
      exited,
    ]);
    child.once('exit', (code, signal) => {
      if (this.child === child && !this.stopping.has(child)) this.onUnexpectedExit?.({ code, signal });
    });
  }

  /**
   * Stops Azurite with `signal`: SIGTERM (default) lets it save its data and exit, and only if it has
   * not exited after `forceStopAfterMs` is it killed; SIGKILL simulates a crash (fault tests).
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.stopping.add(child);
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const force = setTimeout(() => {
      process.stderr.write(
        `sigrelay: azurite ignored ${signal} for ${this.forceStopAfterMs / 1000} s; killing it (unsaved data is lost)\n`,
      );
      child.kill('SIGKILL');
    }, this.forceStopAfterMs);
    await done;
    clearTimeout(force);
    if (this.child === child) this.child = undefined;
  }
}

/** Ports this process has handed out: the OS may offer a port again once its probe is closed. */
const handedOut = new Set<number>();

/**
 * Asks the OS for a free TCP port on `host`, never one this process handed out before: a stack
 * picks all its ports before anything binds them, and two picks used to collide now and then (the
 * stand-in meeting Azurite's port: EADDRINUSE).
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.unref();
      server.once('error', reject);
      server.listen(0, host, () => {
        const address = server.address();
        const p = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** Resolves once something accepts TCP connections on host:port. */
export async function waitForPort(port: number, timeoutMs = 30_000, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, host);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
