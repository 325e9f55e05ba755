/**
 * The doctor's certificate checks (src/doctor/certificates.ts) on certificates made in the test:
 * expiry thresholds, names (with wildcards) and the chain to a trust anchor.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { createCa, issueCertificate } from '../../../src/devtls/index.js';
import { certificateCovers, expiryFailDays, expiryWarnDays } from '../../../src/doctor/index.js';
import { checkCertificate } from '../../../src/doctor/certificates.js';

const ca = createCa();
const anchor = [new X509Certificate(ca.cert)];
const days = 400;
const client = issueCertificate(ca, { commonName: 'relay.contoso.com', usage: 'client', days });
const dayMs = 24 * 60 * 60 * 1000;

function check(
  part: string,
  options: { now?: Date; pem?: string; expectedName?: string; anchors?: X509Certificate[] },
) {
  const checks = checkCertificate({
    scope: 't',
    role: 'client',
    file: 'client.crt',
    pem: options.pem ?? client.cert,
    expectedName: options.expectedName ?? 'relay.contoso.com',
    expectedNameSource: 'certificate.name',
    extraAnchors: options.anchors ?? anchor,
    now: options.now,
  });
  const found = checks.find((c) => c.name === `certificate.client.${part}`);
  assert.ok(found, part);
  return found;
}

const daysBeforeExpiry = (n: number) => new Date(Date.now() + (days - n) * dayMs);

void test('a certificate with months to run passes', () => {
  assert.equal(check('expiry', {}).status, 'ok');
  assert.equal(check('chain', {}).status, 'ok');
  assert.equal(check('name', {}).status, 'ok');
});

void test(`under ${expiryWarnDays} days to expiry is a warning with the remedy`, () => {
  const c = check('expiry', { now: daysBeforeExpiry(expiryWarnDays - 2) });
  assert.equal(c.status, 'warn');
  assert.match(c.remedy ?? '', /Renew/);
});

void test(`under ${expiryFailDays} days, or expired, is a failure`, () => {
  assert.equal(check('expiry', { now: daysBeforeExpiry(expiryFailDays - 2) }).status, 'fail');
  const expired = check('expiry', { now: daysBeforeExpiry(-3) });
  assert.equal(expired.status, 'fail');
  assert.match(expired.detail, /expired on/);
});

void test('a self-signed certificate fails the chain check (Exchange does not trust it)', () => {
  const c = check('chain', { pem: ca.cert, anchors: [] });
  assert.equal(c.status, 'fail');
  assert.match(c.detail, /self-signed/);
});

void test('a certificate whose issuer is neither in the file nor trusted fails, naming the missing issuer', () => {
  const c = check('chain', { anchors: [] });
  assert.equal(c.status, 'fail');
  assert.match(c.detail, /issuer .* neither in the file nor a trusted root/);
});

void test('a name the certificate does not carry fails with the 5.7.64 remedy', () => {
  const c = check('name', { expectedName: 'relay.fabrikam.com' });
  assert.equal(c.status, 'fail');
  assert.match(c.remedy ?? '', /5\.7\.64/);
});

void test('a wildcard covers exactly one label', () => {
  assert.equal(certificateCovers(['*.contoso.com'], 'relay.contoso.com'), true);
  assert.equal(certificateCovers(['*.contoso.com'], 'a.relay.contoso.com'), false);
  assert.equal(certificateCovers(['*.contoso.com'], 'contoso.com'), false);
});
