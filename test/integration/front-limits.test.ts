import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDevPki, type DevPki } from '../../src/devtls/index.js';
import type { StorageClients } from '../../src/storage/index.js';
import {
  inboundBlobNames,
  message,
  openSession,
  SmtpClient,
  startFront,
  startStorage,
  transaction,
  assertReply,
  type RunningFront,
} from '../helpers/front-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let storage: StorageClients;
let disposeStorage: () => Promise<void>;
let pki: DevPki;

before(async () => {
  ({ storage, dispose: disposeStorage } = await startStorage());
  pki = createDevPki();
});

after(async () => {
  await disposeStorage();
});

/** Runs `body` against a front started with `limits`, closing both whatever happens. */
async function withFront(
  setup: Omit<Parameters<typeof startFront>[0], 'storage' | 'pki'>,
  body: (front: RunningFront) => Promise<void>,
): Promise<void> {
  const front = await startFront({ storage, pki, ...setup });
  try {
    await body(front);
  } finally {
    await front.close();
  }
}

describe('message limits', () => {
  test('SIZE over the limit is 552 5.3.4 at MAIL; a bigger message is 552 5.3.4 and not stored', async () => {
    await withFront({ limits: { maxMessageBytes: 64 * 1024 } }, async (front) => {
      const client = await openSession(front.port, pki);
      const ehlo = await client.command('EHLO again.test');
      assert.match(ehlo.text, /SIZE 65536/);
      assertReply(await client.command('MAIL FROM:<alice@contoso.com> SIZE=100000'), 552, '5.3.4', 'SIZE=');
      await client.command('RSET');
      const before = await inboundBlobNames(storage);
      const big = message({}, `${'x'.repeat(76)}\r\n`.repeat(2000));
      const r = await transaction(client, 'alice@contoso.com', ['bob@example.net'], big);
      assertReply(r.end, 552, '5.3.4', 'oversized DATA');
      assert.deepEqual(await inboundBlobNames(storage), before);
      const small = await transaction(client, 'alice@contoso.com', ['bob@example.net'], message({}));
      assertReply(small.end, 250, '2.0.0', 'the connection still works');
      client.close();
    });
  });

  test('a header block over the limit is 552 5.3.4; a line over the limit is 550 5.6.0', async () => {
    await withFront({ limits: { maxHeaderBytes: 4096, maxLineBytes: 1000 } }, async (front) => {
      const client = await openSession(front.port, pki);
      const before = await inboundBlobNames(storage);
      const manyHeaders = message(
        Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`X-Filler-${i}`, 'y'.repeat(60)])),
      );
      assertReply(
        (await transaction(client, 'alice@contoso.com', ['b@example.net'], manyHeaders)).end,
        552,
        '5.3.4',
        'header block',
      );
      const longLine = message({}, `${'z'.repeat(1001)}\r\n`);
      assertReply(
        (await transaction(client, 'alice@contoso.com', ['b@example.net'], longLine)).end,
        550,
        '5.6.0',
        'long line',
      );
      assert.deepEqual(await inboundBlobNames(storage), before);
      const atLimit = message({}, `${'z'.repeat(1000)}\r\n`);
      assertReply(
        (await transaction(client, 'alice@contoso.com', ['b@example.net'], atLimit)).end,
        250,
        '2.0.0',
        'line at the limit',
      );
      client.close();
    });
  });
});

describe('SMTP smuggling', () => {
  // Every way a lax receiver might read an end of data that is not <CRLF>.<CRLF>.
  const fakeEnds = [
    '\n.\n',
    '\n.\r\n',
    '\r\n.\n',
    '\r.\r',
    '\r\n.\r',
    '\r.\r\n',
    '\n.\r',
    '\r.\n',
    '\r\n\x00.\r\n',
  ];

  test('a fake end of data never splits one transmission into two messages', async () => {
    await withFront({}, async (front) => {
      const client = await openSession(front.port, pki);
      for (const fake of fakeEnds) {
        const before = await inboundBlobNames(storage);
        const smuggled = `MAIL FROM:<alice@contoso.com>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n`;
        assertReply(await client.command('MAIL FROM:<alice@contoso.com>'), 250, '2.1.0', 'MAIL');
        assertReply(await client.command('RCPT TO:<bob@example.net>'), 250, '2.1.5', 'RCPT');
        assert.equal((await client.command('DATA')).code, 354);
        client.write(`Subject: first\r\n\r\nfirst${fake}${smuggled}.\r\n`);
        const reply = await client.reply();
        const name = JSON.stringify(fake);
        // Only the real end of data ends the message, and one with a bare CR or LF, or a NUL, is refused whole.
        assertReply(reply, 550, '5.6.0', name);
        // Nothing that followed the fake end ran as a command: the next reply answers our NOOP.
        assertReply(await client.command('NOOP'), 250, '2.0.0', `${name}: NOOP`);
        const added = (await inboundBlobNames(storage)).filter((n) => !before.includes(n));
        assert.ok(added.length <= 1, `${name}: ${added.length} messages from one transmission`);
        for (const id of added) {
          const stored = (await storage.inbound.getBlockBlobClient(id).downloadToBuffer()).toString('latin1');
          assert.ok(
            stored.includes('first') && stored.includes('smuggled'),
            'one message, smuggled text inside',
          );
        }
      }
      client.close();
    });
  });

  test('a bare-LF end of data does not end DATA: the server waits for <CRLF>.<CRLF>', async () => {
    await withFront({}, async (front) => {
      const client = await openSession(front.port, pki);
      await client.command('MAIL FROM:<alice@contoso.com>');
      await client.command('RCPT TO:<bob@example.net>');
      assert.equal((await client.command('DATA')).code, 354);
      client.write('Subject: x\n\nbody\n.\n');
      await assert.rejects(client.reply(500), /no reply/);
      client.write('\r\n.\r\n');
      assertReply(await client.reply(), 550, '5.6.0', 'after the real end');
      client.close();
    });
  });

  test('dot-stuffed lines stay content: one message, with its "." line', async () => {
    await withFront({}, async (front) => {
      const client = await openSession(front.port, pki);
      const r = await transaction(
        client,
        'alice@contoso.com',
        ['b@example.net'],
        message({}, 'before\r\n.\r\nMAIL FROM:<x@contoso.com>\r\n'),
      );
      assertReply(r.end, 250, '2.0.0', 'dot line');
      const id = /2\.0\.0 (\S+) queued/.exec(r.end?.text ?? '')?.[1] ?? '';
      const stored = (await storage.inbound.getBlockBlobClient(id).downloadToBuffer()).toString('latin1');
      assert.ok(stored.endsWith('before\r\n.\r\nMAIL FROM:<x@contoso.com>\r\n'));
      assertReply(await client.command('NOOP'), 250, '2.0.0', 'NOOP');
      client.close();
    });
  });
});

