/**
 * Signing that stops making progress, against the whole local loop (Azurite, front, functions with
 * the orchestration, stand-in endpoint). A hook preloaded into the functions process
 * (test/helpers/stall-signing.ts) makes the first signature lookup of one message hang — a stall
 * outside the engine, temporary — and the engine deadlock inside its worker for another — the
 * engine's failure for that message. The first is handed over and signed again; the second goes
 * the tenant's way once (fail-open: delivered unsigned; fail-closed: dead-lettered). Ordinary mail
 * keeps flowing meanwhile.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { deadlockReason } from '../../src/processing/index.js';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { acceptedCount, assertDeliveredOnce, idFromReply, traceEvents } from '../helpers/fault-checks.js';
import { faultConfig, faultEnv } from '../helpers/fault-config.js';
import { eventually, inboundBlobCount, startLoop } from '../helpers/loop.js';
import { deadlockEnv, stallLookupEnv } from '../helpers/stall-signing.js';

const from = 'alice@contoso.com';
const ordinary = 'megan@fabrikam.example';
const stalls = 'stall@fabrikam.example';
const deadlocks = 'deadlock@fabrikam.example';
/** The functions process (and its signing workers) get the hook preloaded. */
const nodeArgsEnv = 'SIGRELAY_NODE_ARGS_FUNCTIONS';
const hook = fileURLToPath(new URL('../helpers/stall-signing.js', import.meta.url));

/** The copy the endpoint accepted for message `id` (its X-Sigrelay-Id header names it). */
async function deliveredCopy(outbox: string, id: string) {
  for (const f of (await fs.readdir(outbox)).filter((n) => n.endsWith('.eml'))) {
    const raw = await fs.readFile(path.join(outbox, f));
    if (raw.includes(`X-Sigrelay-Id: ${id}`)) return simpleParser(raw);
  }
  throw new Error(`no delivered copy of ${id}`);
}

/** Message ids in the order the endpoint accepted them. */
async function acceptedOrder(outbox: string): Promise<string[]> {
  const log = await fs.readFile(path.join(outbox, 'received.log'), 'utf8');
  return log
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t')[0] ?? '');
}

describe('signing that stops making progress', { timeout: 300_000 }, () => {
  let loop: Awaited<ReturnType<typeof startLoop>>;
  const nodeArgsBefore = process.env[nodeArgsEnv];
  before(async () => {
    process.env[nodeArgsEnv] = `--import ${hook}`;
    loop = await startLoop({
      configDir: await faultConfig({ signingFailure: 'fail-open' }),
      env: {
        ...faultEnv,
        SIGRELAY_SIGN_STALL_MS: '1500',
        [stallLookupEnv]: stalls,
        [deadlockEnv]: deadlocks,
      },
    });
  });
  after(async () => {
    await loop?.dispose();
    if (nodeArgsBefore === undefined) delete process.env[nodeArgsEnv];
    else process.env[nodeArgsEnv] = nodeArgsBefore;
  });

  it('a stalled signature lookup: handed over, signed again, delivered once; ordinary mail flows meanwhile', async () => {
    const stalledId = idFromReply(await loop.send(outlookReply(), { from, to: [stalls] }));
    const ordinaryId = idFromReply(await loop.send(outlookReply(), { from, to: [ordinary] }));
    await assertDeliveredOnce(loop.stack, ordinaryId);
    await assertDeliveredOnce(loop.stack, stalledId, 90_000);

    const order = await acceptedOrder(loop.stack.outbox);
    assert.ok(
      order.indexOf(ordinaryId) < order.indexOf(stalledId),
      `the ordinary message did not wait for the stalled one: ${order.join(', ')}`,
    );
    const copy = await deliveredCopy(loop.stack.outbox, stalledId);
    assert.equal(copy.headers.get('x-sigrelay-result'), undefined, 'signed on the retry');

    const events = await traceEvents(loop.stack, stalledId, (all) => all.some((e) => e.event === 'deleted'));
    const names = events.map((e) => e.event);
    const handedOver = events.filter((e) => e.event === 'handed-over');
    assert.deepEqual(
      handedOver.map((e) => e.details.reason),
      ['sign-stalled'],
      `the stall is traced once: ${names.join(', ')}`,
    );
    assert.equal(names.filter((n) => n === 'signed').length, 1, `signed once: ${names.join(', ')}`);
    assert.ok(
      names.indexOf('handed-over') < names.indexOf('signed'),
      `the orchestration signed after the hand-over: ${names.join(', ')}`,
    );
    assert.ok(!names.includes('failed'), `a stall is no signing failure: ${names.join(', ')}`);
  });

  it('an engine deadlocked in its worker: delivered once, unsigned, saying why; not signed again', async () => {
    const id = idFromReply(await loop.send(outlookReply(), { from, to: [deadlocks] }));
    await assertDeliveredOnce(loop.stack, id, 90_000);
    const copy = await deliveredCopy(loop.stack.outbox, id);
    assert.match(
      copy.headers.get('x-sigrelay-result') as string,
      new RegExp(`^unsigned; reason=${deadlockReason}: `),
    );
    const events = await traceEvents(loop.stack, id, (all) => all.some((e) => e.event === 'deleted'));
    const names = events.map((e) => e.event);
    const failed = events.filter((e) => e.event === 'failed');
    assert.equal(failed.length, 1, `one signing, one failure: ${names.join(', ')}`);
    assert.ok(String(failed[0]?.details.reason).startsWith(`${deadlockReason}: `));
    assert.ok(!names.includes('handed-over'), `handled on the direct path: ${names.join(', ')}`);
  });
});

describe('an engine deadlocked for a fail-closed tenant', { timeout: 300_000 }, () => {
  let loop: Awaited<ReturnType<typeof startLoop>>;
  const nodeArgsBefore = process.env[nodeArgsEnv];
  before(async () => {
    process.env[nodeArgsEnv] = `--import ${hook}`;
    loop = await startLoop({
      configDir: await faultConfig({ signingFailure: 'fail-closed' }),
      env: { ...faultEnv, SIGRELAY_SIGN_STALL_MS: '1500', [deadlockEnv]: deadlocks },
    });
  });
  after(async () => {
    await loop?.dispose();
    if (nodeArgsBefore === undefined) delete process.env[nodeArgsEnv];
    else process.env[nodeArgsEnv] = nodeArgsBefore;
  });

  it('dead-lettered once with the reason, never delivered, never signed again', async () => {
    const id = idFromReply(await loop.send(outlookReply(), { from, to: [deadlocks] }));
    const storage = loop.storage();
    await eventually('the dead letter', async () => storage.deadletter.getBlobClient(id).exists(), 60_000);
    await eventually('inbound to be empty', async () => (await inboundBlobCount(storage)) === 0, 30_000);
    const events = await traceEvents(loop.stack, id, (all) => all.some((e) => e.event === 'dead-lettered'));
    const names = events.map((e) => e.event);
    assert.equal(names.filter((n) => n === 'failed').length, 1, `signed once: ${names.join(', ')}`);
    const dead = events.find((e) => e.event === 'dead-lettered');
    assert.ok(dead, names.join(', '));
    assert.ok(String(dead.details.reason).includes(`${deadlockReason}: `), String(dead.details.reason));
    // Give a late signing or delivery the chance to show itself before counting.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await acceptedCount(loop.stack, id), 0, 'never delivered unsigned');
    const again = await traceEvents(loop.stack, id);
    assert.equal(again.filter((e) => e.event === 'failed').length, 1, 'not signed again');
  });
});
