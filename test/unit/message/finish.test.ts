import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../src/log/index.js';
import { deadLetter, deleteStored, finishDelivered } from '../../../src/message/finish.js';
import { memoryRuntime, metaOf } from '../../helpers/message-runtime.js';

describe('message step: finish', () => {
  it('a dead letter is buried before the working copies are deleted, and traced so', async () => {
    const { rt, store, calls } = memoryRuntime();
    store(metaOf('msg-0001'));
    const step = await deadLetter(rt, {
      id: 'msg-0001',
      reason: 'refused by the endpoint',
      history: {},
      sender: 'alice@contoso.com',
    });
    assert.deepEqual(calls, ['bury msg-0001 refused by the endpoint', 'deleteAll msg-0001 {}']);
    assert.deepEqual(step.events, [
      { event: 'dead-lettered', reason: 'refused by the endpoint' },
      { event: 'deleted' },
    ]);
    assert.equal(step.sender, 'alice@contoso.com');
  });

  it('a delivered unsigned message is deleted with what is known of its copies, nothing staged', async () => {
    const { rt, store, calls } = memoryRuntime();
    store(metaOf('msg-0002'));
    const step = await finishDelivered(rt, { id: 'msg-0002', signed: false, envelopeBlob: true });
    assert.deepEqual(calls, ['deleteAll msg-0002 {"signed":false,"envelopeBlob":true}']);
    assert.deepEqual(step.events, [{ event: 'deleted' }]);
  });

  it('a delete given time is retried through a storage failure', async () => {
    const { rt, calls, failNextDeletes } = memoryRuntime();
    failNextDeletes(1);
    await deleteStored(rt, 'msg-0003', {}, silentLogger, 60_000);
    assert.equal(calls.filter((c) => c.startsWith('deleteAll')).length, 2);
  });

  it('a delete given no time fails with the storage error', async () => {
    const { rt, calls, failNextDeletes } = memoryRuntime();
    failNextDeletes(1);
    await assert.rejects(deleteStored(rt, 'msg-0004', {}, silentLogger), /storage unavailable/);
    assert.equal(calls.filter((c) => c.startsWith('deleteAll')).length, 1);
  });
});
