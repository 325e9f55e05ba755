/**
 * `sigrelay doctor` against a real Postfix on loopback that refuses the way Exchange Online does:
 * an untrusted (self-signed) or expired client certificate gets `550 5.7.64 TenantAttribution;
 * Relay Access Denied` at RCPT TO (permit_tls_all_clientcerts, else an access map), and a server
 * that speaks only old TLS fails the handshake. Certificates are made here (src/devtls).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSettings, loadTenants, sampleConfigDir } from '../../src/config/index.js';
import { createCa, createDevPki, issueCertificate, type CertPair } from '../../src/devtls/index.js';
import { exitCodeOf, runDoctor, type Check } from '../../src/doctor/index.js';
import { postfixUnavailable, startPostfix, type PostfixInstance } from '../helpers/postfix.js';

const skip = postfixUnavailable();
if (skip) console.log(`# doctor against Postfix skipped: ${skip}`);

const pki = createDevPki();
const dayMs = 24 * 60 * 60 * 1000;

/** Postfix playing a tenant endpoint: relays only for a client certificate our dev CA signed. */
function endpointSettings(extra: Record<string, string> = {}): Record<string, string> {
  return {
    smtpd_tls_security_level: 'may',
    smtpd_tls_cert_file: '$config_directory/server.crt',
    smtpd_tls_key_file: '$config_directory/server.key',
    smtpd_tls_CAfile: '$config_directory/ca.crt',
    smtpd_tls_ask_ccert: 'yes',
    smtpd_relay_restrictions:
      'permit_tls_all_clientcerts, check_recipient_access regexp:$config_directory/attribution.regexp, reject',
    ...extra,
  };
}

const endpointFiles = {
  'server.crt': pki.standin.cert,
  'server.key': pki.standin.key,
  'ca.crt': pki.ca.cert,
  'attribution.regexp': '/./ 550 5.7.64 TenantAttribution; Relay Access Denied\n',
};

describe('sigrelay doctor against a real Postfix', { skip }, () => {
  let endpoint: PostfixInstance;
  let oldTls: PostfixInstance;
  let dir: string;
  const tenants = loadTenants(sampleConfigDir);

  const write = async (name: string, text: string) => {
    const file = path.join(dir, name);
    await fs.writeFile(file, text);
    return file;
  };
  const find = (checks: Check[], name: string) => {
    const c = checks.find((x) => x.name === name);
    assert.ok(c, name);
    return c;
  };
  async function doctorWith(port: number, client: CertPair): Promise<Check[]> {
    const tag = `${port}-${Math.random().toString(16).slice(2)}`;
    return runDoctor({
      settings: loadSettings({
        SIGRELAY_CONFIG: sampleConfigDir,
        SIGRELAY_DELIVERY_HOST: `127.0.0.1:${port}`,
        SIGRELAY_DELIVERY_CA: await write('ca.crt', pki.ca.cert),
        SIGRELAY_DELIVERY_CLIENT_CERT: await write(`client-${tag}.crt`, client.cert),
        SIGRELAY_DELIVERY_CLIENT_KEY: await write(`client-${tag}.key`, client.key),
      }),
      tenants: (await tenants).tenants,
    });
  }

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-doctor-postfix-'));
    endpoint = await startPostfix(endpointSettings(), endpointFiles);
    oldTls = await startPostfix(
      endpointSettings({ smtpd_tls_protocols: '!TLSv1.2, !TLSv1.3' }),
      endpointFiles,
    );
  });
  after(async () => {
    await endpoint?.stop();
    await oldTls?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('a client certificate the endpoint trusts: MAIL FROM and RCPT TO accepted, nothing sent', async () => {
    const checks = await doctorWith(endpoint.port, pki.client);
    const session = find(checks, 'return-leg.session');
    assert.equal(session.status, 'ok', `${session.detail}\n${endpoint.log()}`);
    assert.match(session.detail, /client certificate presented/);
    assert.doesNotMatch(endpoint.log(), /queued as|: to=</, 'Postfix queued nothing');
  });

  it('a self-signed client certificate: 550 5.7.64 at RCPT TO, explained, and the chain check says why', async () => {
    const selfSigned = createCa('relay.contoso.com');
    const checks = await doctorWith(endpoint.port, selfSigned);
    const session = find(checks, 'return-leg.session');
    assert.equal(session.status, 'fail');
    assert.match(
      session.detail,
      /^RCPT TO:<postmaster@contoso\.com>: 550 5\.7\.64 .*TenantAttribution; Relay Access Denied/,
    );
    assert.match(session.explanation ?? '', /^TenantAttribution/);
    assert.match(session.source ?? '', /learn\.microsoft\.com/);
    assert.match(find(checks, 'certificate.client.chain').detail, /self-signed/);
    assert.equal(exitCodeOf(checks), 2);
  });

  it('an expired client certificate: 550 5.7.64 at RCPT TO, and the expiry check says since when', async () => {
    const expired = issueCertificate(pki.ca, {
      commonName: 'relay.contoso.com',
      usage: 'client',
      validFrom: new Date(Date.now() - 400 * dayMs),
      days: 365,
    });
    const checks = await doctorWith(endpoint.port, expired);
    const session = find(checks, 'return-leg.session');
    assert.equal(session.status, 'fail');
    assert.match(session.detail, /550 5\.7\.64 .*TenantAttribution/);
    const expiry = find(checks, 'certificate.client.expiry');
    assert.equal(expiry.status, 'fail');
    assert.match(expiry.detail, /^expired on /);
  });

  it('an endpoint that speaks only TLS older than 1.2: the handshake fails, explained as a TLS failure', async () => {
    const checks = await doctorWith(oldTls.port, pki.client);
    const session = find(checks, 'return-leg.session');
    assert.equal(session.status, 'fail');
    assert.match(session.detail, /^TLS handshake: /);
    assert.match(session.explanation ?? '', /^TLS or certificate failure/);
  });
});
