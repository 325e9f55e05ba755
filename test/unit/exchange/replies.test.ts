/**
 * The Exchange reply catalogue (src/exchange/replies.ts): replies as Exchange Online words them
 * reach the right explanation, and every explanation carries a remedy and a source.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../../../src/config/index.js';
import { catalogue, enhancedStatusOf, explainReply, explainTraceEvent } from '../../../src/exchange/index.js';

const samples: ReadonlyArray<readonly [string, string]> = [
  ['550 5.7.64 TenantAttribution; Relay Access Denied [AM0PR01.prod.outlook.com]', 'tenant-attribution'],
  [
    '550 5.7.64 Relay Access Denied ATTR36. For more details please refer to KB 3169958',
    'tenant-attribution',
  ],
  ['451 4.4.62 Mail sent to the wrong Office 365 region. ATTR35.', 'wrong-region'],
  ['554 5.4.14 Hop count exceeded - possible mail loop ATTR34', 'loop'],
  [
    '550 5.7.68 TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources',
    'direct-send-rejected',
  ],
  ['550;5.7.711 Access denied, bad inbound connector. AS(2204)', 'connector-blocked'],
  ['451 4.7.500 Server busy. Please try again later from [203.0.113.9]. (S77719)', 'throttled'],
  ['550 5.7.606 Access denied, banned sending IP [203.0.113.9].', 'banned-ip'],
  ['550 5.7.705 Access denied, tenant has exceeded threshold.', 'tenant-blocked'],
  [
    '454 4.7.0 Failed to establish appropriate TLS channel ATTR41: CertificateExpired: Access Denied',
    'tls-certificate',
  ],
  [
    '450 4.4.317 Cannot connect to remote server [Message=451 5.7.3 STARTTLS is required to send mail]',
    'tls-certificate',
  ],
  ['self-signed certificate in certificate chain', 'tls-certificate'],
  ['550 5.4.1 Recipient address rejected: Access denied. AS(201806281)', 'recipient-rejected'],
  [
    'Inbound connector for this service offering is created in a disabled state. Contact Support to enable it.',
    'inbound-connector-disabled',
  ],
  ['connect ECONNREFUSED 127.0.0.1:25', 'endpoint-unreachable'],
  ['getaddrinfo ENOTFOUND contoso-com.mail.protection.outlook.com', 'endpoint-unresolved'],
];

for (const [reply, id] of samples)
  void test(`"${reply.slice(0, 60)}…" is explained as ${id}`, () => {
    assert.equal(explainReply(reply)?.id, id);
  });

void test('a reply the catalogue does not know has no explanation (the raw reply stands alone)', () => {
  assert.equal(explainReply('250 2.0.0 OK'), undefined);
  assert.equal(explainReply(undefined), undefined);
});

void test('the enhanced status code is read after the reply code, also in the "550;5.7.711" form', () => {
  assert.equal(enhancedStatusOf('550 5.7.64 TenantAttribution'), '5.7.64');
  assert.equal(enhancedStatusOf('550;5.7.711 Access denied'), '5.7.711');
  assert.equal(enhancedStatusOf('Connection closed'), undefined);
});

void test('every explanation says whether it is permanent, what to do, and where it comes from', () => {
  const ids = new Set<string>();
  for (const e of catalogue()) {
    assert.ok(!ids.has(e.id), `${e.id} is unique`);
    ids.add(e.id);
    assert.equal(typeof e.permanent, 'boolean');
    assert.ok(e.meaning.length > 20 && e.remedy.length > 20, e.id);
    assert.match(e.source, /^https:\/\//, e.id);
    if (e.microsoft) assert.match(e.source, /(microsoft|office)\.com\//, `${e.id} cites a Microsoft page`);
  }
  for (const [, id] of samples) assert.ok(ids.has(id), id);
});

void test('the trace explains failed delivery attempts, hand-overs and dead letters, never a success', () => {
  const refused = { status: 'permanent', response: '550 5.7.64 TenantAttribution; Relay Access Denied' };
  assert.equal(explainTraceEvent('delivery-attempt', refused)?.id, 'tenant-attribution');
  assert.equal(
    explainTraceEvent('delivery-attempt', { status: 'delivered', response: '250 2.6.0 Queued' }),
    undefined,
  );
  assert.equal(
    explainTraceEvent('handed-over', { reason: 'temporary', response: '451 4.4.62 wrong Office 365 region' })
      ?.id,
    'wrong-region',
  );
  assert.equal(explainTraceEvent('dead-lettered', { reason: '554 5.4.14 Hop count exceeded' })?.id, 'loop');
  assert.equal(explainTraceEvent('delivered', { response: '550 5.7.64 in a success event' }), undefined);
});

void test('docs/deploy.md "When mail does not flow" has every catalogue entry with its remedy and source', () => {
  const docs = fs.readFileSync(path.join(projectRoot, 'docs', 'deploy.md'), 'utf8');
  const page = docs.slice(docs.indexOf('## 11. When mail does not flow'));
  for (const e of catalogue()) {
    const at = page.indexOf(`<a id="${e.id}"></a>`);
    assert.ok(at > 0, `${e.id} has an entry`);
    const entry = page.slice(at, page.indexOf('\n### ', at) > 0 ? page.indexOf('\n### ', at) : undefined);
    assert.ok(entry.includes(e.remedy), `${e.id}: the remedy as in the catalogue`);
    assert.ok(entry.includes(`<${e.source}>`), `${e.id}: the source`);
  }
});
