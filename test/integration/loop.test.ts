import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { Readable } from 'node:stream';
import { newMessageId } from '../../src/contracts/index.js';
import { MessageStore } from '../../src/storage/index.js';
import { MessageTrace } from '../../src/trace/index.js';
import { eventually, inboundBlobCount, queueLength, startLoop } from '../helpers/loop.js';

describe('the whole loop on one machine', { timeout: 120_000 }, () => {
  let loop: Awaited<ReturnType<typeof startLoop>>;
  before(async () => {
    // A sweeper every two seconds that takes messages older than six seconds for orphans.
    loop = await startLoop({
      env: { SIGRELAY_SWEEP_SCHEDULE: '*/2 * * * * *', SIGRELAY_ORPHAN_MINUTES: '0.1' },
    });
  });
  after(async () => {
    await loop?.dispose();
  });

  it('delivers a message sent with STARTTLS to the endpoint, signed, with the stored envelope, and cleans up', async () => {
    const raw = outlookReply({ from: 'alice@contoso.com', to: 'megan@fabrikam.example' });
    const reply = await loop.send(raw, {
      from: 'alice@contoso.com',
      to: ['megan@fabrikam.example', 'bob@fabrikam.example'],
    });
    assert.match(reply, /^250 2\.0\.0 \S+ queued$/);
    const id = /^250 2\.0\.0 (\S+) queued$/.exec(reply)?.[1] ?? '';
    const file = (await loop.waitForOutbox(1))[0] ?? '';
    assert.ok(file.endsWith(`${id}.eml`), 'the stand-in names the file after our message id');
    const envelope = JSON.parse(await fs.readFile(file.replace(/\.eml$/, '.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.deepEqual(
      envelope.rcptTo,
      ['megan@fabrikam.example', 'bob@fabrikam.example'],
      'envelope, not the To header',
    );
    assert.equal(envelope.mailFrom, 'alice@contoso.com');
    assert.equal(
      envelope.clientCertName,
      'relay.contoso.com',
      'the delivery presented the client certificate',
    );
    const delivered = await fs.readFile(file);
    const parsed = await simpleParser(delivered);
    assert.equal(parsed.headers.get('x-sigrelay-processed'), 'true');
    assert.equal(parsed.subject, 'RE: Q3 order');
    assert.ok(delivered.includes(Buffer.from('Content-Type: multipart/alternative')), 'structure kept');
    const html = String(parsed.html);
    const signatureAt = html.indexOf('sigrelay-signature');
    assert.ok(signatureAt > 0, 'the HTML part is signed');
    assert.ok(
      signatureAt < html.indexOf('border-top:solid #E1E1E1'),
      'the signature sits above the quoted thread',
    );
    const storage = loop.storage();
    await eventually('inbound to be empty', async () => (await inboundBlobCount(storage)) === 0);
    await eventually('the queue to be empty', async () => (await queueLength(storage)) === 0);
    const trace = new MessageTrace(storage.table);
    await eventually('the trace to be complete', async () =>
      (await trace.forMessage(id)).some((e) => e.event === 'deleted'),
    );
    const events = (await trace.forMessage(id)).map((e) => e.event);
    assert.deepEqual(events, ['received', 'signed', 'delivery-attempt', 'delivered', 'deleted']);
    const received = (await trace.forMessage(id))[0];
    assert.equal(received?.details.recipients, 2);
    assert.ok(
      !JSON.stringify(await trace.forMessage(id)).includes('Q3 order'),
      'the trace never holds the subject',
    );
  });

  it('processes a stored message whose queue entry was lost (the sweeper)', async () => {
    const storage = loop.storage();
    const store = new MessageStore(storage);
    const id = newMessageId();
    await store.writeInbound(Readable.from([outlookReply()]), {
      id,
      envelope: { mailFrom: 'alice@contoso.com', rcptTo: ['megan@fabrikam.example'] },
      tenantId: '6f1c2e3a-8b4d-4c5e-9f60-1a2b3c4d5e6f',
      receivedAt: new Date().toISOString(),
      clientAddress: '127.0.0.1',
      sessionId: 'no-queue',
    });
    await eventually(
      'the sweeper-started delivery',
      async () => {
        const files = await fs.readdir(loop.stack.outbox);
        return files.includes(`${id}.eml`);
      },
      30_000,
    );
    await eventually('inbound to be empty', async () => (await inboundBlobCount(storage)) === 0);
  });

  it('refuses a sender whose domain no tenant owns, with 550 5.7.1 (never an open relay)', async () => {
    await assert.rejects(
      loop.send(outlookReply(), { from: 'mallory@evil.example', to: ['victim@fabrikam.example'] }),
      (err: { responseCode?: number; response?: string }) =>
        err.responseCode === 550 && /5\.7\.1/.test(err.response ?? ''),
    );
  });

  it('answers 451 4.3.0 while storage is down, stores nothing, and accepts again once it is back', async () => {
    await loop.stack.azurite.stop();
    await assert.rejects(
      loop.send(outlookReply(), { from: 'alice@contoso.com', to: ['megan@fabrikam.example'] }),
      (err: { responseCode?: number; response?: string }) =>
        err.responseCode === 451 && /4\.3\.0/.test(err.response ?? ''),
    );
    await loop.stack.azurite.start();
    const storage = loop.storage();
    assert.equal(await inboundBlobCount(storage), 0, 'nothing half-stored');
    const before = (await fs.readdir(loop.stack.outbox)).filter((f) => f.endsWith('.eml')).length;
    const reply = await loop.send(outlookReply(), {
      from: 'alice@contoso.com',
      to: ['megan@fabrikam.example'],
    });
    assert.match(reply, /^250 /);
    await loop.waitForOutbox(before + 1, 30_000);
    await eventually('inbound to be empty', async () => (await inboundBlobCount(storage)) === 0, 30_000);
  });
});
