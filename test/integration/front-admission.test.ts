import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from '../../src/config/index.js';
import { createCa, createDevPki, issueCertificate, type DevPki } from '../../src/devtls/index.js';
import { Allowlist, allowlistFor, CertificateFiles } from '../../src/front/index.js';
import { startHealthServer } from '../../src/front/health.js';
import { silentLogger } from '../../src/log/index.js';
import { MessageStore, type StorageClients } from '../../src/storage/index.js';
import {
  contosoId,
  dkimKey,
  inboundBlobNames,
  message,
  northwindId,
  openSession,
  SmtpClient,
  startFront,
  startStorage,
  strangerId,
  testTenants,
  transaction,
  woodgroveId,
  fabrikamId,
  assertReply,
  type RunningFront,
} from '../helpers/front-harness.js';

let storage: StorageClients;
let disposeStorage: () => Promise<void>;
let pki: DevPki;
let dir: string;
let main: RunningFront;
const northwindKey = dkimKey('northwind.com');
const onmicrosoftKey = dkimKey('northwind.onmicrosoft.com', 'selector2');
const strangerKey = dkimKey('evil.example');

before(async () => {
  ({ storage, dir, dispose: disposeStorage } = await startStorage());
  pki = createDevPki();
  main = await startFront({
    storage,
    pki,
    dkimResolver: async (name, rrtype) => {
      for (const key of [northwindKey, onmicrosoftKey, strangerKey]) {
        try {
          return await key.resolver(name, rrtype);
        } catch {
          // Not this key's record: ask the next one; the last failure below is the answer.
        }
      }
      return strangerKey.resolver(name, rrtype);
    },
  });
});

after(async () => {
  await main.close();
  await disposeStorage();
});

describe('connection allowlist', () => {
  test('Exchange Online ranges (v4, v6, v4-mapped) are in, neighbours and strangers are out', () => {
    const exo = allowlistFor('production', undefined);
    for (const ip of [
      '40.92.1.1',
      '40.93.255.254',
      '40.107.0.1',
      '52.103.255.1',
      '104.47.127.255',
      '2a01:111:f400::25',
      '2a01:111:f403:c000::1',
      '::ffff:40.107.12.3',
    ])
      assert.ok(exo.allows(ip), `${ip} should be allowed`);
    for (const ip of [
      '40.94.0.1',
      '104.47.128.1',
      '8.8.8.8',
      '127.0.0.1',
      '2a01:111:f401::1',
      '::1',
      'not-an-ip',
    ])
      assert.ok(!exo.allows(ip), `${ip} should be refused`);
    const local = allowlistFor('local', undefined);
    assert.ok(local.allows('127.0.0.1') && local.allows('::1') && !local.allows('10.0.0.1'));
    assert.ok(Allowlist.parse('10.1.2.3, 2001:db8::/32').allows('2001:db8:1::9'));
    assert.throws(() => Allowlist.parse('10.0.0.0/33'), ConfigError);
  });

  test('a foreign address gets 554 5.7.1 at connect and the connection is closed', async () => {
    const front = await startFront({ storage, pki, allowlist: '10.0.0.0/8, 2a01:111:f400::/48' });
    try {
      const { client, greeting } = await SmtpClient.connect(front.port);
      assertReply(greeting, 554, '5.7.1', 'greeting');
      await client.closed;
    } finally {
      await front.close();
    }
  });

  test('IPv6 peers are judged by their IPv6 ranges', async (t) => {
    let front: RunningFront;
    try {
      front = await startFront({ storage, pki, host: '::1', allowlist: '::1/128' });
    } catch {
      t.skip('no IPv6 loopback here');
      return;
    }
    const refused = await startFront({ storage, pki, host: '::1', allowlist: '2a01:111:f400::/48' });
    try {
      const ok = await SmtpClient.connect(front.port, '::1');
      assert.equal(ok.greeting.code, 220, 'v6 allowed');
      ok.client.close();
      const no = await SmtpClient.connect(refused.port, '::1');
      assertReply(no.greeting, 554, '5.7.1', 'v6 refused');
    } finally {
      await front.close();
      await refused.close();
    }
  });
});

