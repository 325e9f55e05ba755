/**
 * The local Durable backend held to DurableTask's retry logic, row by row. Each row names the
 * source it was checked against (repository, path, commit); docs/host-conformance.md lists them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DurableBackend,
  defaultMaxRetryIntervalMs,
  nextRetry,
  type OrchestrationBinding,
  type OrchestratorState,
  type RetryOptions,
} from '../../../../src/local/functions-host/durable-backend.js';
import { createLogger } from '../../../../src/log/index.js';

const retryInterceptor =
  'Azure/durabletask src/DurableTask.Core/RetryInterceptor.cs @5217032961abf45846f462732a5e2813316e3747';
const coreRetryOptions =
  'Azure/durabletask src/DurableTask.Core/RetryOptions.cs @5217032961abf45846f462732a5e2813316e3747';
const extensionRetryOptions =
  'Azure/azure-functions-durable-extension src/WebJobs.Extensions.DurableTask/RetryOptions.cs @a7c6d6944041b48267ed8409bb8ec8144ab9bab9';

const second = 1000;
const base: RetryOptions = {
  firstRetryIntervalInMilliseconds: second,
  maxNumberOfAttempts: 10,
  backoffCoefficient: 2,
};
const t0 = Date.UTC(2026, 0, 1);

const rows: {
  name: string;
  options: RetryOptions;
  retryCount: number;
  now: number;
  expected: ReturnType<typeof nextRetry>;
  source: string;
}[] = [
  {
    name: 'the first retry waits the first interval',
    options: base,
    retryCount: 0,
    now: t0,
    expected: { kind: 'retry', delayMs: second },
    source: retryInterceptor,
  },
  {
    name: 'each retry multiplies by the coefficient (first × coefficient^retryCount)',
    options: base,
    retryCount: 3,
    now: t0,
    expected: { kind: 'retry', delayMs: 8 * second },
    source: retryInterceptor,
  },
  {
    name: 'a delay not smaller than the max interval is the max interval',
    options: { ...base, maxRetryIntervalInMilliseconds: 4 * second },
    retryCount: 2,
    now: t0,
    expected: { kind: 'retry', delayMs: 4 * second },
    source: retryInterceptor,
  },
  {
    name: 'without a coefficient the interval stays the first one (default 1)',
    options: { firstRetryIntervalInMilliseconds: second, maxNumberOfAttempts: 10 },
    retryCount: 5,
    now: t0,
    expected: { kind: 'retry', delayMs: second },
    source: coreRetryOptions,
  },
  {
    name: 'without a max interval the cap is the extension default of 6 days',
    options: { ...base, firstRetryIntervalInMilliseconds: 5 * 24 * 3600 * second },
    retryCount: 1,
    now: t0,
    expected: { kind: 'retry', delayMs: defaultMaxRetryIntervalMs },
    source: extensionRetryOptions,
  },
  {
    name: 'after the last attempt: one timer that fires at once, then the failure stands',
    options: { ...base, maxNumberOfAttempts: 3 },
    retryCount: 2,
    now: t0,
    expected: { kind: 'last', delayMs: 0 },
    source: retryInterceptor,
  },
  {
    name: 'the last attempt wins over a passed retry timeout (its timer is still created)',
    options: { ...base, maxNumberOfAttempts: 3, retryTimeoutInMilliseconds: second },
    retryCount: 2,
    now: t0 + 10 * second,
    expected: { kind: 'last', delayMs: 0 },
    source: retryInterceptor,
  },
  {
    name: 'a failure just inside the retry timeout (orchestration time) is retried',
    options: { ...base, retryTimeoutInMilliseconds: 10 * second },
    retryCount: 1,
    now: t0 + 10 * second - 1,
    expected: { kind: 'retry', delayMs: 2 * second },
    source: retryInterceptor,
  },
  {
    name: 'a failure at first attempt + retry timeout stops the retries, with no timer',
    options: { ...base, retryTimeoutInMilliseconds: 10 * second },
    retryCount: 1,
    now: t0 + 10 * second,
    expected: { kind: 'stop' },
    source: retryInterceptor,
  },
  {
    name: 'a max interval of 0 makes the delay 0, which stops the retries',
    options: { ...base, maxRetryIntervalInMilliseconds: 0 },
    retryCount: 0,
    now: t0,
    expected: { kind: 'stop' },
    source: retryInterceptor,
  },
];

void describe('nextRetry: what DurableTask does after a failed attempt', () => {
  for (const row of rows) {
    void it(`${row.name} [${row.source}]`, () => {
      assert.deepEqual(nextRetry(row.options, row.retryCount, t0, row.now), row.expected);
    });
  }
});

const EventType = { TaskScheduled: 4, TaskCompleted: 5, TaskFailed: 6, TimerCreated: 10, TimerFired: 11 };

/**
 * An orchestrator that calls one activity with retries, as durable-functions emits it
 * (CallActivityWithRetry, action type 1), and finishes once the history holds the call's outcome:
 * a completion, or a failure followed by as many timers as there were failures.
 */
