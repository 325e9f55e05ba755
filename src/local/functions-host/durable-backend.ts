import crypto from 'node:crypto';
import type { Logger } from '../../log/index.js';

/** Durable Task history event types (the numbers the durable-functions SDK replays). */
const Ev = {
  ExecutionStarted: 0,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
} as const;

/** Durable action types, as the SDK emits them. */
const Act = { CallActivity: 0, CallActivityWithRetry: 1, CreateTimer: 5 } as const;

type HistoryEvent = Record<string, unknown> & {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: Date;
};

/** The retry options the durable-functions SDK sends with `CallActivityWithRetry`. */
export interface RetryOptions {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

interface Action {
  actionType: number;
  functionName?: string;
  input?: unknown;
  fireAt?: Date | string;
  retryOptions?: RetryOptions;
}

export type RuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated';
const terminal: ReadonlySet<RuntimeStatus> = new Set(['Completed', 'Failed', 'Terminated']);

export interface InstanceStatus {
  name: string;
  instanceId: string;
  createdTime: string;
  lastUpdatedTime: string;
  input: unknown;
  output: unknown;
  runtimeStatus: RuntimeStatus;
  customStatus: unknown;
}

interface Instance {
  status: InstanceStatus;
  history: HistoryEvent[];
  done: Promise<void>;
  finish: () => void;
  inbox: HistoryEvent[];
  wake?: () => void;
  terminated: boolean;
  nextId: number;
}

/** What the Durable extension hands an orchestrator function (durable-functions `DurableOrchestrationBindingInfo`). */
export interface OrchestrationBinding {
  history: HistoryEvent[];
  input: unknown;
  instanceId: string;
  isReplaying: boolean;
  parentInstanceId: string | undefined;
  upperSchemaVersion: number;
}

/** What an orchestrator function returns to the extension (durable-functions `OrchestratorState`). */
export interface OrchestratorState {
  isDone: boolean;
  actions?: unknown[][];
  output?: unknown;
  error?: string;
}

/** Runs one orchestrator episode (in the host: one invocation through the library). */
export type OrchestratorInvoker = (binding: OrchestrationBinding) => Promise<OrchestratorState>;
/** Runs one activity attempt; rejects when the activity failed. */
export type ActivityInvoker = (input: unknown, instanceId: string) => Promise<unknown>;

export interface DurableBackendOptions {
  orchestrators: Map<string, OrchestratorInvoker>;
  activities: Map<string, ActivityInvoker>;
  logger: Logger;
  /** Orchestration time: the clock history timestamps and retry decisions read (tests pass their own). */
  now?: () => number;
  maxConcurrentActivities?: number;
  /** How many finished instances to remember (so a second start with the same id is refused). */
  keepFinished?: number;
  /** Told every status change (the instance table mirror). */
  onStatus?: (status: InstanceStatus) => void;
}

/** DurableTask's `OrchestrationAlreadyExistsException`: a start with the id of a Running or Pending instance. */
export class OrchestrationAlreadyExistsError extends Error {
  readonly exceptionType = 'DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException';
}
/** The extension's `ArgumentException` for a start of a function that is not an orchestrator. */
export class UnknownOrchestratorError extends Error {
  readonly exceptionType = 'System.ArgumentException';
}

/**
 * A small Durable Task backend for the local host. It runs the orchestrator functions registered
 * with `df.app.orchestration` exactly as the Durable extension does: it hands them a history,
 * receives actions, runs the activities (retrying as DurableTask's RetryInterceptor does, with real
 * timers) and replays the orchestrator with the new events until it completes.
 *
 * State is kept in memory. That is enough for the local loop because durability comes from
 * elsewhere: the queue message stays invisible until its orchestration finishes (a crash means
 * redelivery), the message stays in `inbound` until delivered, and the delivery record prevents a
 * second send. In Azure the real Durable Task hub keeps the history.
 */
export class DurableBackend {
  private readonly instances = new Map<string, Instance>();
  private readonly options: DurableBackendOptions;
  private readonly log: Logger;
  private runningActivities = 0;
  private readonly activityWaiters: (() => void)[] = [];

  private readonly now: () => number;

  constructor(options: DurableBackendOptions) {
    this.options = options;
    this.log = options.logger;
    this.now = options.now ?? Date.now;
  }

  get(id: string): InstanceStatus | undefined {
    return this.instances.get(id)?.status;
  }

