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
import { simpleParser } from 'mailparser';
import { signMessage, type SignatureContent } from '../../../src/signing/index.js';
import { REPLY_MARKERS } from '../../../src/signing/reply-markers.js';
import { checkSignedMessage, signBuffer, TEST_SIGNATURE } from '../../corpus/invariants.js';

type Cte = '7bit' | '8bit' | 'quoted-printable' | 'base64';

/** A quoted thread in one of the table's languages, opened by one kind of marker. */
interface Quote {
  language: number;
  kind: 'attribution' | 'header' | 'separator';
  /** Element holding an HTML attribution, and whether the quote tag is Apple's cite or plain. */
  element: 'div' | 'p' | 'span';
  cite: boolean;
}

interface Leaf {
  type: 'text/plain' | 'text/html';
  charset: 'utf-8' | 'iso-8859-1' | 'us-ascii';
  cte: Cte;
  words: string[];
  quote: Quote | undefined;
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

const quoteArb: fc.Arbitrary<Quote> = fc.record({
  language: fc.integer({ min: 0, max: REPLY_MARKERS.length - 1 }),
  kind: fc.constantFrom('attribution' as const, 'header' as const, 'separator' as const),
  element: fc.constantFrom('div' as const, 'p' as const, 'span' as const),
  cite: fc.boolean(),
});

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The first line of the quoted thread (what the signature must sit above) and the lines after it. */
function quoteLines(quote: Quote): { first: string; rest: string[] } {
  const entry = REPLY_MARKERS[quote.language] ?? REPLY_MARKERS[0];
  if (!entry) throw new Error('empty marker table');
  const pick = (words: string[]) => words[0] ?? '';
  if (quote.kind === 'separator' && entry.separators.length > 0)
    return { first: `-----${pick(entry.separators)}-----`, rest: [`${pick(entry.from)}: Bob`, 'old text'] };
  if (quote.kind === 'header' || quote.kind === 'separator')
    return {
      first: `${pick(entry.from)}: Bob <bob@example.org>`,
      rest: [`${pick(entry.sent)}: 3.6.2024 10:00`, `${pick(entry.subject)}: Re: plan`, '', 'old text'],
    };
  const lead = entry.attributionLeads[0] ? `${entry.attributionLeads[0]} ` : '';
  return {
    first: `${lead}3.6.2024 10:00, Bob <bob@example.org> ${pick(entry.wrote)}:`,
    rest: ['> old text'],
  };
}

function quoteHtml(quote: Quote): { html: string; first: string } {
  const { first, rest } = quoteLines(quote);
  if (quote.kind !== 'attribution') {
    const html = `<div>${escapeHtml(first)}<br>${rest.map(escapeHtml).join('<br>')}</div>`;
    return { html, first: html.slice(0, 30) };
  }
  const open = quote.cite ? '<blockquote type="cite">' : '<blockquote style="margin:0 0 0 .8ex">';
  const tag = quote.element;
  const html = `<${tag}>${escapeHtml(first)}</${tag}>${open}old text</blockquote>`;
  return { html, first: `<${tag}>${escapeHtml(first).slice(0, 20)}` };
}

function leafArb(type: Leaf['type']): fc.Arbitrary<Leaf> {
  return fc.record({
    type: fc.constant(type),
    charset: fc.constantFrom('utf-8' as const, 'iso-8859-1' as const, 'us-ascii' as const),
    cte: fc.constantFrom<Cte>('7bit', '8bit', 'quoted-printable', 'base64'),
    words: fc.array(word, { minLength: 0, maxLength: 40 }),
    quote: fc.option(quoteArb, { nil: undefined }),
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

/** Where the quoted thread of a leaf starts, in its decoded text. */
function quoteStart(leaf: Leaf): string | undefined {
  if (!leaf.quote) return undefined;
  return leaf.type === 'text/html' ? quoteHtml(leaf.quote).first : quoteLines(leaf.quote).first;
}

function leafMime(leaf: Leaf): string {
  // 7bit cannot carry 8-bit bytes, us-ascii cannot carry accents: keep the generated part valid.
  const ascii = leaf.charset === 'us-ascii';
  const words = ascii ? leaf.words.map((w) => w.replace(/[^\x20-\x7e]/g, 'x')) : leaf.words;
  const lines: string[] = [];
  for (let i = 0; i < words.length; i += 6) lines.push(words.slice(i, i + 6).join(' '));
  let text = lines.join('\n');
  if (leaf.type === 'text/html') {
    const quote = leaf.quote ? quoteHtml(leaf.quote).html : '';
    text = `<html><body><p>${text}</p>${quote}</body></html>`;
  } else if (leaf.quote) {
    const { first, rest } = quoteLines(leaf.quote);
    text += `\n\n${[first, ...rest].join('\n')}\n`;
  }
  // A marker the declared charset cannot carry is written in UTF-8 instead.
  const charset =
    iconv.decode(iconv.encode(text, leaf.charset), leaf.charset) === text ? leaf.charset : 'utf-8';
  const raw = iconv.encode(text, charset);
  const cte: Cte = leaf.cte === '7bit' && raw.some((b) => b > 0x7f) ? 'quoted-printable' : leaf.cte;
  const encoded =
    cte === 'base64'
      ? b64(raw)
      : cte === 'quoted-printable'
        ? iconv.decode(Buffer.from(qp(raw)), 'latin1')
        : raw.toString('latin1');
  return `Content-Type: ${leaf.type}; charset=${charset}\nContent-Transfer-Encoding: ${cte}\n\n${encoded}`;
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

function bodyLeaves(tree: Tree): Leaf[] {
  if (tree.kind === 'leaf') return [tree.leaf];
  if (tree.kind === 'alternative') return [tree.text, tree.html];
  return bodyLeaves(tree.body);
}

/** In every quoted body leaf, the signature stands above the first line of the quoted thread. */
async function assertAboveQuotes(tree: Tree, output: Buffer): Promise<void> {
  const parsed = await simpleParser(output);
  for (const leaf of bodyLeaves(tree)) {
    const start = quoteStart(leaf);
    if (!start) continue;
    const body =
      leaf.type === 'text/html' ? (typeof parsed.html === 'string' ? parsed.html : '') : (parsed.text ?? '');
    const signature = leaf.type === 'text/html' ? 'sigrelay-signature' : 'Sigrelay QA';
    const at = body.indexOf(signature);
    assert.ok(
      at >= 0 && at < body.indexOf(start),
      `${leaf.type}: signature not above ${JSON.stringify(start)}`,
    );
  }
}

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
          await assertAboveQuotes(tree, output);
        },
      ),
      { numRuns: 200 },
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
