/**
 * `sigrelay doctor` against the Exchange Online stand-in (src/standin): a real SMTP server on
 * loopback with real TLS and certificates made here. Each broken setup is found, with its remedy,
 * and nothing is ever sent.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { loadSettings, loadTenants, projectRoot, sampleConfigDir } from '../../src/config/index.js';
import { createCa, createDevPki, issueCertificate } from '../../src/devtls/index.js';
import { exitCodeOf, runDoctor, type Check } from '../../src/doctor/index.js';
import { ExchangeStandin } from '../../src/standin/index.js';

const cli = path.join(projectRoot, 'dist', 'src', 'cli', 'main.js');

/** Asynchronous, so the stand-in in this process can answer while the command runs. */
function sigrelay(env: Record<string, string>, ...args: string[]) {
  return new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ status: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('sigrelay doctor against the Exchange stand-in', () => {
  let dir: string;
  let standin: ExchangeStandin;
  let env: Record<string, string>;
  const pki = createDevPki();
  const tenants = loadTenants(sampleConfigDir);

  const write = async (name: string, text: string) => {
    const file = path.join(dir, name);
    await fs.writeFile(file, text);
    return file;
  };
  const find = (checks: Check[], name: string) => {
    const c = checks.find((x) => x.name === name);
    assert.ok(c, `${name} in ${checks.map((x) => x.name).join(', ')}`);
    return c;
  };
  const doctor = async (overrides: Record<string, string> = {}) =>
    runDoctor({
      settings: loadSettings({ ...env, ...overrides }),
      tenants: (await tenants).tenants,
      smartHost: 'sigrelay.local',
    });

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-doctor-'));
    standin = new ExchangeStandin({
      tls: { cert: pki.standin.cert, key: pki.standin.key, ca: pki.ca.cert },
      outbox: path.join(dir, 'outbox'),
    });
    const port = await standin.listen(0);
    env = {
      SIGRELAY_CONFIG: sampleConfigDir,
      SIGRELAY_DELIVERY_HOST: `127.0.0.1:${port}`,
      SIGRELAY_DELIVERY_CA: await write('ca.crt', pki.ca.cert),
      SIGRELAY_DELIVERY_CLIENT_CERT: await write('client.crt', pki.client.cert),
      SIGRELAY_DELIVERY_CLIENT_KEY: await write('client.key', pki.client.key),
      SIGRELAY_TLS_CERT: await write('front.crt', pki.front.cert),
      SIGRELAY_TLS_KEY: await write('front.key', pki.front.key),
    };
  });
  after(async () => {
    await standin?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    standin.behaviour = {};
  });

  it('a tenant set up right passes every check, and the session sends nothing', async () => {
    const checks = await doctor();
    const bad = checks.filter((c) => c.status === 'fail' || c.status === 'warn');
    assert.deepEqual(bad, []);
    assert.equal(exitCodeOf(checks), 0);
    const session = find(checks, 'return-leg.session');
    assert.equal(session.status, 'ok');
    assert.match(
      session.detail,
      /accepted MAIL FROM and RCPT TO \(TLSv1\.[23], client certificate presented\)/,
    );
    await assert.rejects(
      fs.access(path.join(dir, 'outbox', 'received.log')),
      'no message reached the stand-in',
    );
  });

  it('a client certificate from a CA Exchange does not trust: 5.7.64 at MAIL FROM, explained, exit 2', async () => {
    const stranger = issueCertificate(createCa('not trusted'), {
      commonName: 'relay.contoso.com',
      usage: 'client',
    });
    const checks = await doctor({
      SIGRELAY_DELIVERY_CLIENT_CERT: await write('stranger.crt', stranger.cert),
      SIGRELAY_DELIVERY_CLIENT_KEY: await write('stranger.key', stranger.key),
    });
    const session = find(checks, 'return-leg.session');
    assert.equal(session.status, 'fail');
    assert.match(session.detail, /^MAIL FROM:<postmaster@contoso\.com>: 550 5\.7\.64 TenantAttribution/);
    assert.match(session.explanation ?? '', /^TenantAttribution/);
    assert.match(session.remedy ?? '', /sigrelay doctor/);
    assert.match(session.source ?? '', /relay-access-denied-smtp/);
    assert.equal(find(checks, 'certificate.client.chain').status, 'fail');
    assert.equal(exitCodeOf(checks), 2);
  });

  it('a client certificate for another name fails the name check with the TlsSenderCertificateName remedy', async () => {
    const other = issueCertificate(pki.ca, { commonName: 'relay.fabrikam.com', usage: 'client' });
    const checks = await doctor({
      SIGRELAY_DELIVERY_CLIENT_CERT: await write('other.crt', other.cert),
      SIGRELAY_DELIVERY_CLIENT_KEY: await write('other.key', other.key),
    });
    const name = find(checks, 'certificate.client.name');
    assert.equal(name.status, 'fail');
    assert.match(name.detail, /relay\.fabrikam\.com do not cover relay\.contoso\.com/);
    assert.match(name.remedy ?? '', /TlsSenderCertificateName/);
  });

  it('an endpoint whose certificate we cannot verify is a TLS failure, explained', async () => {
    const checks = await doctor({
      SIGRELAY_DELIVERY_CA: await write('other-ca.crt', createCa('elsewhere').cert),
    });
    const session = find(checks, 'return-leg.session');
    assert.equal(session.status, 'fail');
    assert.match(session.detail, /^TLS handshake: /);
    assert.match(session.explanation ?? '', /^TLS or certificate failure/);
  });

  it('an endpoint that refuses the session reports its reply', async () => {
    standin.behaviour = { refuseConnections: true };
    const checks = await doctor();
    const session = find(checks, 'return-leg.session');
    assert.equal(session.status, 'fail');
    assert.match(session.detail, /421/);
  });

  it('the front certificate must name the smart host the outbound connector validates', async () => {
    const checks = await runDoctor({
      settings: loadSettings(env),
      tenants: [],
      smartHost: 'smtp.sigrelay.contoso.com',
    });
    const name = find(checks, 'certificate.front.name');
    assert.equal(name.status, 'fail');
    assert.match(name.remedy ?? '', /smart host/);
  });

  it('the front probe: STARTTLS and a certificate for the smart host pass; another name fails with the connector remedy', async () => {
    const port = Number(env.SIGRELAY_DELIVERY_HOST?.split(':')[1]);
    const probeFront = async (smartHost: string) =>
      find(
        await runDoctor({
          settings: loadSettings(env),
          tenants: [],
          smartHost,
          front: { host: '127.0.0.1', port },
        }),
        'front.session',
      );
    // The stand-in plays our front here: its certificate names contoso-com.mail.protection.outlook.com.
    const ok = await probeFront('contoso-com.mail.protection.outlook.com');
    assert.equal(ok.status, 'ok', ok.detail);
    const wrong = await probeFront('smtp.sigrelay.contoso.com');
    assert.equal(wrong.status, 'fail');
    assert.match(wrong.detail, /TLS handshake/);
    assert.match(wrong.remedy ?? '', /TlsDomain smtp\.sigrelay\.contoso\.com/);
  });

  it('the command prints JSON with one entry per check and exits with the worst status', async () => {
    const run = await sigrelay(env, 'doctor', '--json', '--smart-host', 'sigrelay.local');
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const report = JSON.parse(run.stdout) as { exitCode: number; checks: Check[] };
    assert.equal(report.exitCode, 0);
    assert.ok(report.checks.some((c) => c.name === 'return-leg.session' && c.status === 'ok'));
  });

  it('an unknown --tenant is a usage error (exit 2)', async () => {
    const run = await sigrelay(env, 'doctor', '--tenant', '00000000-0000-0000-0000-000000000000');
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^sigrelay doctor: unknown tenant/);
  });
});