  list(): InstanceStatus[] {
    return [...this.instances.values()].map((i) => i.status);
  }

  /**
   * Starts an instance, as the extension's `StartNewAsync` does with its default dedupe statuses: an
   * unknown orchestrator is an argument error; a Running or Pending instance with the id refuses the
   * start; a Completed, Failed or Terminated one is replaced.
   */
  start(name: string, instanceId: string | undefined, input: unknown): InstanceStatus {
    const orchestrator = this.options.orchestrators.get(name);
    if (!orchestrator) {
      const known = [...this.options.orchestrators.keys()];
      throw new UnknownOrchestratorError(
        `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function. Additional info: ` +
          (known.length > 0
            ? `The following are the known orchestrator functions: '${known.join("', '")}'.`
            : 'No orchestrator functions are currently registered!'),
      );
    }
    const id = instanceId ?? crypto.randomUUID().replace(/-/g, '');
    const existing = this.instances.get(id);
    if (existing && !terminal.has(existing.status.runtimeStatus)) {
      throw new OrchestrationAlreadyExistsError(
        `An Orchestration instance with the status ${existing.status.runtimeStatus} already exists.`,
      );
    }
    const now = new Date(this.now()).toISOString();
    let finish = () => undefined as void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const instance: Instance = {
      status: {
        name,
        instanceId: id,
        createdTime: now,
        lastUpdatedTime: now,
        input: input ?? null,
        output: null,
        runtimeStatus: 'Pending',
        customStatus: null,
      },
      history: [],
      done,
      finish,
      inbox: [],
      terminated: false,
      nextId: 0,
    };
    this.instances.delete(id);
    this.instances.set(id, instance);
    this.options.onStatus?.(instance.status);
    this.forgetOldest();
    void this.run(instance, orchestrator);
    return instance.status;
  }

  /** Forgets one finished instance; returns how many were forgotten (0 or 1). */
  purgeOne(id: string): number {
    const instance = this.instances.get(id);
    if (!instance || !terminal.has(instance.status.runtimeStatus)) return 0;
    this.instances.delete(id);
    return 1;
  }

  /** Forgets finished instances created in [from, to] whose status is listed; returns how many. */
  purge(from: Date, to: Date, statuses: ReadonlySet<string>): number {
    let count = 0;
    for (const [id, inst] of this.instances) {
      const created = Date.parse(inst.status.createdTime);
      const status = inst.status.runtimeStatus;
      if (!terminal.has(status) || !statuses.has(status)) continue;
      if (created < from.getTime() || created > to.getTime()) continue;
      this.instances.delete(id);
      count++;
    }
    return count;
  }

  /** Resolves when the instance reaches a terminal state (immediately for unknown ids). */
  async waitFor(id: string): Promise<InstanceStatus | undefined> {
    const instance = this.instances.get(id);
    if (!instance) return undefined;
    await instance.done;
    return instance.status;
  }

  /** Terminates a running instance; the caller has checked that it exists and is not finished. */
  terminate(id: string, reason: string): void {
    const instance = this.instances.get(id);
    if (!instance || terminal.has(instance.status.runtimeStatus)) return;
    instance.terminated = true;
    this.setStatus(instance, 'Terminated', reason);
    instance.wake?.();
  }

  isTerminal(status: RuntimeStatus): boolean {
    return terminal.has(status);
  }

  private forgetOldest(): void {
    const keep = this.options.keepFinished ?? 100_000;
    if (this.instances.size <= keep) return;
    for (const [id, inst] of this.instances) {
      if (this.instances.size <= keep) break;
      if (terminal.has(inst.status.runtimeStatus)) this.instances.delete(id);
    }
  }

  private setStatus(instance: Instance, status: RuntimeStatus, output?: unknown): void {
    instance.status = {
      ...instance.status,
      runtimeStatus: status,
      lastUpdatedTime: new Date(this.now()).toISOString(),
    };
    if (output !== undefined) instance.status.output = output;
    this.options.onStatus?.(instance.status);
    if (terminal.has(status)) instance.finish();
  }

  private event(_instance: Instance, type: number, fields: Record<string, unknown> = {}): HistoryEvent {
    return { EventType: type, EventId: -1, IsPlayed: false, Timestamp: new Date(this.now()), ...fields };
  }

  private deliverEvents(instance: Instance, events: HistoryEvent[]): void {
    instance.inbox.push(...events);
    instance.wake?.();
  }

