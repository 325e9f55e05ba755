import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Supervisor } from '../../src/local/supervisor.js';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { faultConfig, faultEnv } from '../helpers/fault-config.js';
import { eventually, inboundBlobCount, queueLength, startLoop } from '../helpers/loop.js';
import { arrivalsByMessageId, messageIdOf, sendLikeAnMta } from '../helpers/retrying-sender.js';

const from = 'alice@contoso.com';
const to = ['megan@fabrikam.example'];
const total = 400;
/**
 * Azurite saves its metadata (LokiJS) every 5 s and on SIGTERM; this is the bound the docs state
 * for what a kill -9 can take back: writes acknowledged in the last 5 s, plus the save itself.
 */
const windowMs = 10_000;

/**
 * The local stack's durability, measured: Azurite killed -9 under load. Azure Storage acknowledges
 * only durable writes; Azurite does not, and this test says by how much.
 */
describe('Azurite killed -9 under load', { timeout: 600_000 }, () => {
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

  it(`${total} messages: what the front acknowledged, what arrived after the restart`, async () => {
    const ca = await fs.readFile(loop.stack.pki.caCert);
    const queue = Array.from({ length: total }, () => outlookReply());
    const ackedAt = new Map<string, number>();
    const senders = Array.from({ length: 8 }, async () => {
      for (let raw = queue.shift(); raw; raw = queue.shift()) {
        await sendLikeAnMta(raw, { port: loop.stack.ports.smtp, ca, from, to, deadlineMs: 300_000 });
        ackedAt.set(messageIdOf(raw), Date.now());
      }
    });
    const sending = Promise.all(senders);
    sending.catch(() => undefined);

    await eventually('150 messages acknowledged', () => Promise.resolve(ackedAt.size >= 150), 120_000);
    const pid = loop.stack.pids().azurite;
    assert.ok(pid);
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    const ackedBeforeKill = [...ackedAt.values()].filter((t) => t <= killedAt).length;
    await eventually(
      'Azurite restarted by the supervisor',
      () => Promise.resolve((supervisor.restarts.get('azurite') ?? 0) >= 1),
      60_000,
    );
    const backAt = Date.now();
    await sending;

    // Settled: nothing left in inbound or on the queue, and no new arrival for 20 s (the sweeper
    // runs every 3 s and picks up a stored message whose claim-check was lost after 15 s).
    const storage = loop.storage();
    let lastCount = -1;
    let stableSince = Date.now();
    await eventually(
      'the loop to settle',
      async () => {
        const count = [...(await arrivalsByMessageId(loop.stack.outbox)).values()].reduce(
          (n, a) => n + a.count,
          0,
        );
        if (count !== lastCount) {
          lastCount = count;
          stableSince = Date.now();
        }
        const empty = (await inboundBlobCount(storage).catch(() => 1)) === 0;
        const drained = (await queueLength(storage).catch(() => 1)) === 0;
        return empty && drained && Date.now() - stableSince > 20_000;
      },
      300_000,
    );

    const arrivals = await arrivalsByMessageId(loop.stack.outbox);
    const ours = [...ackedAt.keys()];
    const arrived = ours.filter((id) => arrivals.has(id));
    const lost = ours.filter((id) => !arrivals.has(id));
    const duplicated = ours.filter((id) => (arrivals.get(id)?.count ?? 0) > 1);
    const lostAge = lost.map((id) => killedAt - (ackedAt.get(id) ?? 0));
    const duplicateAge = duplicated.map((id) => killedAt - (arrivals.get(id)?.times[0] ?? 0));
    console.log(
      [
        `Azurite killed -9 after ${ackedBeforeKill} of ${total} messages were acknowledged (250)`,
        `acknowledged in all: ${ackedAt.size}; arrived: ${arrived.length}; lost: ${lost.length}` +
          (lost.length
            ? ` (acknowledged ${Math.min(...lostAge)}–${Math.max(...lostAge)} ms before the kill)`
            : ''),
        `arrived twice: ${duplicated.length}` +
          (duplicated.length
            ? ` (first copy delivered ${Math.min(...duplicateAge)}–${Math.max(...duplicateAge)} ms before the kill)`
            : ''),
      ].join('\n'),
    );

    assert.ok(ackedBeforeKill > 0 && ackedBeforeKill < total, 'the kill came while mail was flowing');
    assert.equal(ackedAt.size, total, 'the front acknowledged every message in the end (4xx while down)');
    assert.ok(arrived.length <= ackedAt.size);
    const ackedAfterRestart = ours.filter((id) => (ackedAt.get(id) ?? 0) > backAt);
    assert.ok(ackedAfterRestart.length > 0, 'mail was acknowledged after the restart too');
    assert.deepEqual(
      ackedAfterRestart.filter((id) => !arrivals.has(id)),
      [],
      'everything acknowledged after Azurite came back arrived',
    );
    // A negative age is a 250 that was on its way to the sender when the kill came.
    for (const age of lostAge)
      assert.ok(age <= windowMs, `a message acknowledged ${age} ms before the kill was lost`);
    for (const age of duplicateAge)
      assert.ok(age <= windowMs, `a message delivered ${age} ms before the kill came again`);
  });
});
