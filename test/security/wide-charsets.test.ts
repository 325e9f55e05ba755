import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import iconv from 'iconv-lite';
import { simpleParser } from 'mailparser';
import { signBuffer, TEST_SIGNATURE } from '../corpus/invariants.js';

/**
 * Issue 19, finding 6 (last sentence): a UTF-16 part with an odd byte count lost its last byte
 * silently when it was signed. Every byte is kept, or the message is left alone with a reason.
 */
function message(charset: string, body: Buffer): Buffer {
  return Buffer.from(
    [
      'From: alice@contoso.com',
      'To: bob@example.net',
      'Subject: wide',
      'MIME-Version: 1.0',
      `Content-Type: text/plain; charset=${charset}`,
      'Content-Transfer-Encoding: base64',
      '',
      body.toString('base64'),
      '',
    ].join('\r\n'),
  );
}

describe('wide charsets keep every byte', () => {
  for (const [charset, oddTail] of [
    ['utf-16le', Buffer.from([0x43])],
    ['utf-16be', Buffer.from([0x00])],
    ['utf-16', Buffer.from([0x43])],
    ['utf-32le', Buffer.from([0x43, 0x00])],
  ] as const) {
    it(`a ${charset} part with a trailing partial code unit is left alone, byte for byte`, async () => {
      const input = message(charset, Buffer.concat([iconv.encode('Hello Bob', charset), oddTail]));
      const { decision, output } = await signBuffer(input, TEST_SIGNATURE);
      assert.deepEqual([decision.action, decision.reason], ['skipped', 'truncated-wide-charset']);
      assert.deepEqual(output, input);
    });
  }

  it('a UTF-16LE part with an unpaired surrogate is left alone, byte for byte', async () => {
    const input = message(
      'utf-16le',
      Buffer.concat([iconv.encode('Hi ', 'utf-16le'), Buffer.from([0x3d, 0xd8])]),
    );
    const { decision, output } = await signBuffer(input, TEST_SIGNATURE);
    assert.deepEqual([decision.action, decision.reason], ['skipped', 'undecodable-body']);
    assert.deepEqual(output, input);
  });

  it('a whole UTF-16LE part is signed and keeps all of its text', async () => {
    const text = 'Grüße, Bob — 👋 until Friday.';
    const input = message('utf-16le', iconv.encode(text, 'utf-16le'));
    const { decision, output } = await signBuffer(input, TEST_SIGNATURE);
    assert.equal(decision.action, 'signed', JSON.stringify(decision));
    const parsed = await simpleParser(output);
    assert.ok(parsed.text?.includes(text), 'the original text, every character of it');
    assert.ok(parsed.text?.includes('Zoë Tester'), 'and the signature');
  });
});