  private async run(instance: Instance, orchestrator: OrchestratorInvoker): Promise<void> {
    const log = this.log.child({ instance: instance.status.instanceId, orchestrator: instance.status.name });
    instance.history.push(
      this.event(instance, Ev.OrchestratorStarted),
      this.event(instance, Ev.ExecutionStarted, {
        Name: instance.status.name,
        Input: JSON.stringify(instance.status.input),
      }),
    );
    this.setStatus(instance, 'Running');
    let handledActions = 0;
    try {
      for (;;) {
        if (instance.terminated) return;
        const episodeTime = this.orchestrationTime(instance);
        const state = await orchestrator({
          history: instance.history,
          input: instance.status.input,
          instanceId: instance.status.instanceId,
          isReplaying: false,
          parentInstanceId: undefined,
          upperSchemaVersion: 0,
        });
        if (state.error) throw new Error(state.error);
        if (state.isDone) {
          this.setStatus(instance, 'Completed', state.output ?? null);
          return;
        }
        const actions = (state.actions ?? []).flat() as Action[];
        for (const action of actions.slice(handledActions)) this.schedule(instance, action, episodeTime, log);
        handledActions = actions.length;
        await this.nextEvents(instance);
        if (instance.terminated) return;
        instance.history.push(this.event(instance, Ev.OrchestratorStarted), ...instance.inbox.splice(0));
      }
    } catch (err) {
      const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
      log.error({ err: message }, 'orchestration failed');
      this.setStatus(instance, 'Failed', message);
    }
  }

  /** The orchestration's current time: the timestamp of its latest OrchestratorStarted event (DTFx `CurrentUtcDateTime`). */
  private orchestrationTime(instance: Instance): number {
    for (let i = instance.history.length - 1; i >= 0; i--) {
      const e = instance.history[i];
      if (e?.EventType === Ev.OrchestratorStarted) return e.Timestamp.getTime();
    }
    return this.now();
  }

  private nextEvents(instance: Instance): Promise<void> {
    if (instance.inbox.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      instance.wake = () => {
        instance.wake = undefined;
        resolve();
      };
    });
  }

  private schedule(instance: Instance, action: Action, episodeTime: number, log: Logger): void {
    switch (action.actionType) {
      case Act.CallActivity:
        void this.callActivity(instance, action, undefined, episodeTime, log);
        return;
      case Act.CallActivityWithRetry:
        void this.callActivity(instance, action, action.retryOptions, episodeTime, log);
        return;
      case Act.CreateTimer: {
        const id = instance.nextId++;
        const fireAt = new Date(action.fireAt ?? this.now());
        instance.history.push(this.event(instance, Ev.TimerCreated, { EventId: id, FireAt: fireAt }));
        this.timer(fireAt.getTime() - this.now(), () =>
          this.deliverEvents(instance, [
            this.event(instance, Ev.TimerFired, { TimerId: id, FireAt: fireAt }),
          ]),
        );
        return;
      }
      default:
        throw new Error(`the local host does not support durable action type ${action.actionType}`);
    }
  }

  /**
   * Runs an activity; with retry options, as DurableTask's RetryInterceptor does: after each
   * failure it decides, in orchestration time, between a timer and a new attempt, a last immediate
   * timer, or stopping (see `nextRetry`). The history it leaves is the one the SDK replays.
   */
  private async callActivity(
    instance: Instance,
    action: Action,
    retry: RetryOptions | undefined,
    firstAttempt: number,
    log: Logger,
  ): Promise<void> {
    const name = action.functionName ?? '';
    for (let retryCount = 0; ; retryCount++) {
      const id = instance.nextId++;
      instance.history.push(this.event(instance, Ev.TaskScheduled, { EventId: id, Name: name }));
      const result = await this.invokeActivity(name, action.input, instance.status.instanceId);
      if (instance.terminated) return;
      if (result.ok) {
        this.deliverEvents(instance, [
          this.event(instance, Ev.TaskCompleted, {
            TaskScheduledId: id,
            Result: JSON.stringify(result.value ?? null),
          }),
        ]);
        return;
      }
      const failed = this.event(instance, Ev.TaskFailed, {
        TaskScheduledId: id,
        Reason: result.error.message,
        Details: result.error.name,
      });
      if (!retry) {
        this.deliverEvents(instance, [failed]);
        return;
      }
      const next = nextRetry(retry, retryCount, firstAttempt, this.now());
      if (next.kind === 'stop') {
        // DurableTask schedules no timer here, and durable-functions (3.x) then waits for one that
        // never comes: the orchestration stays Running, as in Azure (durable-js issue 629).
        log.error(
          { activity: name, attempt: retryCount + 1 },
          'activity failed after its retry timeout; Durable stops retrying without failing the orchestration',
        );
        this.deliverEvents(instance, [failed]);
        return;
      }
      log.debug({ activity: name, attempt: retryCount + 1, err: result.error.message }, 'activity failed');
      const timerId = instance.nextId++;
      const fireAt = new Date(this.now() + next.delayMs);
      this.deliverEvents(instance, [
        failed,
        this.event(instance, Ev.TimerCreated, { EventId: timerId, FireAt: fireAt }),
      ]);
      await new Promise<void>((resolve) => this.timer(next.delayMs, resolve));
      if (instance.terminated) return;
      this.deliverEvents(instance, [
        this.event(instance, Ev.TimerFired, { TimerId: timerId, FireAt: fireAt }),
      ]);
      if (next.kind === 'last') return;
    }
  }

