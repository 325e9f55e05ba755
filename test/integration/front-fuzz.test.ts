import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { createDevPki, type DevPki } from '../../src/devtls/index.js';
import type { StorageClients } from '../../src/storage/index.js';
import {
  inboundBlobNames,
  message,
  openSession,
  startFront,
  startStorage,
  transaction,
  type RunningFront,
} from '../helpers/front-harness.js';

/**
 * A seeded SMTP command fuzzer: thousands of random and mutated sessions against one front while a
 * well-behaved client keeps sending mail through it. Reproduce a failure with SIGRELAY_FUZZ_SEED.
 */
const seed = Number(process.env.SIGRELAY_FUZZ_SEED ?? 20231218);
const sessions = Number(process.env.SIGRELAY_FUZZ_SESSIONS ?? 2500);
const budgetMs = Number(process.env.SIGRELAY_FUZZ_BUDGET_MS ?? 45_000);
const concurrency = 24;

/** mulberry32: small, fast, good enough to spread cases; the point is reproducibility. */
function prng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, items: readonly T[]): T => items[Math.floor(r() * items.length)] as T;

const commands = [
  'EHLO fuzz.test',
  'HELO fuzz.test',
  'ehlo',
  'MAIL FROM:<alice@contoso.com>',
  'MAIL FROM:<alice@contoso.com> BODY=8BITMIME SMTPUTF8',
  'MAIL FROM:<alice@contoso.com> SIZE=99999999999',
  'MAIL FROM:<alice@contoso.com> SIZE=abc BODY=BINARYMIME',
  'MAIL FROM:<>',
  'MAIL FROM:<spammer@evil.example>',
  'MAIL FROM:<@evil.example:alice@contoso.com>',
  'MAIL FROM:<alice%evil.example@contoso.com>',
  'mail from:<ALICE@CONTOSO.COM>',
  'MAIL FROM: <alice@contoso.com>',
  'MAIL FROM:alice@contoso.com',
  'MAIL FROM:<alice@contoso.com> ENVID=x+0D+0AQUIT',
  'RCPT TO:<bob@example.net>',
  'RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.net',
  'RCPT TO:<postmaster>',
  'RCPT TO:<victim@[192.0.2.1]>',
  'RCPT TO:<用户@例子.广告>',
  'DATA',
  'BDAT 10 LAST',
  'RSET',
  'NOOP',
  'QUIT',
  'VRFY alice',
  'EXPN staff',
  'HELP',
  'STARTTLS',
  'AUTH PLAIN AGFsaWNlAHNlY3JldA==',
  'XCLIENT ADDR=40.92.0.1',
  'XFORWARD ADDR=40.92.0.1',
  'GET / HTTP/1.1',
  'WIZ pass',
  'SHELL',
  '',
  ' ',
  '\x00\x01\x02',
];

const dataBodies = [
  () => message({}, 'fuzz body\r\n'),
  () => message({ 'X-MS-Exchange-CrossTenant-Id': 'ffffffff-0000-4000-8000-000000000001' }),
  () => 'Subject: bare\n\nbare lf body\n',
  () =>
    'Subject: x\r\n\r\nfirst\n.\nMAIL FROM:<alice@contoso.com>\r\nRCPT TO:<v@example.net>\r\nDATA\r\nsmuggled\r\n',
  () => 'Subject: x\r\n\r\nfirst\r.\rsecond\r\n',
  () => `Subject: long\r\n\r\n${'y'.repeat(20_000)}\r\n`,
  () => 'no header block at all\r\n',
  () => '..\r\n.\r\n..\r\n',
];

function mutate(r: Rand, bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  const n = 1 + Math.floor(r() * 4);
  let result = out;
  for (let i = 0; i < n && result.length > 0; i++) {
    const at = Math.floor(r() * result.length);
    switch (Math.floor(r() * 5)) {
      case 0:
        result[at] = Math.floor(r() * 256);
        break;
      case 1:
        result = Buffer.concat([
          result.subarray(0, at),
          Buffer.from(pick(r, ['\r', '\n', '\x00', '.', '\r\n.\r\n'])),
          result.subarray(at),
        ]);
        break;
      case 2:
        result = result.subarray(0, at);
        break;
      case 3:
        result = Buffer.concat([result, result.subarray(at)]);
        break;
      default:
        result = Buffer.from(result.toString('latin1').toUpperCase(), 'latin1');
    }
  }
  return result;
}

