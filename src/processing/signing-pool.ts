import os from 'node:os';
import type { EventLoopUtilization } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { Logger } from '../log/index.js';
import type { ResolveSignature, SignDecision, SignOptions } from '../signing/index.js';
import { describeError } from '../errors/index.js';
import { chunkWindow, ownBuffer, type FromWorker, type StartJob, type ToWorker } from './signing-protocol.js';

export interface SigningPoolOptions {
  /** Worker threads; 0 or absent = one per core. */
  workers?: number;
  /** Milliseconds a job's worker may spend running (not waiting for I/O) before it is stopped. */
  budgetMs: number;
  /**
   * Wall-clock milliseconds a job's worker may go without running and without a byte moving. When
   * the job was waiting on its input, its output or its signature lookup, it is stopped as a
   * temporary failure (see SigningStalledError); when it was waiting on nothing outside the worker,
   * the engine is deadlocked and the message fails with reason `engine-error: deadlock: …`.
   */
  stallMs: number;
  /** Heap limit of each worker, MB: a message that needs more fails alone. */
  memoryMb: number;
  /** Messages above this size are "large": they never take the last free worker. */
  largeBytes: number;
  logger?: Logger;
  /**
   * The worker module; tests only (a worker that misbehaves on purpose). Production code leaves it
   * out, so the worker carries no fault switch.
   */
  workerUrl?: URL;
}

/** A job as the pool queues it. */
interface Job {
  input: Readable;
  output: Writable;
  resolve: ResolveSignature;
  options: SignOptions;
  large: boolean;
  settle: { resolve: (d: SignDecision) => void; reject: (err: unknown) => void };
}

/** The reason a decision over budget carries; the orchestration dead-letters it at once. */
export const overBudgetReason = 'over-budget';

export function isOverBudget(reason: string | undefined): boolean {
  return reason?.startsWith(`${overBudgetReason}:`) === true;
}

/**
 * The reason a deadlocked engine's decision carries: its worker stopped running while the job waited
 * on nothing outside it (a promise inside the engine that never settles). The engine's fault for this
 * message, not storage's: it goes the tenant's way like any `engine-error`, instead of being retried
 * as a stall.
 */
export const deadlockReason = 'engine-error: deadlock';

export function isDeadlock(reason: string | undefined): boolean {
  return reason?.startsWith(`${deadlockReason}:`) === true;
}

/** Worker event-loop time, ms, that counts as running between two stall checks (not a wake-up). */
const runningMs = 1;

/**
 * A job whose input, output or signature lookup made no progress for the stall limit. Not the
 * message's fault (a blob read or upload that hangs), so it rejects like any storage failure and
 * the message is retried by the normal path; nothing was delivered, so a retry cannot duplicate it.
 */
export class SigningStalledError extends Error {
  readonly code = 'ESIGNSTALL';
  constructor(waitingFor: string, stallMs: number) {
    super(`signing stalled: no progress on its ${waitingFor} for ${stallMs} ms`);
    this.name = 'SigningStalledError';
  }
}

/**
 * Signs messages in worker threads, one message per worker at a time, so a message that costs too
 * much (a pathological body, a huge part) cannot block the host's event loop — queue lease renewal,
 * HTTP routes, other deliveries — nor other messages for long. Each message gets a CPU budget
 * (the worker's event-loop active time, so waiting for storage does not count) and a heap limit;
 * past either the worker is terminated and replaced, and the message comes back as `failed` with
 * reason `over-budget: …`, for the tenant's failure policy. Large messages queue for all but one
 * worker, and small ones go first, so ordinary mail never waits behind a batch of big ones.
 * The budget counts running time only, so a job whose worker does not run has its own wall-clock
 * limit: no byte in or out, no signature lookup answered and no running for `stallMs`, and the worker
 * is stopped and replaced. Waiting on I/O, the job rejects with SigningStalledError (temporary);
 * waiting on nothing outside the worker (a deadlocked engine), it comes back `failed` with reason
 * `engine-error: deadlock: …`, for the tenant's failure policy like any engine error.
 *
 * Hand-written rather than piscina: a job here is a two-way stream plus a callback into the main
 * thread (the signature is resolved where the content lives), which a task-function pool does not
 * model, and the budget needs the worker's own event-loop time.
 */
export class SigningPool {
  private readonly size: number;
  private readonly idle: Worker[] = [];
  private readonly queued: Job[] = [];
  private busy = 0;
  private busyLarge = 0;
  private closed = false;
  private readonly all = new Set<Worker>();

  constructor(private readonly options: SigningPoolOptions) {
    this.size = options.workers && options.workers > 0 ? options.workers : os.availableParallelism();
  }

