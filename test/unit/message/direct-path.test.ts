import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeliveryOutcome } from '../../../src/delivery/index.js';
import { afterAttempt } from '../../../src/message/direct-path.js';

function outcome(status: DeliveryOutcome['status'], fields: Partial<DeliveryOutcome> = {}): DeliveryOutcome {
  return {
    status,
    response: `${status} reply`,
    accepted: [],
    deferred: [],
    rejected: [],
    recipientReplies: {},
    ...fields,
  };
}

describe('direct path: after its one delivery attempt', () => {
  it('a 250 for every recipient finishes the message here', () => {
    assert.deepEqual(afterAttempt(outcome('delivered', { accepted: ['a@x.example'] })), { kind: 'done' });
  });

  it('a partial delivery is handed over with who has it and who refused it', () => {
    const next = afterAttempt(
      outcome('partial', {
        accepted: ['a@x.example'],
        rejected: ['b@x.example'],
        recipientReplies: { 'b@x.example': '550 5.1.1 unknown' },
      }),
    );
    assert.deepEqual(next, {
      kind: 'handover',
      reason: 'partial',
      delivery: {
        delivered: ['a@x.example'],
        rejected: { 'b@x.example': '550 5.1.1 unknown' },
        lastResponse: 'partial reply',
      },
    });
  });

  it('a refusal is handed over as refused', () => {
    const next = afterAttempt(outcome('permanent'));
    assert.equal(next.kind === 'handover' ? next.reason : next.kind, 'refused');
  });

  it('no answer at all is handed over as a temporary failure', () => {
    const next = afterAttempt(outcome('temporary'));
    assert.equal(next.kind === 'handover' ? next.reason : next.kind, 'temporary-failure');
  });
});
