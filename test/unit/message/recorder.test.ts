import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recorded, recordTrace } from '../../../src/message/recorder.js';
import { memoryRuntime } from '../../helpers/message-runtime.js';

describe('message recorder', () => {
  it('writes a step’s events under its sender and hands the outcome on', async () => {
    const { rt, traces } = memoryRuntime();
    const outcome = await recorded(rt, 'msg-0001', {
      outcome: { notified: 2 },
      events: [{ event: 'dsn-sent', to: 'alice@contoso.com', response: '250 ok' }],
      sender: 'alice@contoso.com',
    });
    assert.deepEqual(outcome, { notified: 2 });
    assert.deepEqual(traces, [
      {
        id: 'msg-0001',
        events: [{ event: 'dsn-sent', to: 'alice@contoso.com', response: '250 ok' }],
        sender: 'alice@contoso.com',
      },
    ]);
  });

  it('writes events of several steps in one record', async () => {
    const { rt, traces } = memoryRuntime();
    await recordTrace(rt, 'msg-0002', [{ event: 'deleted' }, { event: 'sent-items', outcome: 'staged' }]);
    assert.equal(traces.length, 1);
    assert.deepEqual(
      traces[0]?.events.map((e) => e.event),
      ['deleted', 'sent-items'],
    );
  });
});
