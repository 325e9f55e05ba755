/**
 * Hand-made fixtures, one per client style, MIME shape, charset and leave-alone category: exact
 * placement, exactly one signature, every other part byte-identical (checked by the same
 * invariants as the corpus run, with mailparser as the independent reader).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as libqp from 'libqp';
import { simpleParser } from 'mailparser';
import { checkSignedMessage, signBuffer, TEST_SIGNATURE, walk } from '../../corpus/invariants.js';

const fixtures = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../test/fixtures/signing',
);
const BLOCK = `<div class="sigrelay-signature">${TEST_SIGNATURE.html}</div>`;
const SIGNATURE_LINE = 'Zoë Tester · Sigrelay QA';

async function sign(name: string) {
  const input = fs.readFileSync(path.join(fixtures, name));
  const { decision, output } = await signBuffer(input, TEST_SIGNATURE, { chunkSize: 97 });
  return { input, decision, output };
}

async function signedOk(name: string) {
  const result = await sign(name);
  assert.equal(result.decision.action, 'signed', `${name}: ${result.decision.reason}`);
  assert.deepEqual(await checkSignedMessage(result.input, result.output, TEST_SIGNATURE), []);
  const parsed = await simpleParser(result.output);
  const html = typeof parsed.html === 'string' ? parsed.html : '';
  return { ...result, html, text: parsed.text ?? '', parsed };
}

/** The signature sits after `newText` and directly before `quoteStart`, exactly once. */
function assertBetween(body: string, signature: string, newText: string, quoteStart: string) {
  const at = body.indexOf(signature);
  assert.ok(at >= 0, 'signature missing');
  assert.equal(body.indexOf(signature, at + 1), -1, 'signature twice');
  assert.ok(body.indexOf(newText) < at, 'signature above the new text');
  assert.ok(body.indexOf(quoteStart) > at, 'signature below the quote');
  assert.ok(
    body
      .slice(at + signature.length)
      .trimStart()
      .startsWith(quoteStart),
    'signature not directly above the quote',
  );
}

void describe('placement under the newest reply', () => {
  void it('Outlook desktop: above the border-top reply header, text above From:/Sent:', async () => {
    const { html, text } = await signedOk('outlook-desktop-reply.eml');
    assertBetween(html, BLOCK, 'Thanks Bob', '<div style="border:none;border-top:solid #E1E1E1');
    assertBetween(text, SIGNATURE_LINE, 'Thanks Bob', '+1 555 0100');
    assert.ok(text.indexOf(SIGNATURE_LINE) < text.indexOf('From: Bob'));
    assert.ok(html.includes('café on me'), 'windows-1252 content decoded intact');
  });

  void it('OWA: above appendonsend, text above the underscore rule (base64 utf-8)', async () => {
    const { html, text } = await signedOk('owa-reply.eml');
    assertBetween(html, BLOCK, 'Sounds good — noon?', '<div id="appendonsend">');
    assert.ok(text.indexOf(SIGNATURE_LINE) < text.indexOf('________________'));
    assert.ok(text.indexOf('Sounds good') < text.indexOf(SIGNATURE_LINE));
  });

  void it('Gmail: above gmail_quote, text above "On … wrote:" (LF line endings)', async () => {
    const { html, text, output } = await signedOk('gmail-reply.eml');
    assertBetween(html, BLOCK, 'Booked it.', '<div class="gmail_quote gmail_quote_container">');
    assert.ok(text.indexOf(SIGNATURE_LINE) < text.indexOf('On Mon, Jun 3'));
    assert.ok(!output.includes('\r\n'), 'LF input stays LF');
  });

  void it('Apple Mail: above blockquote type=cite inside multipart/related', async () => {
    const { html, text } = await signedOk('apple-reply.eml');
    assertBetween(html, BLOCK, 'Nice one!', '<blockquote type="cite">');
    assert.ok(text.indexOf(SIGNATURE_LINE) < text.indexOf('> On 3 Jun'));
  });

  void it('Thunderbird: above moz-cite-prefix; 8bit UTF-8 becomes quoted-printable', async () => {
    const { html, output } = await signedOk('thunderbird-reply.eml');
    assertBetween(html, BLOCK, 'Looks fine to me.', '<div class="moz-cite-prefix">');
    assert.ok(!output.some((byte) => byte > 0x7f), 'no raw 8-bit bytes after signing');
  });

  void it('Yahoo (iso-8859-1, 8bit): above yahoo_quoted, accents intact', async () => {
    const { html } = await signedOk('yahoo-reply-latin1.eml');
    assertBetween(html, BLOCK, 'Très bien, à demain.', '<div id="yahoo_quoted_123"');
  });

  void it('Proton: above protonmail_quote', async () => {
    const { html } = await signedOk('proton-reply.eml');
    assertBetween(html, BLOCK, 'Done.', '<div class="protonmail_quote">');
  });

  void it('Exchange x_ prefixed quote classes count as markers', async () => {
    const { html, output } = await signedOk('exchange-x-prefixed-reply.eml');
    assertBetween(html, BLOCK, 'Forwarding with my notes.', '<div class="x_gmail_quote">');
    assert.match(
      output.toString('latin1'),
      /Content-Type: text\/html; charset=utf-8/i,
      'us-ascii part moved to UTF-8',
    );
  });
});

