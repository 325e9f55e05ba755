import crypto from 'node:crypto';
import azureFunctions from '@azure/functions';
import type { Logger } from '../../log/index.js';

const { InvocationContext } = azureFunctions;

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

interface Action {
  actionType: number;
  functionName?: string;
  input?: unknown;
  fireAt?: Date | string;
  retryOptions?: {
    firstRetryIntervalInMilliseconds: number;
    maxNumberOfAttempts: number;
    backoffCoefficient?: number;
    maxRetryIntervalInMilliseconds?: number;
    retryTimeoutInMilliseconds?: number;
  };
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

type Handler = (...args: unknown[]) => unknown;

export interface DurableBackendOptions {
  orchestrators: Map<string, Handler>;
  activities: Map<string, Handler>;
  logger: Logger;
  maxConcurrentActivities?: number;
  /** How many finished instances to remember (so a second start with the same id is refused). */
  keepFinished?: number;
  /** Told every status change (the instance table mirror). */
  onStatus?: (status: InstanceStatus) => void;
}

export class ConflictError extends Error {}
export class NotFoundError extends Error {}

/**
 * A small Durable Task backend for the local host. It runs the orchestrator functions registered
 * with `df.app.orchestration` exactly as the Durable extension does: it hands them a history,
 * receives actions, runs the activities (with the SDK's RetryOptions semantics and real timers) and
 * replays the orchestrator with the new events until it completes.
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

  constructor(options: DurableBackendOptions) {
    this.options = options;
    this.log = options.logger;
  }

  get(id: string): InstanceStatus | undefined {
    return this.instances.get(id)?.status;
  }

  list(): InstanceStatus[] {
    return [...this.instances.values()].map((i) => i.status);
  }

  /** Starts an instance. A running one with the same id is a conflict; a finished one is replaced. */
  start(name: string, instanceId: string | undefined, input: unknown): InstanceStatus {
    const id = instanceId ?? crypto.randomUUID().replace(/-/g, '');
    const existing = this.instances.get(id);
    if (existing && !terminal.has(existing.status.runtimeStatus)) {
      throw new ConflictError(`an instance with id ${id} is ${existing.status.runtimeStatus}`);
    }
    const orchestrator = this.options.orchestrators.get(name);
    if (!orchestrator) throw new NotFoundError(`no orchestrator named ${name}`);
    const now = new Date().toISOString();
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

  terminate(id: string, reason: string): void {
    const instance = this.instances.get(id);
    if (!instance) throw new NotFoundError(`no instance ${id}`);
    if (terminal.has(instance.status.runtimeStatus)) return;
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
      lastUpdatedTime: new Date().toISOString(),
    };
    if (output !== undefined) instance.status.output = output;
    this.options.onStatus?.(instance.status);
    if (terminal.has(status)) instance.finish();
  }

  private event(instance: Instance, type: number, fields: Record<string, unknown> = {}): HistoryEvent {
    return { EventType: type, EventId: -1, IsPlayed: false, Timestamp: new Date(), ...fields };
  }

  private deliverEvents(instance: Instance, events: HistoryEvent[]): void {
    instance.inbox.push(...events);
    instance.wake?.();
  }

  private async run(instance: Instance, orchestrator: Handler): Promise<void> {
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
        const state = await this.invokeOrchestrator(instance, orchestrator);
        if (state.isDone) {
          this.setStatus(instance, 'Completed', state.output ?? null);
          return;
        }
        const actions = (state.actions ?? []).flat() as Action[];
        for (const action of actions.slice(handledActions)) this.schedule(instance, action, log);
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

  private nextEvents(instance: Instance): Promise<void> {
    if (instance.inbox.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      instance.wake = () => {
        instance.wake = undefined;
        resolve();
      };
    });
  }

  private async invokeOrchestrator(
    instance: Instance,
    orchestrator: Handler,
  ): Promise<{ isDone: boolean; actions?: unknown[][]; output?: unknown }> {
    const context = new InvocationContext({
      functionName: instance.status.name,
      invocationId: crypto.randomUUID(),
      options: {
        trigger: { type: 'orchestrationTrigger', name: 'context' },
        extraInputs: [],
        extraOutputs: [],
      },
      logHandler: () => undefined,
    });
    const binding = {
      history: instance.history,
      input: instance.status.input,
      instanceId: instance.status.instanceId,
      isReplaying: false,
      parentInstanceId: undefined,
      upperSchemaVersion: 0,
    };
    return (await orchestrator(binding, context)) as {
      isDone: boolean;
      actions?: unknown[][];
      output?: unknown;
    };
  }

