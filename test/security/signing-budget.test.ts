/**
 * Issue 19 finding 2 against the whole local loop (front, in-process functions host with the
 * orchestration, stand-in endpoint): a message that costs more than its signing budget is stopped,
 * handled once by the tenant's policy and traced; big messages at once neither duplicate nor starve
 * an ordinary one sent with them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { createStorageClients } from '../../src/storage/index.js';
import { acceptedCount, assertDeliveredOnce, idFromReply, traceEvents } from '../helpers/fault-checks.js';
import { faultConfig, type TenantOverrides } from '../helpers/fault-config.js';
import { eventually, inboundBlobCount, startLoop } from '../helpers/loop.js';

const from = 'alice@contoso.com';
const to = ['megan@fabrikam.example'];
const MB = 1024 * 1024;

/** The Outlook reply's root headers over a new body: tenant evidence and all, as the front wants. */
function messageWith(contentType: string, body: string): Buffer {
  const sample = outlookReply().toString('latin1');
  const headers = sample
    .slice(0, sample.indexOf('\r\n\r\n'))
    .replace(/^Content-Type: .*$/m, `Content-Type: ${contentType}`);
  return Buffer.from(`${headers}\r\n\r\n${body}`, 'latin1');
}

/** An ordinary message with a base64 attachment of `bytes` bytes. */
function withAttachment(bytes: number): Buffer {
  const data = Buffer.alloc(bytes, 0x5a).toString('base64').replace(/.{76}/g, '$&\r\n');
  return messageWith(
    'multipart/mixed; boundary="b1"',
    '--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Quote attached.</p></body></html>\r\n' +
      `--b1\r\nContent-Type: application/octet-stream; name="q.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${data}\r\n--b1--\r\n`,
  );
}

/** The attack body: an unclosed class attribute repeated, costly for today's quote detection. */
function adversarial(kb: number): Buffer {
  // In lines of 50 baits: SMTP lines stay under the front's limit, the markup stays unclosed.
  const line = '<div class=x '.repeat(50);
  const bait = Array.from({ length: Math.ceil((kb * 1024) / line.length) }, () => line).join('\r\n');
  return messageWith(
    'text/html; charset=utf-8',
    `<html><body><p>Thanks!</p><div class="gmail_quote">${bait}</div></body></html>\r\n`,
  );
}

async function loopWith(policy: TenantOverrides, env: Record<string, string>) {
  return startLoop({
    configDir: await faultConfig(policy),
    env: { SIGRELAY_QUEUE_LEASE_SECONDS: '5', SIGRELAY_LOG_LEVEL: 'warn', ...env },
  });
}

async function deliveredCopy(stack: { outbox: string }, id: string) {
  const files = await fs.readdir(stack.outbox);
  for (const f of files.filter((n) => n.endsWith('.eml'))) {
    const raw = await fs.readFile(path.join(stack.outbox, f));
    if (raw.includes(`X-Sigrelay-Id: ${id}`)) return simpleParser(raw);
  }
  throw new Error(`no delivered copy of ${id}`);
}

