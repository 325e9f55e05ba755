import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DeadLetter } from '../../src/contracts/dead-letter.js';
import type { TraceRecord } from '../../src/trace/index.js';
import { acceptedCount, sendDeadLetter } from '../helpers/fault-checks.js';
import { faultConfig, faultEnv } from '../helpers/fault-config.js';
import { eventually, startLoop } from '../helpers/loop.js';

interface Answer<T> {
  status: number;
  body: T;
}

/**
 * The function-key routes scripts call (src/admin/key-routes.ts): trace and dead letters through the
 * console's own handlers, in the shapes docs/operations.md gives them. The preview route is
 * functions-http.test.ts.
 */
describe('the function-key routes for trace and dead letters', { timeout: 180_000 }, () => {
  let loop: Awaited<ReturnType<typeof startLoop>>;

  async function call<T>(method: string, route: string, key: string | null = loop.stack.functionKey) {
    const res = await fetch(`http://127.0.0.1:${loop.stack.ports.functions}${route}`, {
      method,
      headers: key === null ? {} : { 'x-functions-key': key },
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T } satisfies Answer<T>;
  }

  before(async () => {
    loop = await startLoop({ configDir: await faultConfig(), env: faultEnv });
  });
  after(async () => loop?.dispose());

  it('a dead letter is listed, replayed once (a second replay answers 409), and its trace says by whom', async () => {
    const id = await sendDeadLetter(loop, async (id) =>
      (await call<DeadLetter[]>('GET', '/api/deadletters')).body.some((d) => d.id === id),
    );
    const listed = (await call<DeadLetter[]>('GET', '/api/deadletters')).body.find((d) => d.id === id);
    assert.equal(listed?.sender, 'alice@contoso.com');
    assert.equal(listed?.recipients, 1);

    await loop.stack.setStandinBehaviour({});
    assert.deepEqual(await call('POST', `/api/deadletters/${id}/replay`), {
      status: 202,
      body: { id, replayed: true },
    });
    await eventually(
      'the replayed message to be delivered',
      async () => (await acceptedCount(loop.stack, id)) === 1,
      60_000,
    );
    const again = await call<{ id: string; code: string; error: string }>(
      'POST',
      `/api/deadletters/${id}/replay`,
    );
    assert.equal(again.status, 409);
    assert.equal(again.body.id, id);
    assert.equal(again.body.code, 'conflict');
    assert.equal(await acceptedCount(loop.stack, id), 1, 'the endpoint got the message exactly once');

    const trace = await call<{ id: string; events: TraceRecord[] }>('GET', `/api/messages/${id}`);
    assert.equal(trace.status, 200);
    assert.equal(trace.body.id, id);
    const replayed = trace.body.events.filter((e) => e.event === 'replayed');
    assert.equal(replayed.length, 1);
    assert.equal(replayed[0]?.details.by, 'admin api');
  });

  it('an unknown message or dead letter answers 404 with the id', async () => {
    assert.deepEqual(await call('GET', '/api/messages/20260101000000-0000000000000000'), {
      status: 404,
      body: { id: '20260101000000-0000000000000000', error: 'no trace for this message id' },
    });
    const replay = await call<{ id: string; code: string }>('POST', '/api/deadletters/no-such-letter/replay');
    assert.equal(replay.status, 404);
    assert.equal(replay.body.id, 'no-such-letter');
    assert.equal(replay.body.code, 'not-found');
  });

  it('answers 401 without the function key', async () => {
    assert.equal((await call('GET', '/api/deadletters', null)).status, 401);
    assert.equal((await call('POST', '/api/deadletters/x/replay', null)).status, 401);
    assert.equal((await call('GET', '/api/messages/x', null)).status, 401);
  });
});
