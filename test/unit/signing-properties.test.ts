/**
 * Property tests: random MIME trees (shapes, charsets, transfer encodings, line endings, chunking,
 * embedded images) always come out parseable, with attachments identical, every untouched part
 * byte-identical and exactly one signature per body part. Plus the engine's stream contract.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PassThrough, Readable } from 'node:stream';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { signMessage, type SignatureContent } from '../../src/signing/index.js';
import { checkSignedMessage, signBuffer, TEST_SIGNATURE } from '../corpus/invariants.js';

type Cte = '7bit' | '8bit' | 'quoted-printable' | 'base64';

interface Leaf {
  type: 'text/plain' | 'text/html';
  charset: 'utf-8' | 'iso-8859-1' | 'us-ascii';
  cte: Cte;
  words: string[];
  quoted: boolean;
}

type Tree =
  | { kind: 'leaf'; leaf: Leaf }
  | { kind: 'alternative'; text: Leaf; html: Leaf; relatedImage: Buffer | undefined }
  | { kind: 'mixed'; body: Tree; attachments: Buffer[]; attachedMessage: boolean };

const word = fc.constantFrom(
  'hello',
  'world',
  'Grüße',
  'café',
  'naïve',
  'sigrelay',
  '=',
  '.',
  'From',
  '-- ',
  'a'.repeat(90),
);

function leafArb(type: Leaf['type']): fc.Arbitrary<Leaf> {
  return fc.record({
    type: fc.constant(type),
    charset: fc.constantFrom('utf-8' as const, 'iso-8859-1' as const, 'us-ascii' as const),
    cte: fc.constantFrom<Cte>('7bit', '8bit', 'quoted-printable', 'base64'),
    words: fc.array(word, { minLength: 0, maxLength: 40 }),
    quoted: fc.boolean(),
  });
}

const bytes = fc.uint8Array({ minLength: 0, maxLength: 3000 }).map((a) => Buffer.from(a));

const bodyArb: fc.Arbitrary<Tree> = fc.oneof(
  fc.oneof(leafArb('text/plain'), leafArb('text/html')).map((leaf) => ({ kind: 'leaf' as const, leaf })),
  fc.record({
    kind: fc.constant('alternative' as const),
    text: leafArb('text/plain'),
    html: leafArb('text/html'),
    relatedImage: fc.option(bytes, { nil: undefined }),
  }),
);

const treeArb: fc.Arbitrary<Tree> = fc.oneof(
  bodyArb,
  fc.record({
    kind: fc.constant('mixed' as const),
    body: bodyArb,
    attachments: fc.array(bytes, { maxLength: 3 }),
    attachedMessage: fc.boolean(),
  }),
);

let boundaryCounter = 0;
const b64 = (data: Buffer) => (data.toString('base64').match(/.{1,76}/g) ?? ['']).join('\n');

function leafMime(leaf: Leaf): string {
  // 7bit cannot carry 8-bit bytes, us-ascii cannot carry accents: keep the generated part valid.
  const ascii = leaf.charset === 'us-ascii';
  const words = ascii ? leaf.words.map((w) => w.replace(/[^\x00-\x7f]/g, 'x')) : leaf.words;
  const lines: string[] = [];
  for (let i = 0; i < words.length; i += 6) lines.push(words.slice(i, i + 6).join(' '));
  let text = lines.join('\n');
  if (leaf.type === 'text/html') {
    const quote = leaf.quoted
      ? '<div class="gmail_quote">On Monday Bob wrote:<blockquote>old</blockquote></div>'
      : '';
    text = `<html><body><p>${text}</p>${quote}</body></html>`;
  } else if (leaf.quoted) text += '\n\nOn Monday, Bob wrote:\n> old text\n';
  const raw = iconv.encode(text, leaf.charset);
  const cte: Cte = leaf.cte === '7bit' && raw.some((b) => b > 0x7f) ? 'quoted-printable' : leaf.cte;
  const encoded =
    cte === 'base64'
      ? b64(raw)
      : cte === 'quoted-printable'
        ? iconv.decode(Buffer.from(qp(raw)), 'latin1')
        : raw.toString('latin1');
  return `Content-Type: ${leaf.type}; charset=${leaf.charset}\nContent-Transfer-Encoding: ${cte}\n\n${encoded}`;
}

/** Minimal quoted-printable writer, independent of the engine's (libqp) encoder. */
function qp(raw: Buffer): string {
  let out = '';
  let line = 0;
  for (const byte of raw) {
    if (byte === 0x0a) {
      out += '\n';
      line = 0;
      continue;
    }
    const piece =
      byte < 0x21 || byte > 0x7e || byte === 0x3d
        ? `=${byte.toString(16).toUpperCase().padStart(2, '0')}`
        : String.fromCharCode(byte);
    if (line + piece.length > 75) {
      out += '=\n';
      line = 0;
    }
    out += piece;
    line += piece.length;
  }
  return out;
}

function multipart(subtype: string, parts: string[]): string {
  const boundary = `b${++boundaryCounter}_x`;
  return `Content-Type: multipart/${subtype}; boundary="${boundary}"\n\n${parts.map((p) => `--${boundary}\n${p}\n`).join('')}--${boundary}--`;
}

