import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRequire } from 'node:module';
import type {
  DeliverResult,
  FailurePolicy,
  ProcessInput,
  SignActivityResult,
} from '../../../src/contracts/index.js';
import { processMessageOrchestrator } from '../../../src/orchestration/orchestrator.js';
import { deadlockReason } from '../../../src/processing/index.js';

/**
 * Drives the real orchestrator through durable-functions' own replay (DummyOrchestrationContext),
 * with histories shaped as the Durable extension writes them.
 */
class History {
  readonly events: Record<string, unknown>[] = [];
  private nextId = 0;
  constructor(readonly input: ProcessInput) {
    this.add(12, {});
    this.add(0, { Name: 'processMessage', Input: JSON.stringify(input) });
  }
  private add(type: number, fields: Record<string, unknown>): void {
    this.events.push({ EventType: type, EventId: -1, IsPlayed: false, Timestamp: new Date(), ...fields });
  }
  completed(name: string, result: unknown): this {
    const id = this.nextId++;
    this.add(4, { EventId: id, Name: name });
    this.add(5, { TaskScheduledId: id, Result: JSON.stringify(result) });
    return this;
  }
  timer(): this {
    const timer = this.nextId++;
    this.add(10, { EventId: timer, FireAt: new Date() });
    this.add(11, { TimerId: timer, FireAt: new Date() });
    return this;
  }
  /** A failed attempt of a retried activity, followed by the retry timer. */
  failedThenTimer(name: string, reason: string): this {
    const id = this.nextId++;
    this.add(4, { EventId: id, Name: name });
    this.add(6, { TaskScheduledId: id, Reason: reason, Details: 'Error' });
    const timer = this.nextId++;
    this.add(10, { EventId: timer, FireAt: new Date() });
    this.add(11, { TimerId: timer, FireAt: new Date() });
    return this;
  }
}

interface Action {
  functionName?: string;
  input?: Record<string, unknown>;
  retryOptions?: Record<string, number>;
}

// durable-functions' own test utilities (the package exports only DummyOrchestrationContext at the top).
const testUtils = createRequire(import.meta.url)('durable-functions/lib/src/util/testingUtils.js') as {
  createOrchestrator: (fn: unknown) => (input: unknown, context: unknown) => Promise<unknown>;
  DurableOrchestrationInput: new (instanceId: string, history: unknown[], input: unknown) => unknown;
  DummyOrchestrationContext: new (name: string, invocationId: string, log: () => void) => unknown;
};

async function replay(history: History): Promise<{ isDone: boolean; output: unknown; actions: Action[] }> {
  const handler = testUtils.createOrchestrator(processMessageOrchestrator);
  const input = new testUtils.DurableOrchestrationInput('msg-1', history.events, history.input);
  const context = new testUtils.DummyOrchestrationContext('processMessage', 'inv-1', () => undefined);
  const state = (await handler(input, context)) as { isDone: boolean; output: unknown; actions: Action[][] };
  return { isDone: state.isDone, output: state.output, actions: state.actions.flat() };
}

const failOpen: FailurePolicy = {
  signingFailure: 'fail-open',
  permanentFailure: 'dsn',
  retry: { firstIntervalSeconds: 30, maxIntervalSeconds: 3600, giveUpAfterHours: 48 },
};
const failClosed: FailurePolicy = { ...failOpen, signingFailure: 'fail-closed' };
const signed: SignActivityResult = {
  id: 'msg-1',
  found: true,
  signing: { action: 'signed', reason: 'signed', template: 'corporate' },
  useSigned: true,
  tenantId: 't',
  envelopeBlob: false,
  policy: failOpen,
};
/** The direct path's handover after a temporary failure, with the tenant's policy. */
const handover = (policy?: FailurePolicy): ProcessInput => ({
  id: 'msg-1',
  reason: 'temporary-failure',
  tenantId: 't',
  ...(policy ? { policy } : {}),
});
const delivered: DeliverResult = {
  status: 'delivered',
  response: '250 2.6.0 queued',
  delivered: ['b@x.example'],
  rejected: {},
};