  /** Like `signMessage`, in a worker; the same contract (see src/signing/sign-message.ts). */
  sign(
    input: Readable,
    output: Writable,
    resolve: ResolveSignature,
    options: SignOptions & { size: number },
  ): Promise<SignDecision> {
    if (this.closed) return Promise.reject(new Error('the signing pool is closed'));
    const { size, ...signOptions } = options;
    return new Promise<SignDecision>((res, rej) => {
      const job: Job = {
        input,
        output,
        resolve,
        options: signOptions,
        large: size > this.options.largeBytes,
        settle: { resolve: res, reject: rej },
      };
      // Small messages go ahead of large ones; each kind keeps its arrival order.
      const at = job.large ? -1 : this.queued.findIndex((j) => j.large);
      if (at < 0) this.queued.push(job);
      else this.queued.splice(at, 0, job);
      this.dispatch();
    });
  }

  /** Stops every worker; jobs still queued are refused. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queued.splice(0)) job.settle.reject(new Error('the signing pool is closed'));
    await Promise.all([...this.all].map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.busy < this.size) {
      // A large message may not take the last free worker (unless the pool has only one).
      const largeAllowed = this.size === 1 || this.busyLarge < this.size - 1;
      const index = this.queued.findIndex((j) => !j.large || largeAllowed);
      if (index < 0) return;
      const [job] = this.queued.splice(index, 1);
      if (!job) return;
      this.busy++;
      if (job.large) this.busyLarge++;
      void this.run(job).finally(() => {
        this.busy--;
        if (job.large) this.busyLarge--;
        if (!this.closed) this.dispatch();
      });
    }
  }

  private worker(): Worker {
    const idle = this.idle.pop();
    if (idle) {
      idle.ref();
      return idle;
    }
    const worker = new Worker(this.options.workerUrl ?? new URL('./signing-worker.js', import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: this.options.memoryMb },
    });
    this.all.add(worker);
    worker.once('exit', () => {
      this.all.delete(worker);
      const i = this.idle.indexOf(worker);
      if (i >= 0) this.idle.splice(i, 1);
    });
    return worker;
  }

  private release(worker: Worker): void {
    // An idle worker must not keep a CLI or test process alive.
    worker.unref();
    this.idle.push(worker);
  }

  private async run(job: Job): Promise<void> {
    const worker = this.worker();
    const { port1: port, port2 } = new MessageChannel();
    const { input, output } = job;
    const send = (m: ToWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);
    let bytesIn = 0;
    let bytesOut = 0;
    let ioError: unknown;
    let finished = false;
    let stopWorker = false;

    const outcome = new Promise<SignDecision>((resolve, reject) => {
      const finish = (result: { decision: SignDecision } | { error: unknown }) => {
        if (finished) return;
        finished = true;
        clearInterval(budgetCheck);
        clearInterval(stallCheck);
        worker.off('error', onWorkerError);
        worker.off('exit', onExit);
        input.off('data', onData).off('end', onEnd).off('error', onInputError);
        port.close();
        if ('error' in result)
          reject(result.error instanceof Error ? result.error : new Error(describeError(result.error)));
        else resolve(result.decision);
      };
      // The worker is stopped and replaced (never reused) and the job ends with `result`.
      const stop = (result: { decision: SignDecision } | { error: unknown }) => {
        stopWorker = true;
        void worker.terminate();
        finish(result);
      };
      const failed = (reason: string) => stop({ decision: { action: 'failed', reason, bytesIn, bytesOut } });
      const overBudget = (what: string) => failed(`${overBudgetReason}: ${what}`);
      const stalled = (waitingFor: string) =>
        stop({ error: new SigningStalledError(waitingFor, this.options.stallMs) });
      const deadlocked = () =>
        failed(`${deadlockReason}: the worker waited ${this.options.stallMs} ms on nothing outside it`);

      // Input: a few chunks ahead of the worker, paused until it has read them.
      let inFlight = 0;
      let inputEnded = false;
      const onData = (chunk: Buffer) => {
        progressed();
        bytesIn += chunk.length;
        const buffer = ownBuffer(chunk);
        send({ type: 'in', chunk: buffer }, [buffer]);
        if (++inFlight >= chunkWindow) input.pause();
      };
      const onEnd = () => {
        inputEnded = true;
        send({ type: 'in-end' });
      };
      const onInputError = (err: unknown) => {
        ioError ??= err;
        send({ type: 'in-error', message: describeError(err) });
      };
      input.on('data', onData).once('end', onEnd).once('error', onInputError);

      // Output: written in order, acknowledged once the sink has taken it.
      let writing = Promise.resolve();
      let writesPending = 0;
      let resolving = false;
      const onOutputError = (err: unknown) => {
        ioError ??= err;
        stop({ error: err });
      };
      output.once('error', onOutputError);

      port.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'started':
            startBudget();
            started = worker.performance.eventLoopUtilization();
            break;
          case 'in-ack':
            progressed();
            if (--inFlight < chunkWindow && input.isPaused()) input.resume();
            break;
          case 'out': {
            progressed();
            const chunk = Buffer.from(m.chunk);
            bytesOut += chunk.length;
            writesPending++;
            writing = writing.then(
              () =>
                new Promise<void>((done) => {
                  if (output.destroyed) return done();
                  if (output.write(chunk)) return done();
                  // A sink destroyed while full never drains: its close ends the wait as well.
                  const settle = () => {
                    output.off('drain', settle).off('close', settle);
                    done();
                  };
                  output.once('drain', settle).once('close', settle);
                }),
            );
            void writing.then(() => {
              writesPending--;
              progressed();
              if (!finished) send({ type: 'out-ack' });
            });
            break;
          }
          case 'resolve': {
            resolving = true;
            progressed();
            const answered = () => {
              resolving = false;
              progressed();
              return !finished;
            };
            job.resolve(m.facts).then(
              (resolution) => answered() && send({ type: 'resolved', resolution }),
              (err: unknown) => answered() && send({ type: 'resolve-failed', message: describeError(err) }),
            );
            break;
          }
          case 'done':
            void writing.then(() => {
              output.off('error', onOutputError);
              if (m.decision.action === 'signed') output.end();
              else if (!output.destroyed) output.destroy();
              finish({ decision: m.decision });
            });
            break;
          case 'error':
            if (!output.destroyed) output.destroy();
            finish({ error: ioError ?? new Error(m.message) });
            break;
        }
      });

      const onWorkerError = (err: Error & { code?: string }) => {
        stopWorker = true;
        if (err.code === 'ERR_WORKER_OUT_OF_MEMORY')
          return overBudget(`more than ${this.options.memoryMb} MB of memory`);
        finish({
          decision: { action: 'failed', reason: `engine-error: ${describeError(err)}`, bytesIn, bytesOut },
        });
      };
      const onExit = () => {
        stopWorker = true;
        finish({
          decision: {
            action: 'failed',
            reason: 'engine-error: the signing worker stopped',
            bytesIn,
            bytesOut,
          },
        });
      };
      worker.once('error', onWorkerError);
      worker.once('exit', onExit);

      // The budget counts the worker's running time only: a slow blob read is not the message's fault.
      const { budgetMs } = this.options;
      let budgetCheck: NodeJS.Timeout | undefined;
      const startBudget = () => {
        const start = worker.performance.eventLoopUtilization();
        budgetCheck = setInterval(
          () => {
            if (worker.performance.eventLoopUtilization(start).active > budgetMs)
              overBudget(`signing ran longer than ${budgetMs} ms`);
          },
          Math.max(1, Math.min(250, Math.floor(budgetMs / 4))),
        );
      };

      // The stall clock runs while the worker does not (its event loop's active time did not grow
      // since the last check) and no byte moves: then the job waits on something. On something
      // outside the worker (input it asked for — fewer than a window of chunks in flight, so the
      // source is flowing —, output the sink has not taken, the signature lookup), past the limit it
      // is a stall, temporary; on nothing outside it, the engine awaits something that will never
      // settle inside the worker — an idle loop the CPU budget never sees — and that is the engine's
      // failure for this message. While the worker runs, the clock stands still: a long but running
      // job is the CPU budget's business. Until the worker has started (loading its modules, when
      // it has no event-loop figures yet), only waiting outside it counts, as startup is no deadlock.
      const { stallMs } = this.options;
      let lastProgress = performance.now();
      const progressed = () => {
        lastProgress = performance.now();
      };
      const waitingFor = (): string | undefined => {
        if (writesPending > 0) return 'output';
        if (resolving) return 'signature lookup';
        if (!inputEnded && inFlight < chunkWindow) return 'input';
        return undefined;
      };
      let started: EventLoopUtilization | undefined;
      const running = (): boolean => {
        if (!started) return false;
        const now = worker.performance.eventLoopUtilization();
        const ran = now.active - started.active;
        started = now;
        return ran >= runningMs;
      };
      const stallCheck = setInterval(
        () => {
          const what = waitingFor();
          if (running() || (what === undefined && !started)) progressed();
          else if (performance.now() - lastProgress > stallMs) {
            if (what === undefined) deadlocked();
            else stalled(what);
          }
        },
        Math.max(1, Math.min(1000, Math.floor(stallMs / 4))),
      );

      const startJob: StartJob = { port: port2, options: job.options };
      worker.postMessage(startJob, [port2]);
    });

    try {
      const decision = await outcome;
      const stopped = isOverBudget(decision.reason)
        ? 'signing stopped: over budget'
        : isDeadlock(decision.reason)
          ? 'signing stopped: deadlocked'
          : undefined;
      if (stopped) {
        input.destroy();
        if (!output.destroyed) output.destroy();
        this.options.logger?.warn({ reason: decision.reason, bytesIn }, stopped);
      }
      job.settle.resolve(decision);
    } catch (err) {
      input.destroy();
      if (err instanceof SigningStalledError) {
        // Whatever the sink holds is not the message: its owner abandons it (a blob upload aborts).
        if (!output.destroyed) output.destroy();
        this.options.logger?.warn({ err: err.message, bytesIn }, 'signing stopped: stalled; retried');
      }
      job.settle.reject(err);
    } finally {
      if (!stopWorker) this.release(worker);
    }
  }
}