function treeMime(tree: Tree): string {
  if (tree.kind === 'leaf') return leafMime(tree.leaf);
  if (tree.kind === 'alternative') {
    const html = leafMime(tree.html);
    const image = tree.relatedImage;
    const htmlPart = image
      ? multipart('related', [
          html,
          `Content-Type: image/png\nContent-ID: <img1@t>\nContent-Transfer-Encoding: base64\n\n${b64(image)}`,
        ])
      : html;
    return multipart('alternative', [leafMime(tree.text), htmlPart]);
  }
  const attachments = tree.attachments.map(
    (data, i) =>
      `Content-Type: application/octet-stream; name="f${i}.bin"\nContent-Disposition: attachment; filename="f${i}.bin"\nContent-Transfer-Encoding: base64\n\n${b64(data)}`,
  );
  if (tree.attachedMessage)
    attachments.push('Content-Type: message/rfc822\n\nSubject: old\nContent-Type: text/plain\n\nold body');
  return multipart('mixed', [treeMime(tree.body), ...attachments]);
}

function message(tree: Tree, crlf: boolean): Buffer {
  const text = `From: alice@contoso.com\nTo: bob@example.org\nSubject: t\nMIME-Version: 1.0\n${treeMime(tree)}\n`;
  return Buffer.from(crlf ? text.replace(/\n/g, '\r\n') : text, 'latin1');
}

const withImage: SignatureContent = {
  ...TEST_SIGNATURE,
  html: `${TEST_SIGNATURE.html}<img src="cid:logo@sigrelay">`,
  images: [
    {
      cid: 'logo@sigrelay',
      contentType: 'image/png',
      filename: 'logo.png',
      content: Buffer.from('fake png bytes'),
    },
  ],
};

void describe('random MIME trees', () => {
  void it('sign with the invariants intact (with and without embedded images)', async () => {
    await fc.assert(
      fc.asyncProperty(
        treeArb,
        fc.boolean(),
        fc.integer({ min: 1, max: 4096 }),
        fc.boolean(),
        async (tree, crlf, chunkSize, images) => {
          const input = message(tree, crlf);
          const content = images ? withImage : TEST_SIGNATURE;
          const { decision, output } = await signBuffer(input, content, { chunkSize });
          assert.equal(decision.action, 'signed', decision.reason);
          assert.deepEqual(await checkSignedMessage(input, output, content), []);
        },
      ),
      { numRuns: 150 },
    );
  });
});

void describe('stream contract', () => {
  const input = Buffer.from(
    'From: a@contoso.com\r\nTo: b@example.org\r\nContent-Type: text/plain\r\n\r\nHi\r\n',
  );

  void it('calls the resolver exactly once and ends the output when signed', async () => {
    let calls = 0;
    const output = new PassThrough().resume();
    const decision = await signMessage(
      Readable.from([input]),
      output,
      () => {
        calls++;
        return Promise.resolve({ action: 'sign', content: TEST_SIGNATURE });
      },
      { sender: 'A@Contoso.com', recipients: ['B@example.org'] },
    );
    assert.equal(decision.action, 'signed');
    assert.equal(calls, 1);
    assert.ok(output.writableEnded);
  });

  void it('reports the resolver skip reason and never calls it for leave-alone messages', async () => {
    const skipped = await signMessage(
      Readable.from([input]),
      new PassThrough().resume(),
      () => Promise.resolve({ action: 'skip', reason: 'no-rule', rule: 'r1' }),
      { sender: 'a@contoso.com', recipients: [] },
    );
    assert.deepEqual([skipped.action, skipped.reason, skipped.rule], ['skipped', 'no-rule', 'r1']);
    let called = false;
    const processed = Buffer.concat([Buffer.from('X-Sigrelay-Processed: true\r\n'), input]);
    const left = await signMessage(
      Readable.from([processed]),
      new PassThrough().resume(),
      () => {
        called = true;
        return Promise.resolve({ action: 'skip', reason: 'x' });
      },
      { sender: 'a@contoso.com', recipients: [] },
    );
    assert.equal(left.reason, 'already-processed');
    assert.equal(called, false);
  });

  void it('returns failed (engine-error) for input the splitter rejects, and closes the output', async () => {
    const hugeHeader = Buffer.from(`X-Big: ${'a'.repeat(2 * 1024 * 1024)}\r\n\r\nbody\r\n`);
    const output = new PassThrough().resume();
    const decision = await signMessage(
      Readable.from([hugeHeader]),
      output,
      () => Promise.resolve({ action: 'sign', content: TEST_SIGNATURE }),
      { sender: 'a@contoso.com', recipients: [] },
    );
    assert.equal(decision.action, 'failed');
    assert.match(decision.reason, /^engine-error: /);
    assert.ok(output.destroyed || output.writableEnded);
  });

  void it('rejects when the resolver throws (an infrastructure problem the caller retries)', async () => {
    await assert.rejects(
      signMessage(
        Readable.from([input]),
        new PassThrough().resume(),
        () => Promise.reject(new Error('graph down')),
        {
          sender: 'a@contoso.com',
          recipients: [],
        },
      ),
      /signature resolver failed/,
    );
  });
});
