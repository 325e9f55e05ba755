import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  contributionsOf,
  formatContribution,
  replicaField,
  rowKeyOf,
} from '../../../src/ratelimit/shared-entity.js';
import {
  add,
  emptyContribution,
  expired,
  judge,
  record,
  totals,
  type Contribution,
} from '../../../src/ratelimit/windows.js';

const t0 = Date.parse('2026-03-02T10:00:05Z');
const minute = 60_000;
const hour = 3600_000;
const limits = { perMinute: 3, perDay: 5 };

/** `n` messages counted by one replica, at `at`. */
function counted(n: number, at: number, from: Contribution = emptyContribution()): Contribution {
  let c = from;
  for (let i = 0; i < n; i++) c = record(c, at);
  return c;
}

describe('counting windows', () => {
  test('messages in the same minute add up in the minute and the day', () => {
    assert.deepEqual(totals([counted(3, t0)], t0), { minute: 3, day: 3 });
  });

  test('the minute window restarts at the next calendar minute; the day keeps counting', () => {
    const c = counted(2, t0 + minute, counted(3, t0));
    assert.deepEqual(totals([c], t0 + minute), { minute: 2, day: 5 });
  });

  test('the day window is the current hour and the 23 before it', () => {
    const c = counted(4, t0);
    assert.equal(totals([c], t0 + 23 * hour).day, 4, '23 hours later the hour still counts');
    assert.equal(totals([c], t0 + 24 * hour).day, 0, '24 hours later it has left');
  });

  test('counting drops hours that left the day window', () => {
    const c = counted(1, t0 + 25 * hour, counted(4, t0));
    assert.deepEqual(Object.keys(c.hours), ['2026030311']);
  });

  test('several replicas add up; a replica still on an old minute adds only to the day', () => {
    const a = counted(2, t0);
    const b = counted(1, t0);
    const stale = counted(2, t0 - minute);
    assert.deepEqual(totals([a, b, stale], t0), { minute: 3, day: 5 });
  });

  test('at the minute limit the verdict names the minute window', () => {
    assert.deepEqual(judge(totals([counted(3, t0)], t0), limits), {
      ok: false,
      window: 'minute',
      count: 3,
      limit: 3,
    });
  });

  test('the day window is reported first when both are full', () => {
    const verdict = judge({ minute: 3, day: 5 }, limits);
    assert.equal(verdict.ok || verdict.window, 'day');
  });

  test('below both limits the verdict carries the counts so far', () => {
    assert.deepEqual(judge({ minute: 2, day: 4 }, limits), { ok: true, minute: 2, day: 4 });
  });

  test('a contribution expires once its last hour left the day window', () => {
    const c = counted(1, t0);
    assert.equal(expired(c, t0 + 23 * hour), false);
    assert.equal(expired(c, t0 + 24 * hour), true);
  });

  test('counts of one replica kept apart (before and after it forgot a sender) add up as one', () => {
    const before = counted(2, t0);
    const after = counted(1, t0 + 10 * minute);
    const both = add(before, after);
    assert.deepEqual(totals([both], t0 + 10 * minute), { minute: 1, day: 3 });
    assert.deepEqual(totals([add(counted(1, t0), counted(2, t0))], t0), { minute: 3, day: 3 });
  });
});

describe('shared entity', () => {
  test('every r_ property is a replica contribution; other properties and bad values are ignored', () => {
    const a = counted(2, t0);
    const entity = {
      partitionKey: 'tenant',
      rowKey: 'ann%40tailspin.com',
      r_front1_abc123: formatContribution(a),
      r_broken_000000: '{"minute":',
      minuteCount: 7,
    };
    const found = contributionsOf(entity);
    assert.deepEqual([...found.keys()], ['r_front1_abc123']);
    assert.deepEqual(found.get('r_front1_abc123'), a);
  });

  test('each process gets its own property, a valid Table property name', () => {
    const one = replicaField('sigrelay-front--rev1-5d8f7c9b6-xk2pq');
    const two = replicaField('sigrelay-front--rev1-5d8f7c9b6-xk2pq');
    assert.notEqual(one, two);
    assert.match(one, /^r_[A-Za-z0-9_]{1,60}$/);
  });

  test('addresses become row keys without characters Table storage refuses; long ones are hashed', () => {
    assert.equal(rowKeyOf('a/b#c?d@tailspin.com'), 'a%2Fb%23c%3Fd%40tailspin.com');
    assert.equal(rowKeyOf(''), '%3C%3E');
    const long = rowKeyOf(`${'ü'.repeat(200)}@tailspin.com`);
    assert.match(long, /^sha256-[0-9a-f]{64}$/);
  });
});