  private async invokeActivity(
    name: string,
    input: unknown,
    instanceId: string,
  ): Promise<{ ok: true; value: unknown } | { ok: false; error: Error }> {
    const invoke = this.options.activities.get(name);
    if (!invoke) return { ok: false, error: new Error(`no activity named ${name}`) };
    await this.acquireActivitySlot();
    try {
      // The SDK hands the input over as JSON text; the extension passes it on as a JSON value.
      const value = await invoke(typeof input === 'string' ? JSON.parse(input) : clone(input), instanceId);
      return { ok: true, value: clone(value) };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
    } finally {
      this.releaseActivitySlot();
    }
  }

  private acquireActivitySlot(): Promise<void> {
    const max = this.options.maxConcurrentActivities ?? 20;
    if (this.runningActivities < max) {
      this.runningActivities++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.activityWaiters.push(resolve)).then(() =>
      this.acquireActivitySlot(),
    );
  }

  private releaseActivitySlot(): void {
    this.runningActivities--;
    this.activityWaiters.shift()?.();
  }

  private timer(ms: number, fire: () => void): void {
    // Long durable timers may outlive a setTimeout's 24.8-day range; ours are far shorter, but clamp.
    setTimeout(fire, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
  }
}

/** The extension's default cap between attempts when the SDK sends none (`RetryOptions.DefaultMaxRetryinterval`). */
export const defaultMaxRetryIntervalMs = 6 * 24 * 3600 * 1000;

/**
 * What DurableTask does after the failure of attempt `retryCount + 1` (0-based `retryCount`),
 * as `RetryInterceptor.Invoke` and `ComputeNextDelay` (Azure/durabletask
 * `src/DurableTask.Core/RetryInterceptor.cs`) decide it, in orchestration time:
 * - the attempts are used up → `last`: one timer that fires at once ("dummy timer for
 *   back-compat"), then the failure stands;
 * - the retry timeout, counted from the orchestration time the call was first made, has passed
 *   (`now >= firstAttempt + timeout`), or the delay comes out as zero → `stop`: no timer;
 * - else → `retry` after `first × coefficient^retryCount`, or the max interval when that is not
 *   smaller.
 * Defaults: coefficient 1 (DurableTask.Core `RetryOptions`), max interval 6 days (the extension's
 * `RetryOptions`), no timeout.
 */
export function nextRetry(
  options: RetryOptions,
  retryCount: number,
  firstAttempt: number,
  now: number,
): { kind: 'retry'; delayMs: number } | { kind: 'last'; delayMs: 0 } | { kind: 'stop' } {
  if (retryCount + 1 >= options.maxNumberOfAttempts) return { kind: 'last', delayMs: 0 };
  const timeout = options.retryTimeoutInMilliseconds;
  if (timeout !== undefined && now >= firstAttempt + timeout) return { kind: 'stop' };
  const raw =
    options.firstRetryIntervalInMilliseconds * Math.pow(options.backoffCoefficient ?? 1, retryCount);
  const cap = options.maxRetryIntervalInMilliseconds ?? defaultMaxRetryIntervalMs;
  const delayMs = raw < cap ? raw : cap;
  return delayMs > 0 ? { kind: 'retry', delayMs } : { kind: 'stop' };
}

function clone(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}