  private schedule(instance: Instance, action: Action, log: Logger): void {
    switch (action.actionType) {
      case Act.CallActivity:
        void this.callActivity(instance, action, undefined, log);
        return;
      case Act.CallActivityWithRetry:
        void this.callActivity(instance, action, action.retryOptions, log);
        return;
      case Act.CreateTimer: {
        const id = instance.nextId++;
        const fireAt = new Date(action.fireAt ?? Date.now());
        instance.history.push(this.event(instance, Ev.TimerCreated, { EventId: id, FireAt: fireAt }));
        this.timer(fireAt.getTime() - Date.now(), () =>
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

  /** Runs an activity; with retry options, reproduces the extension's retry events (failure, timer, new attempt). */
  private async callActivity(
    instance: Instance,
    action: Action,
    retry: Action['retryOptions'],
    log: Logger,
  ): Promise<void> {
    const name = action.functionName ?? '';
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const id = instance.nextId++;
      instance.history.push(this.event(instance, Ev.TaskScheduled, { EventId: id, Name: name }));
      const timedOut =
        retry?.retryTimeoutInMilliseconds !== undefined &&
        Date.now() - started > retry.retryTimeoutInMilliseconds;
      const result = timedOut
        ? {
            ok: false as const,
            error: new Error(`retry timeout of ${retry?.retryTimeoutInMilliseconds} ms exceeded`),
          }
        : await this.invokeActivity(name, action.input, instance.status.instanceId);
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
      log.debug({ activity: name, attempt, err: result.error.message }, 'activity failed; will retry');
      // The SDK counts attempts itself: after each failure it waits for a timer, then either gives up
      // (attempts exhausted) or expects the next attempt. So a timer follows every failure.
      const timerId = instance.nextId++;
      const exhausted = attempt >= retry.maxNumberOfAttempts || timedOut;
      const delay = exhausted ? 0 : retryDelay(retry, attempt);
      const fireAt = new Date(Date.now() + delay);
      this.deliverEvents(instance, [
        failed,
        this.event(instance, Ev.TimerCreated, { EventId: timerId, FireAt: fireAt }),
      ]);
      await new Promise<void>((resolve) => this.timer(delay, resolve));
      if (instance.terminated) return;
      this.deliverEvents(instance, [
        this.event(instance, Ev.TimerFired, { TimerId: timerId, FireAt: fireAt }),
      ]);
      if (exhausted) return;
    }
  }

  private async invokeActivity(
    name: string,
    input: unknown,
    instanceId: string,
  ): Promise<{ ok: true; value: unknown } | { ok: false; error: Error }> {
    const handler = this.options.activities.get(name);
    if (!handler) return { ok: false, error: new Error(`no activity named ${name}`) };
    await this.acquireActivitySlot();
    try {
      const context = new InvocationContext({
        functionName: name,
        invocationId: crypto.randomUUID(),
        options: { trigger: { type: 'activityTrigger', name: 'input' }, extraInputs: [], extraOutputs: [] },
        triggerMetadata: { instanceId },
        logHandler: () => undefined,
      });
      // Inputs cross a process boundary in Azure (JSON); do the same so activities see the same values.
      const value = await handler(typeof input === 'string' ? JSON.parse(input) : clone(input), context);
      return { ok: true, value: clone(value) };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
    } finally {
      this.releaseActivitySlot();
    }
  }

  private async acquireActivitySlot(): Promise<void> {
    const max = this.options.maxConcurrentActivities ?? 20;
    while (this.runningActivities >= max)
      await new Promise<void>((resolve) => this.activityWaiters.push(resolve));
    this.runningActivities++;
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

/** Durable's retry schedule: first interval × coefficient^(attempt-1), capped at the max interval. */
export function retryDelay(retry: NonNullable<Action['retryOptions']>, attempt: number): number {
  const raw = retry.firstRetryIntervalInMilliseconds * Math.pow(retry.backoffCoefficient ?? 1, attempt - 1);
  const cap =
    retry.maxRetryIntervalInMilliseconds && retry.maxRetryIntervalInMilliseconds > 0
      ? retry.maxRetryIntervalInMilliseconds
      : Infinity;
  return Math.min(raw, cap);
}

function clone(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}
