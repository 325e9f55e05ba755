import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createDevPki, type DevPki } from '../../src/devtls/index.js';
import { names, type StorageClients } from '../../src/storage/index.js';
import { countingTable } from '../helpers/counting-table.js';
import {
  assertReply,
  contosoId,
  fabrikamId,
  message,
  openSession,
  startFront,
  startStorage,
  transaction,
  type RunningFront,
  type SmtpClient,
} from '../helpers/front-harness.js';

let storage: StorageClients;
let connectionString: string;
let disposeStorage: () => Promise<void>;
let pki: DevPki;

before(async () => {
  ({ storage, connectionString, dispose: disposeStorage } = await startStorage());
  pki = createDevPki();
});

after(async () => {
  await disposeStorage();
});

// fabrikam owns tailspin.com, with 3 messages per minute and 5 per 24 h (test/helpers/front-harness.ts).
const evidence = { 'X-MS-Exchange-CrossTenant-Id': fabrikamId, 'X-OriginatorOrg': 'tailspin.com' };

const send = (client: SmtpClient, sender: string) =>
  transaction(client, sender, ['bob@example.net'], message({ From: sender, ...evidence }));

/** Both fronts sync, then the first again, so each has read what the other wrote. */
async function syncBoth(a: RunningFront, b: RunningFront): Promise<void> {
  await a.limiter.sync();
  await b.limiter.sync();
  await a.limiter.sync();
}

async function withFronts(
  setup: Omit<Parameters<typeof startFront>[0], 'storage' | 'pki'>,
  body: (a: RunningFront, b: RunningFront) => Promise<void>,
): Promise<void> {
  const a = await startFront({ storage, pki, ...setup });
  const b = await startFront({ storage, pki, ...setup });
  try {
    await body(a, b);
  } finally {
    await a.close();
    await b.close();
  }
}

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