describe('TLS', () => {
  test('MAIL before STARTTLS is 530 5.7.0', async () => {
    const client = await openSession(main.port, pki, { tls: false });
    assertReply(await client.command('MAIL FROM:<alice@contoso.com>'), 530, '5.7.0', 'MAIL');
    client.close();
  });

  test('TLS 1.1 is refused, TLS 1.2 and 1.3 are accepted', async () => {
    const old = await openSession(main.port, pki, { tls: false });
    await assert.rejects(
      old.starttls({
        ca: pki.ca.cert,
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
        // Let the client offer TLS 1.1 at all, so it is the server that refuses it.
        ciphers: 'DEFAULT@SECLEVEL=0',
      }),
      /protocol version|unsupported protocol|wrong version|alert/i,
    );
    old.close();
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const client = await openSession(main.port, pki, {
        tlsOptions: { minVersion: version, maxVersion: version },
      });
      assert.equal((client.socket as import('node:tls').TLSSocket).getProtocol(), version);
      assertReply(await client.command('MAIL FROM:<alice@contoso.com>'), 250, '2.1.0', version);
      client.close();
    }
  });

  test('a required client certificate must be present, trusted and named mail.protection.outlook.com', async () => {
    const front = await startFront({
      storage,
      pki,
      clientCertificate: { name: 'mail.protection.outlook.com', ca: pki.ca.cert },
    });
    const exo = issueCertificate(pki.ca, { commonName: 'mail.protection.outlook.com', usage: 'client' });
    const otherCa = createCa('not trusted');
    const forged = issueCertificate(otherCa, { commonName: 'mail.protection.outlook.com', usage: 'client' });
    const cases: [string, { cert?: string; key?: string }, string][] = [
      ['none', {}, 'none presented'],
      ['wrong name', pki.client, 'not issued to'],
      ['untrusted issuer', forged, 'not trusted'],
    ];
    try {
      for (const [what, cert, reason] of cases) {
        const { client } = await SmtpClient.connect(front.port);
        await client.command('EHLO client.test');
        await client.starttls({ ca: pki.ca.cert, ...cert, maxVersion: 'TLSv1.2' });
        const reply = await client.reply();
        assertReply(reply, 554, '5.7.1', what);
        assert.match(reply.text, new RegExp(reason));
        await client.closed;
      }
      const good = await openSession(front.port, pki, { tlsOptions: exo });
      assertReply(await good.command('MAIL FROM:<alice@contoso.com>'), 250, '2.1.0', 'EXO certificate');
      good.close();
    } finally {
      await front.close();
    }
  });

  test('a new certificate on disk is served to new sessions without dropping open ones', async () => {
    const certDir = await fs.mkdtemp(path.join(dir, 'cert-'));
    const files = { certFile: path.join(certDir, 'tls.crt'), keyFile: path.join(certDir, 'tls.key') };
    await fs.writeFile(files.certFile, pki.front.cert);
    await fs.writeFile(files.keyFile, pki.front.key);
    const certificate = new CertificateFiles(files);
    const front = await startFront({ storage, pki });
    front.front.updateCertificate(await certificate.load());
    certificate.watch(50, silentLogger, (pair) => front.front.updateCertificate(pair));
    const rotatedCa = createCa('rotated CA');
    const rotated = issueCertificate(rotatedCa, {
      commonName: 'sigrelay.local',
      altNames: ['localhost'],
      usage: 'server',
    });
    try {
      const open = await openSession(front.port, pki);
      const before = (open.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
      // Rotation as a secret volume does it: the certificate first, the key a moment later.
      await fs.writeFile(files.certFile, rotated.cert);
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(certificate.reloadError, 'a certificate without its key is not taken');
      await fs.writeFile(files.keyFile, rotated.key);
      let after = before;
      for (let i = 0; i < 50 && after === before; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const probe = await openSession(front.port, pki, {
          tlsOptions: { ca: [pki.ca.cert, rotatedCa.cert] },
        });
        after = (probe.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
        probe.close();
      }
      assert.notEqual(after, before, 'new sessions get the rotated certificate');
      assert.equal(certificate.reloadError, undefined);
      const r = await transaction(open, 'alice@contoso.com', ['bob@example.net'], message({}));
      assertReply(r.end, 250, '2.0.0', 'session opened before the rotation still delivers');
      open.close();
    } finally {
      certificate.stop();
      await front.close();
    }
  });
});

describe('sender and tenant proof', () => {
  test('a sender domain no tenant approved is 550 5.7.1', async () => {
    const client = await openSession(main.port, pki);
    assertReply(await client.command('MAIL FROM:<alice@example.org>'), 550, '5.7.1', 'foreign domain');
    assertReply(await client.command('MAIL FROM:<alice@sub.contoso.com>'), 550, '5.7.1', 'subdomain');
    client.close();
  });

  test('the null sender is 550 5.7.1 unless a tenant opted in, and then needs that tenant id', async () => {
    const strict = await startFront({ storage, pki, tenants: testTenants.slice(0, 1) });
    try {
      const client = await openSession(strict.port, pki);
      assertReply(await client.command('MAIL FROM:<>'), 550, '5.7.1', 'null sender by default');
      client.close();
    } finally {
      await strict.close();
    }
    const client = await openSession(main.port, pki);
    const before = await inboundBlobNames(storage);
    const ok = await transaction(
      client,
      '',
      ['bob@example.net'],
      message({ 'X-MS-Exchange-CrossTenant-Id': woodgroveId, 'X-OriginatorOrg': 'woodgrove.com' }),
    );
    assertReply(ok.end, 250, '2.0.0', 'opted-in tenant');
    const noId = await transaction(client, '', ['bob@example.net'], message({}));
    assertReply(noId.end, 550, '5.7.1', 'no tenant id');
    const notOptedIn = await transaction(
      client,
      '',
      ['bob@example.net'],
      message({ 'X-MS-Exchange-CrossTenant-Id': contosoId }),
    );
    assertReply(notOptedIn.end, 550, '5.7.1', 'tenant not opted in');
    const after = await inboundBlobNames(storage);
    assert.equal(after.length, before.length + 1, 'only the opted-in message is stored');
    const nullSenderMessage = main.accepted.at(-1);
    assert.equal(nullSenderMessage?.tenantId, woodgroveId);
    const meta = await new MessageStore(storage).readMeta(nullSenderMessage?.id ?? '');
    assert.equal(meta?.tenantId, woodgroveId, 'the stored copy names the tenant found in the message');
    client.close();
  });

  test('tenant headers: foreign tenant id and foreign X-OriginatorOrg are 550 5.7.1, nothing stored', async () => {
    const client = await openSession(main.port, pki);
    const before = await inboundBlobNames(storage);
    const cases: [string, Record<string, string>][] = [
      ['foreign tenant id', { 'X-MS-Exchange-CrossTenant-Id': strangerId }],
      [
        'second, foreign tenant id',
        { 'X-MS-Exchange-CrossTenant-Id': contosoId, 'X-MS-Exchange-CrossTenant-id': strangerId },
      ],
      [
        'wrong X-OriginatorOrg',
        { 'X-MS-Exchange-CrossTenant-Id': contosoId, 'X-OriginatorOrg': 'evil.example' },
      ],
      ["another tenant's X-OriginatorOrg", { 'X-OriginatorOrg': 'fabrikam.com' }],
    ];
    for (const [what, headers] of cases) {
      const r = await transaction(client, 'alice@contoso.com', ['bob@example.net'], message(headers));
      assertReply(r.end, 550, '5.7.1', what);
    }
    assert.deepEqual(await inboundBlobNames(storage), before);
    const good = await transaction(
      client,
      'alice@contoso.com',
      ['bob@example.net'],
      message({ 'X-MS-Exchange-CrossTenant-Id': contosoId.toUpperCase(), 'X-OriginatorOrg': 'contoso.com' }),
    );
    assertReply(good.end, 250, '2.0.0', 'matching headers');
    client.close();
  });

  test('headers-required: missing evidence is 550 5.7.1', async () => {
    const client = await openSession(main.port, pki);
    const missing = await transaction(
      client,
      'carol@fabrikam.com',
      ['bob@example.net'],
      message({ From: 'carol@fabrikam.com' }),
    );
    assertReply(missing.end, 550, '5.7.1', 'no headers');
    const onlyId = await transaction(
      client,
      'carol@fabrikam.com',
      ['bob@example.net'],
      message({ 'X-MS-Exchange-CrossTenant-Id': fabrikamId }),
    );
    assertReply(onlyId.end, 550, '5.7.1', 'no X-OriginatorOrg');
    const good = await transaction(
      client,
      'carol@fabrikam.com',
      ['bob@example.net'],
      message({ 'X-MS-Exchange-CrossTenant-Id': fabrikamId, 'X-OriginatorOrg': 'fabrikam.com' }),
    );
    assertReply(good.end, 250, '2.0.0', 'both headers');
    client.close();
  });

  test('dkim mode: only a passing signature by one of the tenant domains admits the message', async () => {
    const client = await openSession(main.port, pki);
    const before = (await inboundBlobNames(storage)).length;
    const plain = message({ From: 'dan@northwind.com', 'X-MS-Exchange-CrossTenant-Id': northwindId });
    const bad: [string, string][] = [
      ['unsigned', plain],
      ['signed by a stranger', await strangerKey.sign(plain)],
      ['body changed after signing', (await northwindKey.sign(plain)).replace('Hello.', 'Hullo.')],
      [
        'signed by the tenant, then claims another tenant id',
        await northwindKey.sign(plain.replace(northwindId, strangerId)),
      ],
    ];
    for (const [what, raw] of bad) {
      const r = await transaction(client, 'dan@northwind.com', ['bob@example.net'], raw);
      assertReply(r.end, 550, '5.7.1', what);
    }
    assert.equal((await inboundBlobNames(storage)).length, before, 'nothing stored');
    for (const [what, raw] of [
      ['d=northwind.com', await northwindKey.sign(plain)],
      ['d=northwind.onmicrosoft.com', await onmicrosoftKey.sign(plain)],
    ]) {
      const r = await transaction(client, 'dan@northwind.com', ['bob@example.net'], raw ?? '');
      assertReply(r.end, 250, '2.0.0', what);
    }
    client.close();
  });
});

describe('never a relay', () => {
  // [command, expected code, expected enhanced code]
  const senders: [string, number, string][] = [
    ['MAIL FROM:<spammer@evil.example>', 550, '5.7.1'],
    ['MAIL FROM:<alice%evil.example@contoso.com>', 550, '5.7.1'],
    ['MAIL FROM:<evil.example!alice@contoso.com>', 550, '5.7.1'],
    ['MAIL FROM:<@contoso.com:spammer@evil.example>', 550, '5.7.1'],
    ['MAIL FROM:<@evil.example:alice@contoso.com>', 550, '5.7.1'],
    ['MAIL FROM:<@a.example,@b.example:alice@contoso.com>', 550, '5.7.1'],
    ['MAIL FROM:<"alice"@contoso.com>', 550, '5.7.1'],
    ['MAIL FROM:<"alice@evil.example"@contoso.com>', 501, '5.1.7'],
    ['MAIL FROM:<alice>', 501, '5.1.7'],
    ['MAIL FROM:<alice@[192.0.2.1]>', 550, '5.7.1'],
    ['MAIL FROM:<alice@[IPv6:2001:db8::1]>', 550, '5.7.1'],
    ['MAIL FROM:<alice@contoso.com.evil.example>', 550, '5.7.1'],
    ['MAIL FROM:<alice@evilcontoso.com>', 550, '5.7.1'],
    ['MAIL FROM:alice@contoso.com', 501, '5.1.7'],
  ];
  const recipients: [string, number, string][] = [
    ['RCPT TO:<victim%target.example@contoso.com>', 550, '5.7.1'],
    ['RCPT TO:<target.example!victim@contoso.com>', 550, '5.7.1'],
    ['RCPT TO:<@contoso.com:victim@target.example>', 550, '5.7.1'],
    ['RCPT TO:<"victim@target.example"@contoso.com>', 501, '5.1.3'],
    ['RCPT TO:<"victim"@target.example>', 550, '5.7.1'],
    ['RCPT TO:<victim>', 501, '5.1.3'],
    ['RCPT TO:<postmaster>', 550, '5.7.1'],
    ['RCPT TO:<victim@[192.0.2.1]>', 550, '5.7.1'],
  ];

  test('classic open-relay probes are refused and nothing is stored', async () => {
    const before = await inboundBlobNames(storage);
    const client = await openSession(main.port, pki);
    for (const [command, code, enhanced] of senders) {
      assertReply(await client.command(command), code, enhanced, command);
      assertReply(
        await client.command('RCPT TO:<victim@target.example>'),
        503,
        '5.5.1',
        `${command} then RCPT`,
      );
      await client.command('RSET');
    }
    assertReply(await client.command('MAIL FROM:<alice@contoso.com>'), 250, '2.1.0', 'tenant sender');
    for (const [command, code, enhanced] of recipients)
      assertReply(await client.command(command), code, enhanced, command);
    assertReply(await client.command('DATA'), 503, '5.5.1', 'DATA without an accepted recipient');
    client.close();
    assert.deepEqual(await inboundBlobNames(storage), before);
  });
});

describe('RFC 5321 behaviour Exchange Online relies on', () => {
  test('EHLO advertises STARTTLS, then PIPELINING, 8BITMIME, SMTPUTF8, SIZE, ENHANCEDSTATUSCODES', async () => {
    const { client } = await SmtpClient.connect(main.port);
    const plain = await client.command('EHLO client.test');
    assert.match(plain.text, /STARTTLS/);
    await client.starttls({ ca: pki.ca.cert });
    const secure = await client.command('EHLO client.test');
    for (const ext of [
      'PIPELINING',
      '8BITMIME',
      'SMTPUTF8',
      'ENHANCEDSTATUSCODES',
      `SIZE ${150 * 1024 * 1024}`,
    ])
      assert.ok(secure.text.includes(ext), `${ext} advertised`);
    assert.doesNotMatch(secure.text, /STARTTLS|AUTH/);
    client.close();
  });

  test('pipelined transaction, RSET, several transactions per connection, bytes stored as sent', async () => {
    const client = await openSession(main.port, pki);
    const body = message(
      { 'X-MS-Exchange-CrossTenant-Id': contosoId },
      'Grüße aus Köln — 8bit body.\r\n.leading dot\r\n',
    );
    client.write(
      'MAIL FROM:<alice@contoso.com> BODY=8BITMIME\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n',
    );
    assertReply(await client.reply(), 250, '2.1.0', 'pipelined MAIL');
    assertReply(await client.reply(), 250, '2.1.5', 'pipelined RCPT 1');
    assertReply(await client.reply(), 250, '2.1.5', 'pipelined RCPT 2');
    assert.equal((await client.reply()).code, 354);
    client.write(Buffer.concat([Buffer.from(body.replace(/^\./gm, '..'), 'utf8'), Buffer.from('.\r\n')]));
    const first = await client.reply();
    assertReply(first, 250, '2.0.0', 'first message');
    const firstId = /2\.0\.0 (\S+) queued/.exec(first.text)?.[1] ?? '';
    const stored = await storage.inbound.getBlockBlobClient(firstId).downloadToBuffer();
    assert.deepEqual(stored, Buffer.from(body, 'utf8'), 'stored bytes are the bytes sent, dot-unstuffed');

    assertReply(await client.command('MAIL FROM:<alice@contoso.com>'), 250, '2.1.0', 'MAIL');
    assertReply(await client.command('RSET'), 250, '2.0.0', 'RSET');
    assertReply(await client.command('RCPT TO:<b@example.net>'), 503, '5.5.1', 'RCPT after RSET');
    const second = await transaction(
      client,
      'δοκιμή@contoso.com',
      ['用户@例子.广告'],
      message({}, 'UTF-8 everywhere: ✓\r\n'),
      // RFC 6531: UTF-8 addresses only in a transaction that declared SMTPUTF8 (as EXO does).
      'SMTPUTF8',
    );
    assertReply(second.mail, 250, '2.1.0', 'SMTPUTF8 sender');
    assertReply(second.end, 250, '2.0.0', 'second transaction on the same connection');
    assert.notEqual(/2\.0\.0 (\S+) queued/.exec(second.end?.text ?? '')?.[1], firstId);
    assertReply(await client.command('QUIT'), 221, '2.0.0', 'QUIT');
    await client.closed;
  });

  test('too many recipients is 452 4.5.3, and the accepted ones still get the message', async () => {
    const front = await startFront({ storage, pki, limits: { maxRecipients: 3 } });
    try {
      const client = await openSession(front.port, pki);
      const r = await transaction(
        client,
        'alice@contoso.com',
        ['a@x.example', 'b@x.example', 'c@x.example', 'd@x.example'],
        message({}),
      );
      assert.deepEqual(
        r.rcpts.map((x) => x.code),
        [250, 250, 250, 452],
      );
      assertReply(r.rcpts[3], 452, '4.5.3', '4th recipient');
      assertReply(r.end, 250, '2.0.0', 'message to the first three');
      assert.equal(front.accepted[0]?.recipientCount, 3);
      client.close();
    } finally {
      await front.close();
    }
  });
});

describe('health endpoints', () => {
  test('/healthz is alive, /readyz names every check and fails on any', async () => {
    let certificateLoaded = true;
    const health = await startHealthServer(0, '127.0.0.1', {
      storage: async () => ((await storage.inbound.exists()) ? undefined : 'inbound container missing'),
      certificate: () => Promise.resolve(certificateLoaded ? undefined : 'no certificate loaded'),
      config: () => Promise.reject(new Error('tenants.json: [0].id: expected a GUID')),
    });
    const address = health.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    try {
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      const failing = await fetch(`${base}/readyz`);
      assert.equal(failing.status, 503);
      assert.deepEqual(await failing.json(), {
        ready: false,
        checks: { storage: 'ok', certificate: 'ok', config: 'tenants.json: [0].id: expected a GUID' },
      });
      certificateLoaded = false;
      const body = (await (await fetch(`${base}/readyz`)).json()) as { checks: Record<string, string> };
      assert.equal(body.checks.certificate, 'no certificate loaded');
      assert.equal((await fetch(`${base}/nope`)).status, 404);
    } finally {
      health.close();
    }
    const ok = await startHealthServer(0, '127.0.0.1', {
      storage: async () => ((await storage.inbound.exists()) ? undefined : 'inbound container missing'),
    });
    const okAddress = ok.address();
    try {
      const res = await fetch(
        `http://127.0.0.1:${typeof okAddress === 'object' && okAddress ? okAddress.port : 0}/readyz`,
      );
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { ready: true, checks: { storage: 'ok' } });
    } finally {
      ok.close();
    }
  });
});