void describe('new messages', () => {
  void it('HTML in multipart/mixed: before </body>; attachments and attached message untouched', async () => {
    const { html, parsed } = await signedOk('new-html-with-attachment.eml');
    assert.ok(html.endsWith(`${BLOCK}</body></html>`));
    const notes = parsed.attachments.find((a) => a.filename === 'notes.txt');
    assert.ok(notes && !notes.content.toString().includes('Zoë'));
  });

  void it('ISO-2022-JP text is transcoded to UTF-8 with the signature at the end', async () => {
    const { text, output } = await signedOk('new-iso2022jp.eml');
    assert.ok(text.startsWith('こんにちは、会議は明日です。'));
    assert.ok(text.trimEnd().endsWith('+1 555 0100'));
    assert.match(output.toString('latin1'), /charset=utf-8/i);
  });

  void it('a line over 998 octets makes a 7bit part quoted-printable', async () => {
    const { output } = await signedOk('new-plain-lf-long-line.eml');
    assert.match(output.toString('latin1'), /Content-Transfer-Encoding: quoted-printable/);
    assert.ok(
      output
        .toString('latin1')
        .split('\n')
        .every((line) => line.length <= 998),
    );
  });

  void it('bottom placement signs below the whole thread', async () => {
    const input = fs.readFileSync(path.join(fixtures, 'gmail-reply.eml'));
    const { decision, output } = await signBuffer(input, { ...TEST_SIGNATURE, placement: 'bottom' });
    assert.equal(decision.action, 'signed');
    const parsed = await simpleParser(output);
    const html = typeof parsed.html === 'string' ? parsed.html : '';
    assert.ok(html.indexOf(BLOCK) > html.indexOf('Can you book the train?'));
  });
});

void describe('once only', () => {
  void it('a signed output is not signed again (already processed)', async () => {
    const { output } = await signedOk('gmail-reply.eml');
    const again = await signBuffer(output, TEST_SIGNATURE);
    assert.deepEqual([again.decision.action, again.decision.reason], ['skipped', 'already-processed']);
  });

  void it('our block in the new part without the header is recognised (already-signed)', async () => {
    const { output } = await signedOk('gmail-reply.eml');
    const stripped = Buffer.from(
      output.toString('latin1').replace(/^X-Sigrelay-Processed: true\n/, ''),
      'latin1',
    );
    const again = await signBuffer(stripped, TEST_SIGNATURE);
    assert.deepEqual([again.decision.action, again.decision.reason], ['skipped', 'already-signed']);
  });
});

