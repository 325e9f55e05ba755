/**
 * src/signing/leave-alone.ts: protected mail (Microsoft Purview / IRM, encrypting sensitivity
 * labels) is delivered unchanged with reason `protected`; PGP only when the message itself is
 * signed or encrypted, never because a reply quotes a signed message (issue 18, item 3 and class F).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { checkSignedMessage, signBuffer, TEST_SIGNATURE } from '../../corpus/invariants.js';
import { inlinePgp } from '../../../src/signing/leave-alone.js';

const fixtures = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../test/fixtures/signing',
);
const SIGNATURE_LINE = 'Zoë Tester · Sigrelay QA';

async function sign(name: string) {
  const input = fs.readFileSync(path.join(fixtures, name));
  return { input, ...(await signBuffer(input, TEST_SIGNATURE, { chunkSize: 97 })) };
}

void describe('protected mail is left alone', () => {
  const cases: [string, string][] = [
    ['leave-protected-rpmsg.eml', 'an IRM-protected message (Content-Class: rpmsg.message, message.rpmsg)'],
    [
      'leave-protected-rpmsg-attachment-only.eml',
      'a message.rpmsg attachment without the Content-Class header',
    ],
    ['leave-protected-label-encrypts.eml', 'a sensitivity label whose ContentBits include encryption (0x8)'],
  ];
  for (const [name, what] of cases) {
    void it(`${what} → skipped (protected)`, async () => {
      const { decision } = await sign(name);
      assert.deepEqual([decision.action, decision.reason], ['skipped', 'protected']);
    });
  }
});

void describe('labelled but unencrypted mail is signed', () => {
  for (const name of ['label-marking-only.eml', 'label-encrypting-disabled.eml']) {
    void it(`${name}: the label does not encrypt, so the signature is added`, async () => {
      const { input, decision, output } = await sign(name);
      assert.equal(decision.action, 'signed', decision.reason);
      assert.deepEqual(await checkSignedMessage(input, output, TEST_SIGNATURE), []);
      assert.ok((await simpleParser(output)).text?.includes(SIGNATURE_LINE));
    });
  }
});

void describe('PGP: only a message that is itself signed', () => {
  void it('a plain-text reply quoting a PGP-signed message is signed above the quote', async () => {
    const { input, decision, output } = await sign('reply-quoting-pgp-signed.eml');
    assert.equal(decision.action, 'signed', decision.reason);
    assert.deepEqual(await checkSignedMessage(input, output, TEST_SIGNATURE), []);
    const text = (await simpleParser(output)).text ?? '';
    assert.ok(text.indexOf('the tag checks out') < text.indexOf(SIGNATURE_LINE));
    assert.ok(text.indexOf(SIGNATURE_LINE) < text.indexOf('> -----BEGIN PGP SIGNED MESSAGE-----'));
  });

  void it('an HTML reply quoting a PGP-signed message in a blockquote is signed', async () => {
    const { input, decision, output } = await sign('reply-quoting-pgp-signed-html.eml');
    assert.equal(decision.action, 'signed', decision.reason);
    assert.deepEqual(await checkSignedMessage(input, output, TEST_SIGNATURE), []);
  });

  void it('an HTML message that is itself clear-signed (armor under a styled head) is left alone', async () => {
    const { decision } = await sign('leave-pgp-inline-html.eml');
    assert.deepEqual([decision.action, decision.reason], ['skipped', 'pgp']);
  });

  void it('the armor counts only with nothing visible above it', () => {
    assert.equal(inlinePgp('\r\n-----BEGIN PGP MESSAGE-----\r\nhQEMA…'), true);
    assert.equal(inlinePgp('<div dir="ltr">&nbsp;<pre>-----BEGIN PGP SIGNED MESSAGE-----'), true);
    assert.equal(inlinePgp('Hi,\n\nsee below.\n\n-----BEGIN PGP SIGNED MESSAGE-----'), false);
    assert.equal(inlinePgp('> -----BEGIN PGP SIGNED MESSAGE-----'), false);
    assert.equal(inlinePgp('Nothing signed here.'), false);
  });
});