function retryingOrchestrator(retry: RetryOptions, seen: (history: OrchestrationBinding['history']) => void) {
  return (binding: OrchestrationBinding): Promise<OrchestratorState> => {
    seen(binding.history);
    const count = (type: number) => binding.history.filter((e) => e.EventType === type).length;
    const done =
      count(EventType.TaskCompleted) > 0 || count(EventType.TimerFired) >= retry.maxNumberOfAttempts;
    return Promise.resolve({
      isDone: done,
      output: done ? count(EventType.TaskScheduled) : undefined,
      actions: [[{ actionType: 1, functionName: 'flaky', input: null, retryOptions: retry }]],
    });
  };
}

function counts(history: OrchestrationBinding['history']) {
  const n = (type: number) => history.filter((e) => e.EventType === type).length;
  return {
    scheduled: n(EventType.TaskScheduled),
    failed: n(EventType.TaskFailed),
    timers: n(EventType.TimerCreated),
    fired: n(EventType.TimerFired),
    completed: n(EventType.TaskCompleted),
  };
}

void describe('DurableBackend: the history a retried activity leaves', () => {
  const logger = createLogger('test', { level: 'silent' });

  void it(`an activity failing every attempt: one timer per failure, the last firing at once [${retryInterceptor}]`, async () => {
    const retry: RetryOptions = { firstRetryIntervalInMilliseconds: 1, maxNumberOfAttempts: 3 };
    let last: OrchestrationBinding['history'] = [];
    const backend = new DurableBackend({
      orchestrators: new Map([['o', retryingOrchestrator(retry, (h) => (last = h))]]),
      activities: new Map([['flaky', () => Promise.reject(new Error('down'))]]),
      logger,
      now: () => t0,
    });
    backend.start('o', 'i1', null);
    const status = await backend.waitFor('i1');
    assert.equal(status?.runtimeStatus, 'Completed');
    assert.deepEqual(counts(last), { scheduled: 3, failed: 3, timers: 3, fired: 3, completed: 0 });
    const timers = last.filter((e) => e.EventType === EventType.TimerCreated);
    const failures = last.filter((e) => e.EventType === EventType.TaskFailed);
    assert.equal((timers.at(-1)?.FireAt as Date).getTime(), failures.at(-1)?.Timestamp.getTime());
  });

  void it(`an activity that succeeds on its second attempt: one failure, one timer, one result [${retryInterceptor}]`, async () => {
    const retry: RetryOptions = { firstRetryIntervalInMilliseconds: 1, maxNumberOfAttempts: 5 };
    let calls = 0;
    let last: OrchestrationBinding['history'] = [];
    const backend = new DurableBackend({
      orchestrators: new Map([['o', retryingOrchestrator(retry, (h) => (last = h))]]),
      activities: new Map([
        ['flaky', () => (++calls === 1 ? Promise.reject(new Error('once')) : Promise.resolve('ok'))],
      ]),
      logger,
    });
    backend.start('o', 'i2', null);
    await backend.waitFor('i2');
    assert.deepEqual(counts(last), { scheduled: 2, failed: 1, timers: 1, fired: 1, completed: 1 });
  });

  void it(`the retry timeout is read in orchestration time after a failure: no timer, the instance stays Running [${retryInterceptor}]`, async () => {
    // Each attempt takes 6 s of orchestration time: the first failure is inside the 10 s timeout,
    // the second is past it.
    let clock = t0;
    const now = () => clock;
    const retry: RetryOptions = {
      firstRetryIntervalInMilliseconds: 1,
      maxNumberOfAttempts: 10,
      retryTimeoutInMilliseconds: 10 * second,
    };
    let secondFailureSeen: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => (secondFailureSeen = resolve));
    let last: OrchestrationBinding['history'] = [];
    const backend = new DurableBackend({
      orchestrators: new Map([
        [
          'o',
          retryingOrchestrator(retry, (h) => {
            last = h;
            if (counts(h).failed === 2) secondFailureSeen();
          }),
        ],
      ]),
      activities: new Map([
        [
          'flaky',
          () => {
            clock += 6 * second;
            return Promise.reject(new Error('down'));
          },
        ],
      ]),
      logger,
      now,
    });
    backend.start('o', 'i3', null);
    await stopped;
    // durable-functions then waits for a timer DurableTask never creates (durable-js issue 629).
    assert.deepEqual(counts(last), { scheduled: 2, failed: 2, timers: 1, fired: 1, completed: 0 });
    assert.equal(backend.get('i3')?.runtimeStatus, 'Running');
    backend.terminate('i3', 'test over');
  });
});