void describe('leave alone', () => {
  const cases: [string, string][] = [
    ['leave-smime-signed.eml', 'smime'],
    ['leave-smime-encrypted.eml', 'smime'],
    ['leave-pgp-mime.eml', 'pgp'],
    ['leave-pgp-inline.eml', 'pgp'],
    ['leave-calendar.eml', 'calendar'],
    ['leave-report-dsn.eml', 'report'],
    ['leave-tnef.eml', 'tnef'],
    ['leave-auto-reply.eml', 'auto-submitted'],
    ['leave-inbox-rule.eml', 'auto-reply'],
    ['leave-processed.eml', 'already-processed'],
  ];
  for (const [name, reason] of cases) {
    void it(`${name} → skipped (${reason})`, async () => {
      const { decision } = await sign(name);
      assert.deepEqual([decision.action, decision.reason], ['skipped', reason]);
    });
  }

  void it('messages above maxBytes are skipped as too-large', async () => {
    const input = fs.readFileSync(path.join(fixtures, 'owa-reply.eml'));
    const { decision } = await signBuffer(input, TEST_SIGNATURE, { maxBytes: 100 });
    assert.deepEqual([decision.action, decision.reason], ['skipped', 'too-large']);
  });
});

void describe('MIME edge cases', () => {
  void it('a part with an empty header block gets its new headers and no blank first line', async () => {
    const { output } = await signedOk('regression-empty-part-header-block.eml');
    const raw = output.toString('latin1');
    const start = raw.indexOf('--b1\r\n') + 6;
    const part = raw.slice(start, raw.indexOf('\r\n--b1\r\n', start));
    const [headers, body] = [
      part.slice(0, part.indexOf('\r\n\r\n')),
      part.slice(part.indexOf('\r\n\r\n') + 4),
    ];
    assert.match(headers, /^Content-/);
    assert.ok(body.startsWith('This part has no header block:'), JSON.stringify(body.slice(0, 40)));
  });
});

void describe('bottom-posting', () => {
  void it('Thunderbird bottom-posted reply: signed at the end of the new text, in text and HTML', async () => {
    const { html, text } = await signedOk('thunderbird-bottom-posted.eml');
    assert.ok(html.indexOf(BLOCK) > html.indexOf('Ready to go.'), 'HTML signature above the new text');
    assert.ok(html.indexOf(BLOCK) > html.indexOf('</blockquote>'));
    assert.ok(
      text.indexOf(SIGNATURE_LINE) > text.indexOf('Ready to go.'),
      'text signature above the new text',
    );
    assert.ok(text.trimEnd().endsWith('+1 555 0100'));
  });

  void it('an inline (interleaved) plain-text reply is signed after the last answer', async () => {
    const { text } = await signedOk('plain-bottom-posted-inline.eml');
    assert.ok(text.indexOf(SIGNATURE_LINE) > text.indexOf('two shards.'));
    assert.ok(text.indexOf('> Can we split it?') < text.indexOf(SIGNATURE_LINE));
  });
});

void describe('a personal signature below the quote (Gmail default)', () => {
  void it('is not new text: the reply is signed above the quote', async () => {
    const { html, text } = await signedOk('gmail-signature-below-quote.eml');
    assertBetween(html, BLOCK, 'steps to reproduce', '<div class="gmail_quote">');
    assert.ok(text.indexOf(SIGNATURE_LINE) < text.indexOf('On Mon, Jun 3'));
  });
});

void describe('earlier signatures in the quoted thread', () => {
  void it('our signature inside the quoted thread does not count as already signed', async () => {
    const { html, text } = await signedOk('outlook-fr-reply-signed-thread.eml');
    assertBetween(html, BLOCK, 'je valide le devis', '<div style="border:none;border-top:solid #E1E1E1');
    const first = text.indexOf(SIGNATURE_LINE);
    assert.ok(first < text.indexOf('De\u00a0: Bob Martin'), 'text signed above the French header block');
    assert.ok(text.indexOf('Parfait') < first);
  });
});

