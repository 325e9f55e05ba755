import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { createDevPki, type DevPki } from '../../src/devtls/index.js';
import { deliver, type DeliveryTarget } from '../../src/delivery/index.js';
import type { StorageClients } from '../../src/storage/index.js';
import {
  assertReply,
  inboundBlobNames,
  message,
  openSession,
  startFront,
  startStorage,
  type RunningFront,
} from '../helpers/front-harness.js';

/**
 * Issue 19, finding 3: the front and the return leg must read an envelope address the same way.
 * Before, the front said 250 to all of these and delivery re-parsed them as header addresses:
 * `a,b@…` went to `b@…` twice, `ceo(x)victim@…` to `victim@…`, the invalid UTF-8 recipient and
 * `mallory(@…` were retried or dead-lettered after our 250.
 */
let storage: StorageClients;
let disposeStorage: () => Promise<void>;
let pki: DevPki;
let front: RunningFront;

before(async () => {
  ({ storage, dispose: disposeStorage } = await startStorage());
  pki = createDevPki();
  front = await startFront({ storage, pki });
});

after(async () => {
  await front.close();
  await disposeStorage();
});

describe('the front accepts only RFC 5321 mailboxes', () => {
  const recipients: [string, number][] = [
    ['a,b@fabrikam.example', 501],
    ['ceo(x)victim@fabrikam.example', 501],
    ['a;b@fabrikam.example', 501],
    ['a:b@fabrikam.example', 501],
    ['"unterminated@fabrikam.example', 501],
    ['megan@fabrikam..example', 501],
    ['megan@-fabrikam.example', 501],
    ['méгan@fabrikam.example', 553],
  ];

  test('malformed recipients get 501 5.1.3 (553 5.1.3 for UTF-8 without SMTPUTF8) and nothing is stored', async () => {
    const before = await inboundBlobNames(storage);
    const client = await openSession(front.port, pki);
    assertReply(await client.command('MAIL FROM:<alice@contoso.com>'), 250, '2.1.0', 'sender');
    for (const [address, code] of recipients) {
      const reply = await client.command(`RCPT TO:<${address}>`);
      assertReply(reply, code, '5.1.3', address);
      assert.match(reply.text, /address|local part|domain/i, `${address}: the reply says what is wrong`);
    }
    client.close();
    assert.deepEqual(await inboundBlobNames(storage), before);
  });

  test('an invalid UTF-8 recipient is refused even when SMTPUTF8 was declared', async () => {
    const client = await openSession(front.port, pki);
    assertReply(await client.command('MAIL FROM:<alice@contoso.com> SMTPUTF8'), 250, '2.1.0', 'sender');
    client.write(
      Buffer.concat([
        Buffer.from('RCPT TO:<m'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('@fabrikam.example>\r\n'),
      ]),
    );
    const reply = await client.reply();
    assertReply(reply, 501, '5.1.3', 'invalid UTF-8');
    assert.match(reply.text, /UTF-8/);
    assertReply(await client.command('RCPT TO:<mégan@fabrikam.example>'), 250, '2.1.5', 'valid UTF-8');
    client.close();
  });

  test('a sender with a comment character is refused at MAIL FROM', async () => {
    const client = await openSession(front.port, pki);
    assertReply(await client.command('MAIL FROM:<mallory(@contoso.com>'), 501, '5.1.3', 'mallory(');
    assertReply(await client.command('MAIL FROM:<alice@contoso.com>'), 250, '2.1.0', 'then a good one');
    client.close();
  });

  test('unusual but valid atext still passes', async () => {
    const client = await openSession(front.port, pki);
    assertReply(await client.command('MAIL FROM:<alice@contoso.com>'), 250, '2.1.0', 'sender');
    for (const address of [
      "o'brien+news@fabrikam.example",
      'a.b-c_d=e?f{g}~h@fabrikam.example',
      // An IDN domain as an A-label, without SMTPUTF8, as Exchange Online sends it.
      'megan@xn--bcher-kva.example',
    ]) {
      assertReply(await client.command(`RCPT TO:<${address}>`), 250, '2.1.5', address);
    }
    client.close();
  });
});

describe('delivery hands the stored envelope to the endpoint unchanged', () => {
  let endpoint: SMTPServer;
  let target: DeliveryTarget;
  const seen: { from: string; to: string[] } = { from: '', to: [] };

  before(async () => {
    endpoint = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      // Our pooled connection stays open; closing should not wait the default 30 s for it.
      closeTimeout: 100,
      // The endpoint's grammar is not ours to judge here: it records what it was asked to deliver.
      lenientAddressParsing: true,
      onMailFrom: (address, _session, cb) => {
        seen.from = address.address;
        cb();
      },
      onRcptTo: (address, _session, cb) => {
        seen.to.push(address.address);
        // Like Exchange Online refusing a mailbox it cannot parse: permanent, for this recipient.
        if (address.address.startsWith('broken'))
          cb(Object.assign(new Error('5.1.3 Bad recipient address syntax'), { responseCode: 501 }));
        else cb();
      },
      onData: (stream, _session, cb) => {
        stream.resume();
        stream.on('end', () => cb());
      },
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    const port = (endpoint.server.address() as { port: number }).port;
    target = { host: '127.0.0.1', port, ehloName: 'relay.contoso.com', tls: 'none', timeoutMs: 10_000 };
  });
  after(async () => {
    await new Promise<void>((resolve) => endpoint.close(() => resolve()));
  });

  test('one recipient with a comma stays one RCPT TO with the same bytes', async () => {
    seen.to = [];
    const outcome = await deliver(target, {
      mailFrom: 'alice@contoso.com',
      rcptTo: ['a,b@fabrikam.example', 'ceo(x)victim@fabrikam.example'],
      prependHeaders: ['X-Sigrelay-Processed: true'],
      message: Buffer.from(message({})),
    });
    assert.equal(outcome.status, 'delivered', outcome.response);
    assert.equal(seen.from, 'alice@contoso.com');
    assert.deepEqual(seen.to, ['a,b@fabrikam.example', 'ceo(x)victim@fabrikam.example']);
  });

  test('a 501 for one recipient is permanent for that recipient, not a retry', async () => {
    seen.to = [];
    const odd = 'broken\ufffd(gan@fabrikam.example';
    const outcome = await deliver(target, {
      mailFrom: 'alice@contoso.com',
      rcptTo: ['megan@fabrikam.example', odd],
      prependHeaders: ['X-Sigrelay-Processed: true'],
      message: Buffer.from(message({})),
    });
    assert.deepEqual(seen.to, ['megan@fabrikam.example', odd]);
    assert.equal(outcome.status, 'partial');
    assert.deepEqual(outcome.accepted, ['megan@fabrikam.example']);
    assert.deepEqual(outcome.rejected, [odd], 'refused permanently: a DSN, once');
    assert.deepEqual(outcome.deferred, [], 'nothing left to retry');
  });
});
