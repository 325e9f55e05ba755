import fs from 'node:fs/promises';
import { describeError } from '../errors/index.js';

/** The processes of the local stack, in the order they start. They stop in the reverse order. */
export const stackParts = ['azurite', 'standin', 'front', 'functions'] as const;
export type StackPart = (typeof stackParts)[number];

export interface RestartPolicy {
  /** The first restart waits this long; each crash before the child proved stable doubles it. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A child up this long is stable again: its next crash restarts after `initialDelayMs`. */
  stableAfterMs: number;
  /** This many restarts within `crashLoopWindowMs` is a crash loop, said plainly on the console. */
  crashLoopRestarts: number;
  crashLoopWindowMs: number;
}

export const defaultRestartPolicy: RestartPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  stableAfterMs: 60_000,
  crashLoopRestarts: 5,
  crashLoopWindowMs: 5 * 60_000,
};

/** What the supervisor remembers about one child's crashes. */
export interface CrashHistory {
  /** Crashes since the child last stayed up for `stableAfterMs`. */
  consecutive: number;
  /** When it was restarted, newest last; only those inside the crash-loop window are kept. */
  restarts: number[];
}

export const noCrashes: CrashHistory = { consecutive: 0, restarts: [] };

/**
 * The decision after a crash: how long to wait before the restart, and the history that follows.
 * A child that ran for `stableAfterMs` starts the backoff afresh; otherwise each crash doubles it.
 */
export function afterCrash(
  history: CrashHistory,
  crash: { startedAt: number; crashedAt: number },
  policy: RestartPolicy = defaultRestartPolicy,
): { delayMs: number; history: CrashHistory } {
  const consecutive =
    crash.crashedAt - crash.startedAt >= policy.stableAfterMs ? 0 : Math.max(0, history.consecutive);
  const delayMs = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** consecutive);
  const restartAt = crash.crashedAt + delayMs;
  const restarts = [...history.restarts, restartAt].filter((t) => t > restartAt - policy.crashLoopWindowMs);
  return { delayMs, history: { consecutive: consecutive + 1, restarts } };
}

/** True when the child was restarted `crashLoopRestarts` times or more within the window up to `now`. */
export function isCrashLooping(
  history: CrashHistory,
  now: number,
  policy: RestartPolicy = defaultRestartPolicy,
): boolean {
  return (
    history.restarts.filter((t) => t > now - policy.crashLoopWindowMs).length >= policy.crashLoopRestarts
  );
}

export type PartState =
  { state: 'up'; since: number } | { state: 'waiting'; restartAt: number } | { state: 'starting' };

/** One line for the console: every part, and plainly which one keeps crashing. */
export function statusLine(
  parts: ReadonlyMap<StackPart, { state: PartState; history: CrashHistory }>,
  now: number,
  policy: RestartPolicy = defaultRestartPolicy,
): string {
  const minutes = Math.round(policy.crashLoopWindowMs / 60_000);
  const items = [...parts].map(([name, { state, history }]) => {
    const recent = history.restarts.filter((t) => t > now - policy.crashLoopWindowMs).length;
    const looping = isCrashLooping(history, now, policy)
      ? ` — KEEPS CRASHING: ${recent} restarts in ${minutes} min`
      : '';
    if (state.state === 'up') return `${name} up${looping}`;
    if (state.state === 'starting') return `${name} starting${looping}`;
    const wait = Math.max(0, state.restartAt - now);
    return `${name} down, restart in ${formatDuration(wait)}${looping}`;
  });
  return `sigrelay: ${items.join(' | ')}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 6_000) / 10} min`;
  return `${Math.round(ms / 360_000) / 10} h`;
}

/** The last `lines` lines of a log file ('' when it cannot be read); reads at most the last 64 KiB. */
export async function logTail(file: string, lines = 20): Promise<string> {
  let handle;
  try {
    handle = await fs.open(file, 'r');
    const { size } = await handle.stat();
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8').split('\n').filter(Boolean).slice(-lines).join('\n');
  } catch {
    return '';
  } finally {
    await handle?.close();
  }
}

/** What the supervisor needs from the stack it watches (LocalStack implements it). */
export interface Supervisable {
  /** Calls `listener` whenever a part exits without having been asked to. */
  onUnexpectedExit(
    listener: (part: StackPart, exit: { code: number | null; signal: NodeJS.Signals | null }) => void,
  ): void;
  /** Starts a part again and resolves once it serves (rejects if it exits first). */
  startPart(part: StackPart): Promise<void>;
  /** The part's log file, for the report. */
  logFile(part: StackPart): string;
  /** The running parts. */
  readonly partNames: readonly StackPart[];
}