/** One fuzz session: the byte chunks to write, in order. */
function generate(r: Rand): Buffer[] {
  const chunks: Buffer[] = [];
  const eol = () => (r() < 0.9 ? '\r\n' : pick(r, ['\n', '\r', '\r\r\n']));
  let lines: string[] = [];
  const flush = () => {
    if (lines.length) chunks.push(Buffer.from(lines.join(''), 'utf8'));
    lines = [];
  };
  const wellFormedStart = r() < 0.6;
  if (wellFormedStart)
    lines.push('EHLO fuzz.test\r\n', 'MAIL FROM:<alice@contoso.com>\r\n', 'RCPT TO:<bob@example.net>\r\n');
  const steps = 1 + Math.floor(r() * 12);
  for (let i = 0; i < steps; i++) {
    const roll = r();
    if (roll < 0.65) lines.push(pick(r, commands) + eol());
    else if (roll < 0.85) {
      lines.push(`DATA${eol()}`);
      flush();
      const body = Buffer.from(pick(r, dataBodies)(), 'utf8');
      chunks.push(r() < 0.3 ? mutate(r, body) : body, Buffer.from(r() < 0.85 ? '.\r\n' : '.\n'));
    } else if (roll < 0.95) {
      flush();
      chunks.push(mutate(r, Buffer.from(pick(r, commands) + '\r\n')));
    } else {
      flush();
      chunks.push(
        Buffer.from(Array.from({ length: 1 + Math.floor(r() * 300) }, () => Math.floor(r() * 256))),
      );
    }
    if (r() < 0.3) flush();
  }
  flush();
  return chunks;
}

/** Plays one session; resolves with everything the server said once it closes or goes quiet. */
function play(port: number, chunks: Buffer[], r: Rand): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let out = '';
    let quiet: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(quiet);
      socket.destroy();
      resolve(out);
    };
    const idle = () => {
      clearTimeout(quiet);
      quiet = setTimeout(finish, 150);
    };
    socket.on('error', finish);
    socket.on('close', finish);
    socket.once('data', (greeting: Buffer) => {
      out += greeting.toString('latin1');
      let i = 0;
      const next = () => {
        const chunk = chunks[i++];
        if (!chunk) return idle();
        socket.write(chunk);
        if (r() < 0.5) setTimeout(next, Math.floor(r() * 15));
        else next();
      };
      next();
      socket.on('data', (d: Buffer) => {
        out += d.toString('latin1');
        idle();
      });
    });
  });
}

let storage: StorageClients;
let disposeStorage: () => Promise<void>;
let pki: DevPki;
let front: RunningFront;

before(async () => {
  ({ storage, dispose: disposeStorage } = await startStorage());
  pki = createDevPki();
  front = await startFront({
    storage,
    pki,
    requireTls: false,
    limits: {
      maxMessageBytes: 256 * 1024,
      maxConnections: 400,
      maxConnectionsPerAddress: 400,
      idleTimeoutMs: 2000,
      commandTimeoutMs: 1000,
      dataTimeoutMs: 3000,
    },
  });
});

after(async () => {
  await front.close();
  await disposeStorage();
});

void test(`fuzzed sessions (seed ${seed}): the front keeps serving and stores only what it answered 250 for`, async () => {
  const r = prng(seed);
  const started = Date.now();
  const seenIds = new Set<string>();
  let played = 0;
  let stop = false;

  const wellBehaved = (async () => {
    let sent = 0;
    while (!stop) {
      const client = await openSession(front.port, pki);
      const reply = await transaction(
        client,
        'alice@contoso.com',
        ['bob@example.net'],
        message({}, 'the steady client\r\n'),
      );
      assert.equal(
        reply.end?.code,
        250,
        `well-behaved message ${sent + 1} after ${played} fuzz sessions: ${reply.end?.text}`,
      );
      client.close();
      sent++;
      await new Promise((res) => setTimeout(res, 100));
    }
    return sent;
  })();

  const worker = async () => {
    while (played < sessions && Date.now() - started < budgetMs) {
      played++;
      const chunks = generate(r);
      const out = await play(front.port, chunks, r);
      for (const m of out.matchAll(/^250 2\.0\.0 (\S+) queued/gm)) if (m[1]) seenIds.add(m[1]);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    stop = true;
  }
  const steady = await wellBehaved;
  console.log(
    `fuzz: ${played} sessions in ${Date.now() - started} ms, ${front.accepted.length} messages accepted, ${steady} well-behaved messages`,
  );
  assert.ok(played >= Math.min(sessions, 1000), `only ${played} sessions ran`);
  assert.ok(steady > 0);

  // The server's own list of 250s is the truth; what clients read back is a subset of it.
  await new Promise((res) => setTimeout(res, 300));
  const accepted = new Set(front.accepted.map((m) => m.id));
  for (const id of seenIds) assert.ok(accepted.has(id), `client saw 250 for ${id} the server did not record`);
  const stored = new Set(await inboundBlobNames(storage));
  for (const id of stored) assert.ok(accepted.has(id), `${id} is stored but was never answered 250`);
  for (const id of accepted) assert.ok(stored.has(id), `${id} was answered 250 but is not stored`);
  const queued = (await storage.inboundQueue.getProperties()).approximateMessagesCount ?? 0;
  assert.equal(queued, accepted.size, 'one claim-check per accepted message');
});