void describe('Apple split HTML bodies', () => {
  /** Raw bytes of each part, from the independent walker. */
  async function parts(message: Buffer) {
    return (await walk(message)).nodes;
  }

  void it('a new message is signed at the end of the last HTML fragment; the others are untouched', async () => {
    const { input, output, text } = await signedOk('apple-split-html.eml');
    const [before, after] = [await parts(input), await parts(output)];
    const htmlParts = after.filter((node) => node.contentType === 'text/html');
    assert.equal(htmlParts.length, 2);
    const [first, last] = htmlParts.map((node) => libqp.decode(node.body).toString('utf8'));
    const firstIndex = after.findIndex((node) => node.contentType === 'text/html');
    assert.ok(
      before[firstIndex]?.body.equals(after[firstIndex]?.body ?? Buffer.alloc(0)),
      'first fragment changed',
    );
    assert.ok(!first?.includes('sigrelay-signature'));
    assert.match(last ?? '', /last quarter\.<\/div><div class="sigrelay-signature">/);
    assert.equal(text.split(SIGNATURE_LINE).length, 2, 'text twin signed once');
    const image = (node: { contentType: string }) => node.contentType === 'image/png';
    assert.ok(before.find(image)?.body.equals(after.find(image)?.body ?? Buffer.alloc(0)), 'image changed');
  });

  void it('a reply is signed above the quote of the last fragment', async () => {
    const { output } = await signedOk('apple-split-reply.eml');
    const htmlParts = (await parts(output)).filter((node) => node.contentType === 'text/html');
    const decoded = htmlParts.map((node) => libqp.decode(node.body).toString('utf8'));
    assert.ok(!decoded[0]?.includes('sigrelay-signature'), 'first fragment signed');
    assert.match(decoded[1] ?? '', /en hausse\.<\/div><div><br><div class="sigrelay-signature">/);
  });
});

void describe('format=flowed', () => {
  const flowedSignature = { ...TEST_SIGNATURE, text: '-- \nZoë Tester · Sigrelay QA \n+1 555 0100' };

  async function signedFlowed(name: string) {
    const input = fs.readFileSync(path.join(fixtures, name));
    const { decision, output } = await signBuffer(input, flowedSignature);
    assert.equal(decision.action, 'signed', decision.reason);
    const [part] = (await walk(output)).nodes;
    assert.ok(part);
    return { headers: part.headers.toString('latin1'), text: libqp.decode(part.body).toString('utf8') };
  }

  void it('delsp=yes reply: the signature does not join the flowed line above it, parameters kept', async () => {
    const { headers, text } = await signedFlowed('flowed-delsp-reply.eml');
    assert.match(headers, /format=flowed/);
    assert.match(headers, /delsp=yes/);
    const lines = text.split('\r\n');
    const delimiter = lines.indexOf('-- ');
    assert.ok(delimiter > 0, '"-- " delimiter kept');
    assert.equal(lines[delimiter - 1], '', 'a fixed (empty) line before the signature');
    assert.equal(lines[delimiter + 1], 'Zoë Tester · Sigrelay QA', 'signature lines do not flow');
    assert.ok(text.indexOf('-- ') < text.indexOf('On Mon, Jun 3'));
  });

  void it('a new flowed message ending in a soft break gets its signature as a separate paragraph', async () => {
    const { headers, text } = await signedFlowed('flowed-new-soft-end.eml');
    assert.match(headers, /format=flowed/);
    assert.ok(text.includes('before Friday. \r\n\r\n-- \r\nZoë Tester · Sigrelay QA\r\n+1 555 0100\r\n'));
  });
});

void describe('long lines', () => {
  void it('an 8bit HTML part with a line over 998 octets is re-encoded as quoted-printable', async () => {
    const { output } = await signedOk('new-html-8bit-long-line.eml');
    const raw = output.toString('latin1');
    assert.match(raw, /Content-Transfer-Encoding: quoted-printable/);
    assert.ok(raw.split('\r\n').every((line) => line.length <= 998));
  });
});
