import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deliverOwed, owed } from '../../../src/message/deliver.js';
import { memoryRuntime, metaOf } from '../../helpers/message-runtime.js';

const unsigned = { action: 'skipped' as const, reason: 'no-rule' };

describe('message step: deliver to the recipients still owed', () => {
  it('owes nobody who has the message or refused it for good', () => {
    const state = {
      delivered: ['a@x.example'],
      rejected: { 'b@x.example': '550 no such user' },
      lastResponse: '',
      attempts: 1,
      updatedAt: '',
    };
    assert.deepEqual(owed(['a@x.example', 'b@x.example', 'c@x.example'], state), ['c@x.example']);
  });

  it('records what the direct path achieved before sending, and sends nothing when nobody is owed', async () => {
    const { rt, store, calls, states } = memoryRuntime();
    store(metaOf('msg-0001', ['a@x.example', 'b@x.example']));
    const step = await deliverOwed(rt, {
      id: 'msg-0001',
      signing: unsigned,
      firstAttempt: {
        delivered: ['a@x.example'],
        rejected: { 'b@x.example': '550 no such user' },
        lastResponse: '550 no such user',
      },
    });
    assert.deepEqual(step.outcome, {
      result: {
        status: 'partial',
        response: '550 no such user',
        delivered: ['a@x.example'],
        rejected: { 'b@x.example': '550 no such user' },
      },
    });
    assert.deepEqual(step.events, []);
    assert.equal(states.get('msg-0001')?.attempts, 1);
    assert.deepEqual(
      calls.filter((c) => c.startsWith('put')),
      ['put msg-0001'],
    );
  });

  it('asks to be tried again, sending nothing, while the tenant is not configured', async () => {
    const { rt, store, opened } = memoryRuntime({ tenants: [] });
    store(metaOf('msg-0002'));
    const step = await deliverOwed(rt, { id: 'msg-0002', signing: unsigned });
    assert.match(step.outcome.retry ?? '', /tenant tenant-1 is not configured/);
    assert.deepEqual(step.events, []);
    assert.equal(opened[0]?.destroyed, true);
  });

  it('a message already gone after an attempt is summarised from its record', async () => {
    const { rt, states } = memoryRuntime();
    states.set('msg-0003', {
      delivered: ['a@x.example'],
      rejected: {},
      lastResponse: '250 queued',
      attempts: 2,
      updatedAt: '',
    });
    const step = await deliverOwed(rt, { id: 'msg-0003', signing: unsigned });
    assert.equal(step.outcome.result.status, 'delivered');
    assert.equal(step.outcome.retry, undefined);
  });

  it('a message gone before any attempt is a storage error, to be retried', async () => {
    const { rt } = memoryRuntime();
    await assert.rejects(deliverOwed(rt, { id: 'msg-0004', signing: unsigned }), /not in storage/);
  });
});