export interface SupervisorOptions {
  policy?: RestartPolicy;
  /** Where reports go (the console in `npm start`); one call per report, lines joined by \n. */
  report?: (text: string) => void;
  now?: () => number;
}

/**
 * Restarts the parts of the local stack that exit unexpectedly, with exponential backoff, and says
 * on the console which one died, how, the end of its log, and when one keeps crashing.
 */
export class Supervisor {
  private readonly policy: RestartPolicy;
  private readonly report: (text: string) => void;
  private readonly now: () => number;
  private readonly parts = new Map<StackPart, { state: PartState; history: CrashHistory }>();
  private readonly timers = new Map<StackPart, NodeJS.Timeout>();
  private readonly starting = new Map<StackPart, Promise<void>>();
  private stopped = false;
  /** Restarts done (successful starts after a crash), per part: for tests and the console. */
  readonly restarts = new Map<StackPart, number>();

  constructor(
    private readonly stack: Supervisable,
    options: SupervisorOptions = {},
  ) {
    this.policy = options.policy ?? defaultRestartPolicy;
    this.report = options.report ?? ((text) => process.stderr.write(`${text}\n`));
    this.now = options.now ?? Date.now;
    for (const part of stack.partNames)
      this.parts.set(part, { state: { state: 'up', since: this.now() }, history: noCrashes });
    stack.onUnexpectedExit((part, exit) => void this.crashed(part, describeExit(exit)));
  }

  /** Cancels pending restarts and waits for one in progress; the stack is then the caller's to stop. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.starting.values()]);
  }

  status(): string {
    return statusLine(this.parts, this.now(), this.policy);
  }

  private async crashed(part: StackPart, how: string): Promise<void> {
    const entry = this.parts.get(part);
    // A part that dies while it is being started is the restart's failure, reported there.
    if (!entry || this.stopped || entry.state.state !== 'up') return;
    const tail = await logTail(this.stack.logFile(part));
    this.schedule(part, entry.state.since, how, tail);
  }

  private schedule(part: StackPart, startedAt: number, how: string, tail: string): void {
    const entry = this.parts.get(part);
    if (!entry || this.stopped) return;
    const now = this.now();
    const { delayMs, history } = afterCrash(entry.history, { startedAt, crashedAt: now }, this.policy);
    entry.history = history;
    entry.state = { state: 'waiting', restartAt: now + delayMs };
    const lines = [
      `sigrelay: ${part} ${how} after ${formatDuration(now - startedAt)} up; restarting in ${formatDuration(delayMs)}`,
    ];
    if (tail)
      lines.push(`  last lines of ${this.stack.logFile(part)}:`, ...tail.split('\n').map((l) => `  | ${l}`));
    if (isCrashLooping(history, now, this.policy))
      lines.push(
        `sigrelay: ${part} KEEPS CRASHING (${history.restarts.length} restarts in ${formatDuration(this.policy.crashLoopWindowMs)}); fix the cause in its log, or Ctrl-C`,
      );
    lines.push(this.status());
    this.report(lines.join('\n'));
    this.timers.set(
      part,
      setTimeout(() => {
        this.timers.delete(part);
        void this.restart(part);
      }, delayMs),
    );
  }

  private async restart(part: StackPart): Promise<void> {
    const entry = this.parts.get(part);
    if (!entry || this.stopped) return;
    entry.state = { state: 'starting' };
    const startedAt = this.now();
    const start = this.stack.startPart(part);
    this.starting.set(
      part,
      start.catch(() => undefined),
    );
    try {
      await start;
    } catch (err) {
      this.starting.delete(part);
      if (this.stopped) return;
      const tail = await logTail(this.stack.logFile(part));
      this.schedule(part, startedAt, `failed to start (${describeError(err)})`, tail);
      return;
    }
    this.starting.delete(part);
    entry.state = { state: 'up', since: this.now() };
    this.restarts.set(part, (this.restarts.get(part) ?? 0) + 1);
    this.report(`sigrelay: ${part} is back\n${this.status()}`);
  }
}

function describeExit(exit: { code: number | null; signal: NodeJS.Signals | null }): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}
