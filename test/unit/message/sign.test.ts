import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { returnHeaders, signStored } from '../../../src/message/sign.js';
import { memoryRuntime } from '../../helpers/message-runtime.js';

const processed = 'X-Sigrelay-Processed';

describe('message step: sign', () => {
  it('an unsigned message goes back stamped against loops, with why it is unsigned on one line', () => {
    const headers = returnHeaders(
      'msg-0001',
      { action: 'failed', reason: 'template-error: bad\r\nthing' },
      processed,
    );
    assert.deepEqual(headers, [
      `${processed}: true`,
      'X-Sigrelay-Id: msg-0001',
      'X-Sigrelay-Result: unsigned; reason=template-error: bad thing',
    ]);
  });

  it('a signed message carries only our id: the engine stamped it already', () => {
    assert.deepEqual(returnHeaders('msg-0002', { action: 'signed', reason: 'rule' }, processed), [
      'X-Sigrelay-Id: msg-0002',
    ]);
  });

  it('the orchestration’s sign step reports a message no longer stored as not found', async () => {
    const { rt } = memoryRuntime();
    const step = await signStored(rt, { id: 'gone-0003' });
    assert.deepEqual(step.outcome, { id: 'gone-0003', found: false, useSigned: false });
    assert.deepEqual(
      step.events.map((e) => e.event),
      ['missing'],
    );
  });
});