describe('slow and greedy clients', () => {
  test('an idle client gets 421 4.4.2 after the idle timeout', async () => {
    await withFront({ limits: { idleTimeoutMs: 400 } }, async (front) => {
      const { client } = await SmtpClient.connect(front.port);
      const started = Date.now();
      assertReply(await client.reply(3000), 421, '4.4.2', 'idle');
      assert.ok(Date.now() - started >= 300);
      await client.closed;
    });
  });

  test('a command trickled byte by byte (slowloris) gets 421 4.4.2 at the command deadline', async () => {
    await withFront({ limits: { commandTimeoutMs: 500, idleTimeoutMs: 10_000 } }, async (front) => {
      const { client } = await SmtpClient.connect(front.port);
      const started = Date.now();
      const trickle = setInterval(() => client.write('E'), 50);
      try {
        assertReply(await client.reply(5000), 421, '4.4.2', 'slowloris');
      } finally {
        clearInterval(trickle);
      }
      assert.ok(Date.now() - started < 3000, 'cut off near the deadline, not at the idle timeout');
      await client.closed;
    });
  });

  test('DATA trickled past the data deadline gets 421 4.4.2 and nothing is stored', async () => {
    await withFront({ limits: { dataTimeoutMs: 600, idleTimeoutMs: 10_000 } }, async (front) => {
      const client = await openSession(front.port, pki);
      const before = await inboundBlobNames(storage);
      await client.command('MAIL FROM:<alice@contoso.com>');
      await client.command('RCPT TO:<bob@example.net>');
      assert.equal((await client.command('DATA')).code, 354);
      const trickle = setInterval(() => client.write('Subject: slow\r\n'), 50);
      try {
        assertReply(await client.reply(5000), 421, '4.4.2', 'slow data');
      } finally {
        clearInterval(trickle);
      }
      await client.closed;
      await sleep(200);
      assert.deepEqual(await inboundBlobNames(storage), before);
    });
  });

  test('a client that pauses between complete commands is not a slow client', async () => {
    await withFront({ limits: { commandTimeoutMs: 300 } }, async (front) => {
      const client = await openSession(front.port, pki);
      for (const line of ['MAIL FROM:<alice@contoso.com>', 'RCPT TO:<bob@example.net>']) {
        await sleep(450);
        assert.equal((await client.command(line)).code, 250);
      }
      client.close();
    });
  });

  test('connection caps: per address 421 4.7.0, in total 421 4.3.2, freed when a client leaves', async () => {
    await withFront({ limits: { maxConnectionsPerAddress: 2, maxConnections: 3 } }, async (front) => {
      const a = await SmtpClient.connect(front.port);
      const b = await SmtpClient.connect(front.port);
      assert.equal(a.greeting.code, 220);
      assert.equal(b.greeting.code, 220);
      const c = await SmtpClient.connect(front.port);
      assertReply(c.greeting, 421, '4.7.0', 'third from one address');
      await c.client.closed;
      const other = await SmtpClient.connect(front.port, '127.0.0.1', '127.0.0.2');
      assert.equal(other.greeting.code, 220, 'another address still gets in');
      const fourth = await SmtpClient.connect(front.port, '127.0.0.1', '127.0.0.3');
      assertReply(fourth.greeting, 421, '4.3.2', 'over the total');
      a.client.close();
      await a.client.closed;
      await sleep(50);
      const again = await SmtpClient.connect(front.port);
      assert.equal(again.greeting.code, 220, 'a freed slot is reused');
      for (const s of [b.client, other.client, again.client]) s.close();
    });
  });
});