describe('processMessage orchestrator', () => {
  it('success: signs, delivers the signed copy, then deletes', async () => {
    const h = new History(handover())
      .completed('signMessage', signed)
      .completed('deliverMessage', delivered)
      .completed('deleteMessage', null);
    const state = await replay(h);
    assert.equal(state.isDone, true);
    assert.deepEqual(
      state.actions.map((a) => a.functionName),
      ['signMessage', 'deliverMessage', 'deleteMessage'],
    );
    assert.deepEqual(state.actions[1]?.input, { id: 'msg-1', signing: signed.signing });
    assert.deepEqual(state.output, {
      id: 'msg-1',
      outcome: 'delivered',
      signing: { action: 'signed', reason: 'signed', template: 'corporate' },
      response: '250 2.6.0 queued',
    });
  });

  it('delivery uses the tenant retry policy: exponential backoff, capped, given up after the configured hours', async () => {
    const state = await replay(new History(handover()).completed('signMessage', signed));
    const deliver = state.actions[1];
    assert.equal(deliver?.functionName, 'deliverMessage');
    assert.equal(deliver?.retryOptions?.firstRetryIntervalInMilliseconds, 30_000);
    assert.equal(deliver?.retryOptions?.backoffCoefficient, 2);
    assert.equal(deliver?.retryOptions?.maxRetryIntervalInMilliseconds, 3_600_000);
    // The give-up time is kept by the attempt count: the waits before the last attempt reach 48 h,
    // one attempt fewer would not. No retry timeout (it can strand an orchestration; see retryOptions).
    assert.equal(deliver?.retryOptions?.retryTimeoutInMilliseconds, undefined);
    const attempts = deliver?.retryOptions?.maxNumberOfAttempts ?? 0;
    const waited = (retries: number) => {
      let total = 0;
      for (let i = 0, wait = 30_000; i < retries; i++, wait = Math.min(wait * 2, 3_600_000)) total += wait;
      return total;
    };
    assert.ok(waited(attempts - 1) >= 48 * 3_600_000, `${attempts} attempts reach 48 h`);
    assert.ok(waited(attempts - 2) < 48 * 3_600_000, `${attempts - 1} attempts would not`);
    assert.equal(state.isDone, false, 'waits for the delivery');
  });

  it('sign failure (engine): delivers the original with an X-Sigrelay-Result reason (fail-open)', async () => {
    const failure = { action: 'failed' as const, reason: 'engine-error: boom' };
    const failed: SignActivityResult = { ...signed, signing: failure, useSigned: false };
    const h = new History(handover())
      .completed('signMessage', failed)
      .completed('deliverMessage', delivered)
      .completed('deleteMessage', null);
    const state = await replay(h);
    assert.deepEqual(state.actions[1]?.input, { id: 'msg-1', signing: failure });
    assert.equal((state.output as { outcome: string }).outcome, 'delivered');
  });

  it('sign activity failing on every try (storage), fail-open tenant: delivers the original', async () => {
    const h = new History(handover(failOpen));
    for (let i = 0; i < 5; i++) h.failedThenTimer('signMessage', 'storage unavailable');
    const state = await replay(h);
    const deliver = state.actions.find((a) => a.functionName === 'deliverMessage');
    assert.ok(deliver, 'delivery is scheduled after the sign retries are exhausted');
    const signing = deliver.input?.signing as { action: string; reason: string };
    assert.equal(signing.action, 'failed');
    assert.match(signing.reason, /^sign-activity: storage unavailable/);
  });

  it('sign activity failing on every try, fail-closed tenant (policy from the handover): never delivered unsigned', async () => {
    const h = new History(handover(failClosed));
    for (let i = 0; i < 5; i++) h.failedThenTimer('signMessage', 'storage unavailable');
    const state = await replay(h);
    assert.ok(!state.actions.some((a) => a.functionName === 'deliverMessage'), 'no delivery');
    assert.equal(state.isDone, false, 'waits on a durable timer to sign again');
  });

  it('sign activity failing on every try with no known policy: treated as fail-closed', async () => {
    const h = new History({ id: 'msg-1', reason: 'orphan' });
    for (let i = 0; i < 5; i++) h.failedThenTimer('signMessage', 'storage unavailable');
    const state = await replay(h);
    assert.ok(!state.actions.some((a) => a.functionName === 'deliverMessage'), 'no delivery');
  });

  it('fail-closed: signing that keeps failing ends in the dead-letter container, never delivered', async () => {
    const failed: SignActivityResult = {
      ...signed,
      signing: { action: 'failed', reason: 'template-error: x' },
      useSigned: false,
      policy: failClosed,
    };
    const h = new History(handover(failClosed));
    for (let i = 0; i < 4; i++) {
      h.completed('signMessage', failed);
      h.timer();
    }
    h.completed('signMessage', failed).completed('deadLetterMessage', null);
    const state = await replay(h);
    assert.equal(state.isDone, true);
    assert.ok(!state.actions.some((a) => a.functionName === 'deliverMessage'), 'no delivery');
    assert.equal((state.output as { outcome: string }).outcome, 'dead-lettered');
  });

  it("the direct path's first attempt travels to the delivery activity", async () => {
    const firstAttempt = { delivered: ['a@x.example'], rejected: {}, lastResponse: '451 4.3.0 later' };
    const input: ProcessInput = {
      ...handover(failOpen),
      reason: 'partial',
      firstAttempt: { delivery: firstAttempt },
    };
    const state = await replay(new History(input).completed('signMessage', signed));
    assert.deepEqual(state.actions[1]?.input, { id: 'msg-1', signing: signed.signing, firstAttempt });
  });

  it('delivery retry: a temporary failure, then success, then delete — the message is delivered once', async () => {
    const h = new History(handover())
      .completed('signMessage', signed)
      .failedThenTimer('deliverMessage', 'temporary failure for 1 recipient(s): 451 4.3.0 try later')
      .completed('deliverMessage', delivered)
      .completed('deleteMessage', null);
    const state = await replay(h);
    assert.equal(state.isDone, true);
    assert.equal((state.output as { outcome: string }).outcome, 'delivered');
    assert.equal(state.actions.filter((a) => a.functionName === 'deleteMessage').length, 1);
  });

  it('permanent refusal (5xx): tells the sender (DSN) and dead-letters instead of deleting', async () => {
    const refused: DeliverResult = {
      status: 'permanent',
      response: '550 5.7.64 TenantAttribution',
      delivered: [],
      rejected: { 'b@x.example': '550' },
    };
    const h = new History(handover())
      .completed('signMessage', signed)
      .completed('deliverMessage', refused)
      .completed('notifySender', { notified: 1 })
      .completed('deadLetterMessage', null);
    const state = await replay(h);
    assert.deepEqual(
      state.actions.map((a) => a.functionName),
      ['signMessage', 'deliverMessage', 'notifySender', 'deadLetterMessage'],
    );
    assert.deepEqual(state.actions[2]?.input, {
      id: 'msg-1',
      final: false,
      reason: '550 5.7.64 TenantAttribution',
    });
    assert.equal((state.output as { outcome: string }).outcome, 'dead-lettered');
  });

  it('permanent refusal with the alert-only policy: no DSN, still dead-lettered', async () => {
    const refused: DeliverResult = {
      status: 'permanent',
      response: '550 5.1.1 unknown',
      delivered: [],
      rejected: { 'b@x.example': '550' },
    };
    const alertOnly = { ...signed, policy: { ...failOpen, permanentFailure: 'alert' as const } };
    const h = new History(handover())
      .completed('signMessage', alertOnly)
      .completed('deliverMessage', refused)
      .completed('deadLetterMessage', null);
    const state = await replay(h);
    assert.deepEqual(
      state.actions.map((a) => a.functionName),
      ['signMessage', 'deliverMessage', 'deadLetterMessage'],
    );
  });

  it('partial: some recipients refused permanently — DSN for those, then the message is deleted', async () => {
    const partial: DeliverResult = {
      status: 'partial',
      response: '250 ok',
      delivered: ['a@x.example'],
      rejected: { 'b@x.example': '550 5.1.1' },
    };
    const h = new History(handover())
      .completed('signMessage', signed)
      .completed('deliverMessage', partial)
      .completed('notifySender', { notified: 1 })
      .completed('deleteMessage', null);
    const state = await replay(h);
    assert.deepEqual(
      state.actions.map((a) => a.functionName),
      ['signMessage', 'deliverMessage', 'notifySender', 'deleteMessage'],
    );
    assert.equal((state.output as { outcome: string }).outcome, 'partial');
  });

  it('fail-closed tenant: a signing failure is retried after a durable timer, never delivered unsigned', async () => {
    const closed: SignActivityResult = {
      ...signed,
      signing: { action: 'failed', reason: 'template-error: x' },
      useSigned: false,
      policy: failClosed,
    };
    const state = await replay(new History(handover()).completed('signMessage', closed));
    assert.equal(state.isDone, false);
    assert.equal(state.actions.length, 2);
    assert.equal(state.actions[1]?.functionName, undefined, 'the second action is a timer, not a delivery');
    assert.ok(!state.actions.some((a) => a.functionName === 'deliverMessage'));
  });

  it('fail-closed: a deadlock on the direct path is dead-lettered at once, never signed again', async () => {
    const deadlocked = { action: 'failed' as const, reason: `${deadlockReason}: waited` };
    const h = new History({
      id: 'msg-1',
      reason: 'sign-failed',
      tenantId: 't',
      policy: failClosed,
      firstAttempt: { signing: deadlocked },
    }).completed('deadLetterMessage', null);
    const state = await replay(h);
    assert.equal(state.isDone, true);
    assert.equal((state.output as { outcome: string }).outcome, 'dead-lettered');
    assert.deepEqual(
      state.actions.map((a) => a.functionName),
      ['deadLetterMessage'],
    );
  });

  it('fail-closed: a deadlock in the sign activity is dead-lettered without a second signing', async () => {
    const deadlocked: SignActivityResult = {
      ...signed,
      signing: { action: 'failed', reason: `${deadlockReason}: waited` },
      useSigned: false,
      policy: failClosed,
    };
    const h = new History(handover(failClosed))
      .completed('signMessage', deadlocked)
      .completed('deadLetterMessage', null);
    const state = await replay(h);
    assert.equal(state.isDone, true);
    assert.deepEqual(
      state.actions.map((a) => a.functionName),
      ['signMessage', 'deadLetterMessage'],
    );
  });

  it('a message already gone from storage ends without delivering', async () => {
    const gone: SignActivityResult = { id: 'msg-1', found: false, useSigned: false };
    const state = await replay(new History(handover()).completed('signMessage', gone));
    assert.equal(state.isDone, true);
    assert.deepEqual(state.output, { id: 'msg-1', outcome: 'missing' });
  });
});