void describe('a message over its signing budget', { timeout: 300_000 }, () => {
  const loops: Awaited<ReturnType<typeof startLoop>>[] = [];
  after(() => Promise.all(loops.map((l) => l.dispose())));

  void it('fail-open: delivered once, unsigned, saying why; traced once', async () => {
    // A budget of a few ms against a 6 MB ordinary message: over budget whatever the engine's speed.
    const loop = await loopWith({ signingFailure: 'fail-open' }, { SIGRELAY_SIGN_BUDGET_MS: '5' });
    loops.push(loop);
    const id = idFromReply(await loop.send(withAttachment(6 * MB), { from, to }));
    await assertDeliveredOnce(loop.stack, id);
    const copy = await deliveredCopy(loop.stack, id);
    assert.match(
      copy.headers.get('x-sigrelay-result') as string,
      /^unsigned; reason=over-budget: signing ran longer than 5 ms/,
    );
    const failed = (
      await traceEvents(loop.stack, id, (events) => events.some((e) => e.event === 'deleted'))
    ).filter((e) => e.event === 'failed');
    assert.equal(failed.length, 1, 'signed (and stopped) once');
    assert.match(String(failed[0]?.details.reason), /^over-budget/);
  });

  void it('fail-closed: dead-lettered once with the reason, never delivered, never signed again', async () => {
    const loop = await loopWith({ signingFailure: 'fail-closed' }, { SIGRELAY_SIGN_BUDGET_MS: '5' });
    loops.push(loop);
    const id = idFromReply(await loop.send(withAttachment(6 * MB), { from, to }));
    const storage = createStorageClients({ connectionString: loop.stack.azurite.connectionString });
    await eventually('the dead letter', async () => storage.deadletter.getBlobClient(id).exists(), 60_000);
    await eventually('inbound to be empty', async () => (await inboundBlobCount(storage)) === 0, 30_000);
    const events = await traceEvents(loop.stack, id, (all) => all.some((e) => e.event === 'dead-lettered'));
    assert.equal(
      events.filter((e) => e.event === 'failed').length,
      1,
      'the orchestration did not sign it again',
    );
    const dead = events.find((e) => e.event === 'dead-lettered');
    assert.ok(dead, events.map((e) => e.event).join(', '));
    assert.match(JSON.stringify(dead.details), /over-budget/);
    assert.equal(await acceptedCount(loop.stack, id), 0, 'never delivered unsigned');
  });

  void it('an adversarial quoted body is delivered once; over budget it says so', async () => {
    // Slow until linear-time quote detection lands; either way it is delivered exactly once, and
    // when it was stopped the header and the trace say it was the budget.
    const loop = await loopWith({ signingFailure: 'fail-open' }, { SIGRELAY_SIGN_BUDGET_MS: '2000' });
    loops.push(loop);
    const id = idFromReply(await loop.send(adversarial(30), { from, to }));
    await assertDeliveredOnce(loop.stack, id, 120_000);
    const copy = await deliveredCopy(loop.stack, id);
    const result = copy.headers.get('x-sigrelay-result') as string | undefined;
    const decision = (
      await traceEvents(loop.stack, id, (events) =>
        events.some((e) => ['signed', 'failed'].includes(e.event)),
      )
    ).find((e) => ['signed', 'failed'].includes(e.event));
    assert.ok(decision, 'the signing decision is traced');
    if (decision.event === 'failed') {
      assert.match(result ?? '', /^unsigned; reason=over-budget/);
      assert.match(String(decision.details.reason), /^over-budget/);
    } else assert.equal(result, undefined);
  });
});

void describe('big messages at once', { timeout: 600_000 }, () => {
  let loop: Awaited<ReturnType<typeof startLoop>> | undefined;
  after(() => loop?.dispose());

  void it('six 30 MB messages and an ordinary one: each delivered once, the ordinary one not last', async (t) => {
    loop = await loopWith({ signingFailure: 'fail-open' }, { SIGRELAY_SIGN_WORKERS: '2' });
    const big = withAttachment(30 * MB);
    const bigIds = (await Promise.all(Array.from({ length: 6 }, () => loop!.send(big, { from, to })))).map(
      idFromReply,
    );
    const normalId = idFromReply(await loop.send(outlookReply(), { from, to }));
    for (const id of [...bigIds, normalId]) await assertDeliveredOnce(loop.stack, id, 300_000);
    // Order of acceptance at the endpoint: the ordinary message, sent last, did not wait for all
    // six (large messages never hold the last free worker, and small ones queue first).
    const order = (await fs.readFile(path.join(loop.stack.outbox, 'received.log'), 'utf8'))
      .split('\n')
      .map((line) => line.split('\t')[0]);
    const normalAt = order.indexOf(normalId);
    const lastBig = Math.max(...bigIds.map((id) => order.indexOf(id)));
    assert.ok(normalAt >= 0 && normalAt < lastBig, `order at the endpoint: ${order.join(', ')}`);
    t.diagnostic(`the ordinary message was accepted ${normalAt + 1}. of ${bigIds.length + 1}`);
  });
});