describe('per-sender rate limits across two fronts', () => {
  test('one sender split between two fronts: after a sync both enforce the combined minute and 24 h counts', async () => {
    let now = Date.parse('2026-03-02T10:00:05Z');
    await withFronts({ now: () => now }, async (a, b) => {
      const ca = await openSession(a.port, pki);
      const cb = await openSession(b.port, pki);
      for (const c of [ca, cb, ca])
        assertReply((await send(c, 'ann@tailspin.com')).end, 250, '2.0.0', 'within');
      await syncBoth(a, b);
      assertReply((await send(cb, 'ann@tailspin.com')).mail, 450, '4.7.1', 'fourth in the minute, at B');
      assertReply((await send(ca, 'ann@tailspin.com')).mail, 450, '4.7.1', 'fourth in the minute, at A');
      now += 61_000;
      for (const c of [cb, ca])
        assertReply((await send(c, 'ann@tailspin.com')).end, 250, '2.0.0', 'next minute');
      await syncBoth(a, b);
      assertReply((await send(cb, 'ann@tailspin.com')).mail, 550, '5.7.1', 'sixth in 24 h, at B');
      assertReply((await send(ca, 'ann@tailspin.com')).mail, 550, '5.7.1', 'sixth in 24 h, at A');
      now += 23 * 3600_000;
      assertReply((await send(ca, 'ann@tailspin.com')).mail, 550, '5.7.1', 'still within 24 h');
      now += 3600_000;
      assertReply(
        (await send(ca, 'ann@tailspin.com')).end,
        250,
        '2.0.0',
        'the first hour has left the window',
      );
      assertReply((await send(cb, 'carol@tailspin.com')).end, 250, '2.0.0', 'limits are per sender');
      ca.close();
      cb.close();
    });
  });

  test('between two syncs two fronts accept at most twice the limit (the documented worst case); after it, none', async () => {
    const now = Date.parse('2026-03-03T08:00:00Z');
    await withFronts({ now: () => now }, async (a, b) => {
      const clients = await Promise.all([a, b, a, b, a, b, a, b].map((f) => openSession(f.port, pki)));
      const results = await Promise.all(clients.map((c) => send(c, 'burst@tailspin.com')));
      const accepted = results.filter((r) => r.end?.code === 250).length;
      const refused = results.filter((r) => r.end?.code === 450 && r.end.enhanced === '4.7.1').length;
      assert.equal(accepted, 2 * 3, 'each front accepts the whole minute limit before it hears of the other');
      assert.equal(refused, 2);
      await syncBoth(a, b);
      // Together they counted 6: the minute is full, and so is the day (5), which is answered first.
      for (const c of clients.slice(0, 2))
        assertReply((await send(c, 'burst@tailspin.com')).mail, 550, '5.7.1', 'after the sync');
      for (const c of clients) c.close();
    });
  });

  test('the message path makes no Table request: one read for a sender new to the front, then none until the sync', async () => {
    const counted = countingTable(connectionString, names.limitsTable);
    await withFront({ limitsTable: counted.table }, async (front) => {
      const client = await openSession(front.port, pki);
      const first = await transaction(
        client,
        'dan@contoso.com',
        ['bob@example.net'],
        message({ From: 'dan@contoso.com' }),
      );
      assertReply(first.end, 250, '2.0.0', 'first message');
      assert.deepEqual(
        counted.requests.map((r) => r.split(' ')[0]),
        ['GET'],
        'one point read for the new sender',
      );
      counted.requests.length = 0;
      for (let i = 0; i < 20; i++) {
        const r = await transaction(
          client,
          'dan@contoso.com',
          ['bob@example.net'],
          message({ From: 'dan@contoso.com' }),
        );
        assertReply(r.end, 250, '2.0.0', `message ${i + 2}`);
      }
      assert.deepEqual(counted.requests, [], 'no Table request for 20 messages');
      const report = await front.limiter.sync();
      assert.equal(report.written, 1);
      assert.ok(
        counted.requests.some((r: string) => r.endsWith('/$batch')),
        'the sync writes them in one transaction',
      );
      client.close();
    });
  });

  test('with the background sync running, the other front learns the count without being asked', async () => {
    const now = Date.parse('2026-03-05T08:00:00Z');
    await withFronts({ now: () => now, rateSyncIntervalMs: 100 }, async (a, b) => {
      const cb = await openSession(b.port, pki);
      assertReply((await send(cb, 'fay@tailspin.com')).end, 250, '2.0.0', 'B sees the sender first');
      const ca = await openSession(a.port, pki);
      for (let i = 0; i < 2; i++) assertReply((await send(ca, 'fay@tailspin.com')).end, 250, '2.0.0', 'at A');
      let reply = await cb.command('MAIL FROM:<fay@tailspin.com>');
      for (let tries = 0; reply.code === 250 && tries < 100; tries++) {
        await cb.command('RSET');
        await new Promise((r) => setTimeout(r, 100));
        reply = await cb.command('MAIL FROM:<fay@tailspin.com>');
      }
      assertReply(reply, 450, '4.7.1', 'B refuses once A’s two messages arrived');
      ca.close();
      cb.close();
    });
  });

  test('a message refused by the tenant check does not use up the sender quota', async () => {
    const now = Date.parse('2026-03-04T08:00:00Z');
    await withFront({ now: () => now }, async (front) => {
      const client = await openSession(front.port, pki);
      for (let i = 0; i < 5; i++) {
        const r = await transaction(
          client,
          'eve@tailspin.com',
          ['b@example.net'],
          message({ 'X-MS-Exchange-CrossTenant-Id': contosoId }),
        );
        assertReply(r.end, 550, '5.7.1', 'wrong tenant');
      }
      assertReply((await send(client, 'eve@tailspin.com')).end, 250, '2.0.0', 'quota untouched by refusals');
      client.close();
    });
  });

  test('with Table storage unreachable the front still accepts mail, and still limits each sender locally', async () => {
    const deadPort = await unusedPort();
    const unreachable = connectionString.replace(
      /TableEndpoint=http:\/\/127\.0\.0\.1:\d+/,
      `TableEndpoint=http://127.0.0.1:${deadPort}`,
    );
    const { table } = countingTable(unreachable, names.limitsTable, { noRetries: true });
    const now = Date.parse('2026-03-06T08:00:00Z');
    await withFront({ now: () => now, limitsTable: table }, async (front) => {
      const client = await openSession(front.port, pki);
      for (let i = 0; i < 3; i++)
        assertReply((await send(client, 'gus@tailspin.com')).end, 250, '2.0.0', `message ${i + 1}`);
      const report = await front.limiter.sync();
      assert.ok(report.failed > 0, 'the sync failed');
      assertReply((await send(client, 'gus@tailspin.com')).mail, 450, '4.7.1', 'fourth in the minute');
      client.close();
    });
  });
});

/** A loopback port nothing listens on (bound, then released). */
async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
