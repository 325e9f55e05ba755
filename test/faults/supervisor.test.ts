import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { Supervisor, type StackPart } from '../../src/local/supervisor.js';
import { faultConfig, faultEnv } from '../helpers/fault-config.js';
import { eventually, startLoop } from '../helpers/loop.js';
import {
  arrivalsByMessageId,
  messageIdOf,
  sendLikeAnMta,
  type SendOutcome,
} from '../helpers/retrying-sender.js';

const from = 'alice@contoso.com';
const to = ['megan@fabrikam.example'];
const messagesPerCase = 40;

/**
 * `npm start`'s supervision against real processes: a part killed with SIGKILL while mail flows
 * through the front is reported, restarted, and every message still reaches the endpoint once.
 */
describe('the supervised local stack', { timeout: 900_000 }, () => {
  let loop: Awaited<ReturnType<typeof startLoop>>;
  let supervisor: Supervisor;
  const reports: string[] = [];
  before(async () => {
    loop = await startLoop({ configDir: await faultConfig(), env: faultEnv });
    supervisor = new Supervisor(loop.stack, { report: (text) => reports.push(text) });
  });
  after(async () => {
    await supervisor?.stop();
    await loop?.dispose();
  });

  async function killWhileSending(part: Exclude<StackPart, 'azurite'>): Promise<void> {
    const ca = await fs.readFile(loop.stack.pki.caCert);
    const messages = Array.from({ length: messagesPerCase }, () => outlookReply());
    const restartsBefore = supervisor.restarts.get(part) ?? 0;
    const reportsBefore = reports.length;
    const outcomes = new Map<string, SendOutcome>();
    // Two connections at a time, like an MTA with a small pool; each message retried until 250.
    const queue = [...messages];
    const senders = Array.from({ length: 2 }, async () => {
      for (let raw = queue.shift(); raw; raw = queue.shift())
        outcomes.set(
          messageIdOf(raw),
          await sendLikeAnMta(raw, { port: loop.stack.ports.smtp, ca, from, to, deadlineMs: 180_000 }),
        );
    });
    const sending = Promise.all(senders);
    sending.catch(() => undefined);

    await eventually(
      'a quarter of the messages accepted',
      () => Promise.resolve(outcomes.size >= messagesPerCase / 4),
      60_000,
    );
    const pid = loop.stack.pids()[part];
    assert.ok(pid, `${part} runs`);
    process.kill(pid, 'SIGKILL');

    await eventually(
      `the supervisor to report ${part}'s death`,
      () =>
        Promise.resolve(
          reports.slice(reportsBefore).some((r) => r.includes(`${part} was killed by SIGKILL`)),
        ),
      30_000,
    );
    await eventually(
      `${part} to be restarted`,
      () => Promise.resolve((supervisor.restarts.get(part) ?? 0) > restartsBefore),
      120_000,
    );
    assert.notEqual(loop.stack.pids()[part], pid, `${part} is a new process`);
    await sending;
    assert.equal(outcomes.size, messagesPerCase, 'the front accepted every message in the end');

    const wanted = [...outcomes.keys()];
    await eventually(
      'every message at the endpoint',
      async () => {
        const arrived = await arrivalsByMessageId(loop.stack.outbox);
        return wanted.every((id) => arrived.has(id));
      },
      180_000,
    );
    // Long enough for a late duplicate (a redelivered claim-check, lease 5 s) to show itself.
    await new Promise((r) => setTimeout(r, 8000));
    const arrived = await arrivalsByMessageId(loop.stack.outbox);
    const copies = wanted.map((id) => ({ id, ...(arrived.get(id) ?? { count: 0, ids: [], times: [] }) }));
    const duplicated = copies.filter((c) => c.count > 1);
    const retried = [...outcomes.values()].filter((o) => o.attempts > 1).length;
    console.log(
      `${part} killed: ${messagesPerCase} messages, ${retried} needed more than one attempt, ` +
        `${copies.filter((c) => c.count === 1).length} arrived exactly once, ${duplicated.length} more than once`,
    );
    for (const d of duplicated) {
      // The one duplicate SMTP allows: the front stored the message but died before its 250 reached
      // the sender, which then sent it again (a second sigrelay id).
      assert.ok(
        part === 'front' && outcomes.get(d.id)?.ambiguous && new Set(d.ids).size === d.count,
        `${d.id} arrived ${d.count} times (ids ${d.ids.join(', ')}) without a lost 250 to explain it`,
      );
    }
    assert.ok(
      copies.every((c) => c.count >= 1),
      'no message is lost',
    );
  }

  it('the front killed (SIGKILL) mid-stream comes back; the sender retries; every message arrives once', async () => {
    await killWhileSending('front');
  });

  it('the functions host killed (SIGKILL) mid-stream comes back; every message arrives once', async () => {
    await killWhileSending('functions');
  });

  it('the Exchange stand-in killed (SIGKILL) mid-stream comes back; every message arrives once', async () => {
    await killWhileSending('standin');
  });

  it('a part that dies again and again is said to keep crashing, with the end of its log', async () => {
    // Five quick kills of the stand-in: each restart waits twice as long (0.5, 1, 2, 4, 8 s).
    for (let i = 0; i < 5; i++) {
      const restarts = supervisor.restarts.get('standin') ?? 0;
      const pid = loop.stack.pids().standin;
      assert.ok(pid);
      process.kill(pid, 'SIGKILL');
      await eventually(
        'the stand-in back',
        () => Promise.resolve((supervisor.restarts.get('standin') ?? 0) > restarts),
        60_000,
      );
    }
    const last = reports.filter((r) => r.includes('standin was killed by SIGKILL')).at(-1) ?? '';
    assert.match(last, /standin KEEPS CRASHING/);
    assert.match(last, /last lines of .*standin\.log/);
    assert.match(last, /exchange online stand-in listening/, 'the report quotes the log');
  });

  it('stopping stops the front first and Azurite last, with a signal that lets Azurite save', async () => {
    await supervisor.stop();
    const reportsBefore = reports.length;
    const order: string[] = [];
    await loop.stack.stop((part) => order.push(part));
    assert.deepEqual(order, ['front', 'functions', 'standin', 'azurite']);
    assert.deepEqual(loop.stack.pids(), {}, 'nothing runs any more');
    const azuriteLog = await fs.readFile(loop.stack.logFile('azurite'), 'utf8');
    assert.match(azuriteLog, /Azurite Queue service successfully closed/, 'Azurite closed its stores itself');
    assert.deepEqual(reports.slice(reportsBefore), [], 'a stop is not reported as a crash');
  });
});
