import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { createStorageClients } from '../../src/storage/index.js';
import { acceptedCount, assertDeliveredOnce, idFromReply, traceEvents } from '../helpers/fault-checks.js';
import { faultConfig, faultEnv } from '../helpers/fault-config.js';
import { eventually, inboundBlobCount, startLoop } from '../helpers/loop.js';

const from = 'alice@contoso.com';
const to = ['megan@fabrikam.example'];

describe('faults in storage and in our own processes', { timeout: 300_000 }, () => {
  let loop: Awaited<ReturnType<typeof startLoop>>;
  before(async () => {
    loop = await startLoop({ configDir: await faultConfig(), env: faultEnv });
  });
  after(async () => loop?.dispose());
  beforeEach(async () => loop.stack.setStandinBehaviour({}));

  /** Sends `raw` in two halves, running `between` after the first half is on the wire. */
  async function sendInTwoHalves(raw: Buffer, between: () => Promise<void>): Promise<string> {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: loop.stack.ports.smtp,
      secure: false,
      requireTLS: true,
      tls: { ca: await fs.readFile(loop.stack.pki.caCert), servername: 'localhost' },
      socketTimeout: 20_000,
    });
    const half = Math.floor(raw.length / 2);
    const body = Readable.from(
      (async function* () {
        yield raw.subarray(0, half);
        await new Promise((r) => setTimeout(r, 300));
        await between();
        yield raw.subarray(half);
      })(),
    );
    try {
      return (await transport.sendMail({ envelope: { from, to }, raw: body })).response;
    } finally {
      transport.close();
    }
  }

  it('1. storage stopped while a client is in DATA → 4xx, nothing stored; restart → resend works', async () => {
    const raw = outlookReply({ htmlBytes: 200_000 });
    await assert.rejects(
      sendInTwoHalves(raw, () => loop.stack.azurite.stop()),
      (err: { responseCode?: number }) => (err.responseCode ?? 0) >= 400 && (err.responseCode ?? 0) < 500,
    );
    await loop.stack.azurite.start();
    const storage = createStorageClients({ connectionString: loop.stack.azurite.connectionString });
    assert.equal(await inboundBlobCount(storage), 0, 'nothing was stored');
    const id = idFromReply(await loop.send(raw, { from, to }));
    await assertDeliveredOnce(loop.stack, id);
  });

  it('2. storage stopped after 250, during processing → delivered after it returns', async () => {
    await loop.stack.setStandinBehaviour({ stallMs: 1500 });
    const id = idFromReply(await loop.send(outlookReply(), { from, to }));
    await loop.stack.azurite.stop();
    await new Promise((r) => setTimeout(r, 8000));
    await loop.stack.azurite.start();
    await loop.stack.setStandinBehaviour({});
    await assertDeliveredOnce(loop.stack, id, 90_000);
  });

  it('7. the functions host is killed (SIGKILL) mid-orchestration and restarted → delivered once', async () => {
    await loop.stack.setStandinBehaviour({ dataReply: { code: 451, text: 'busy' } });
    const id = idFromReply(await loop.send(outlookReply(), { from, to }));
    await eventually(
      'a delivery attempt',
      async () => (await traceEvents(loop.stack, id)).some((e) => e.event === 'delivery-attempt'),
      30_000,
    );
    await loop.stack.kill('functions', 'SIGKILL');
    await loop.stack.setStandinBehaviour({});
    assert.equal(await acceptedCount(loop.stack, id), 0);
    await loop.stack.startFunctions();
    await assertDeliveredOnce(loop.stack, id, 90_000);
  });

  it('8. the front is killed mid-DATA → the client saw no 250, nothing half-stored is ever processed', async () => {
    const before = (await fs.readdir(loop.stack.outbox)).filter((f) => f.endsWith('.eml')).length;
    const raw = outlookReply({ htmlBytes: 6 * 1024 * 1024 });
    await assert.rejects(sendInTwoHalves(raw, () => loop.stack.kill('front', 'SIGKILL')));
    await loop.stack.startFront();
    const storage = createStorageClients({ connectionString: loop.stack.azurite.connectionString });
    assert.equal(await inboundBlobCount(storage), 0, 'no blob became visible');
    // Long enough for the queue, the blob trigger and the sweeper to have found anything there was.
    await new Promise((r) => setTimeout(r, 8000));
    const afterKill = (await fs.readdir(loop.stack.outbox)).filter((f) => f.endsWith('.eml')).length;
    assert.equal(afterKill, before, 'nothing was delivered');
  });
});
