/**
 * A body part is held once (issue 19 finding 6). The block-wise coders give the bytes the
 * whole-part libbase64/libqp calls gave, whatever the chunking; a text signature placed on a window
 * of the text gives the text placing it on the whole would; and a signed message leaves the
 * engine without a second whole-part buffer: the test counts the distinct buffers behind the
 * output chunks that are as large as the part. A part that is signed or else left alone is decoded
 * as it arrives, never held as its chunks or its decoded bytes: PartCollector must give what
 * decodeForSigning gives on the whole part (text, charset, line ending, "writes back") or leave it
 * alone for the same reason, however the part is cut into chunks.
 */
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import * as libbase64 from 'libbase64';
import iconv from 'iconv-lite';
import * as libqp from 'libqp';
import {
  LeaveAloneError,
  PartCollector,
  decodeForSigning,
  decodePart,
  encodeBytes,
  type DecodedPart,
} from '../../../src/signing/part-codec.js';
import { signMessage, type SignatureContent } from '../../../src/signing/index.js';
import { textSignatureEdit } from '../../../src/signing/body-editor.js';
import { TEST_SIGNATURE, checkSignedMessage, signBuffer } from '../../corpus/invariants.js';
import { findTextQuote, insertTextSignature, type QuoteLocation } from '../../../src/signing/placement.js';

const SIGNATURE: SignatureContent = {
  template: 't',
  rule: 'r',
  html: '<p>Alice Martin</p>',
  text: '-- \nAlice Martin',
  images: [],
  placement: 'underReply',
};

/** Mail-like bytes: text lines with 8-bit bytes, trailing blanks, leading hyphens, long lines. */
function mailBytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed || 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    const r = x >>> 24;
    out[i] =
      r < 8
        ? 0x0a
        : r < 14
          ? 0x0d
          : r < 24
            ? 0x20
            : r < 30
              ? 0x2d
              : r < 34
                ? 0x3d
                : r < 60
                  ? r + 160
                  : 0x61 + (r % 26);
  }
  return out;
}

/** `bytes` cut into chunks at the given sizes (cycled), like a stream would hand them over. */
function chunked(bytes: Buffer, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length] ?? 1);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

function part(transferEncoding: string): DecodedPart {
  return { text: '', charset: 'utf-8', declaredCharset: 'utf-8', transferEncoding, eol: '\r\n' };
}

const withEol = (s: string, eol: string) => s.replace(/\r?\n/g, eol);
/** Big enough to cross the coders' 1 MiB blocks, small enough to run in a unit test. */
const SIZES = [1, 700_000, 2_600_000];

describe('block-wise coders give the whole-part bytes', () => {
  it('base64 and quoted-printable encoding, any chunking, both line endings', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SIZES),
        fc.integer({ min: 1, max: 1 << 30 }),
        fc.array(fc.integer({ min: 1, max: 900_000 }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('\r\n' as const, '\n' as const),
        (size, seed, cuts, eol) => {
          const bytes = mailBytes(size, seed);
          const pieces = chunked(bytes, cuts);
          const b64 = Buffer.concat([...encodeBytes(part('base64'), pieces, 'utf-8', eol).body]);
          assert.equal(b64.toString('latin1'), withEol(libbase64.wrap(libbase64.encode(bytes), 76), eol));
          const qp = Buffer.concat([...encodeBytes(part('quoted-printable'), pieces, 'utf-8', eol).body]);
          assert.equal(qp.toString('latin1'), withEol(libqp.wrap(libqp.encode(bytes), 76), eol));
        },
      ),
      { numRuns: 12 },
    );
  });

  it('base64 and quoted-printable decoding, any chunking', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SIZES),
        fc.integer({ min: 1, max: 1 << 30 }),
        fc.array(fc.integer({ min: 1, max: 900_000 }), { minLength: 1, maxLength: 4 }),
        (size, seed, cuts) => {
          const bytes = mailBytes(size, seed);
          const b64 = Buffer.from(libbase64.wrap(libbase64.encode(bytes), 76), 'latin1');
          const qp = Buffer.from(libqp.wrap(libqp.encode(bytes), 76), 'latin1');
          const options = { charset: 'iso-8859-1', html: false };
          const fromB64 = decodePart(chunked(b64, cuts), { ...options, transferEncoding: 'base64' }).bytes;
          assert.ok(fromB64.equals(libbase64.decode(b64.toString('latin1'))));
          const fromQp = decodePart(chunked(qp, cuts), {
            ...options,
            transferEncoding: 'quoted-printable',
          }).bytes;
          assert.ok(fromQp.equals(libqp.decode(qp)));
        },
      ),
      { numRuns: 12 },
    );
  });

  it('quoted-printable encoding of a signed part: a large piece before or after small ones', () => {
    const bytes = mailBytes(700_000, 11);
    const sign = Buffer.from('-- \r\nAlice · Contoso\r\n', 'utf8');
    for (const eol of ['\r\n', '\n'] as const)
      for (const at of [0, 37, 120_000, 580_000, 699_990, 700_000]) {
        const pieces = [bytes.subarray(0, at), sign, bytes.subarray(at)];
        const whole = Buffer.concat(pieces);
        const qp = Buffer.concat([...encodeBytes(part('quoted-printable'), pieces, 'utf-8', eol).body]);
        assert.equal(qp.toString('latin1'), withEol(libqp.wrap(libqp.encode(whole), 76), eol), `at ${at}`);
      }
  });

  it('one line longer than a block (no line feed at all) encodes and decodes as a whole', () => {
    const bytes = Buffer.from(mailBytes(2_600_000, 7).map((b) => (b === 0x0a ? 0x62 : b)));
    const pieces = chunked(bytes, [300_000, 1_700_000]);
    const qp = Buffer.concat([...encodeBytes(part('quoted-printable'), pieces, 'utf-8', '\r\n').body]);
    assert.equal(qp.toString('latin1'), libqp.wrap(libqp.encode(bytes), 76));
    const back = decodePart(chunked(qp, [900_000]), {
      transferEncoding: 'quoted-printable',
      charset: 'iso-8859-1',
      html: false,
    });
    assert.ok(back.bytes.equals(libqp.decode(qp)));
  });

  it('base64 with padding inside or stray characters decodes as libbase64 decodes it', () => {
    const odd = Buffer.from('QQ==QUI=\r\nQUJD*\r\nQUJDRA', 'latin1');
    const decoded = decodePart(chunked(odd, [3]), {
      transferEncoding: 'base64',
      charset: 'utf-8',
      html: false,
    });
    assert.equal(
      decoded.bytes.toString('latin1'),
      libbase64.decode(odd.toString('latin1')).toString('latin1'),
    );
  });
});

/** Signs `message` and returns the output chunks as they left the engine. */
async function signChunks(message: Buffer): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  const input = Readable.from(chunked(message, [64 * 1024]));
  const decision = await signMessage(
    input,
    output,
    () => Promise.resolve({ action: 'sign', content: SIGNATURE }),
    { sender: 'alice@contoso.com', recipients: ['bob@example.org'] },
  );
  assert.equal(decision.action, 'signed');
  return chunks;
}

/** Distinct memory blocks behind the output chunks that are at least `size` bytes. */
function wholePartBuffers(chunks: Buffer[], size: number): number {
  return new Set(chunks.filter((c) => c.buffer.byteLength >= size).map((c) => c.buffer)).size;
}

const HEAD = 'From: alice@contoso.com\r\nTo: bob@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\n';
const PART_BYTES = 6 * 1024 * 1024;

function html(size: number): Buffer {
  const line = '<p>Earlier message line: figures, action items and notes.</p>\r\n';
  return Buffer.from(`<html><body>${line.repeat(Math.ceil(size / line.length))}</body></html>\r\n`);
}

describe('a signed body part leaves the engine without a second copy', () => {
  it('base64 HTML goes out as blocks, none of them the whole part', async () => {
    const body = Buffer.from(libbase64.wrap(libbase64.encode(html(PART_BYTES)), 76) + '\r\n', 'latin1');
    const message = Buffer.concat([
      Buffer.from(
        `${HEAD}Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n`,
      ),
      body,
    ]);
    const chunks = await signChunks(message);
    assert.equal(wholePartBuffers(chunks, PART_BYTES / 2), 0);
    assert.ok(chunks.reduce((sum, c) => sum + c.length, 0) > body.length);
  });

  it('8-bit HTML goes out as blocks written from its text, none of them the whole part', async () => {
    const body = html(PART_BYTES);
    const message = Buffer.concat([
      Buffer.from(`${HEAD}Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n`),
      body,
    ]);
    const chunks = await signChunks(message);
    assert.equal(wholePartBuffers(chunks, PART_BYTES / 2), 0);
    assert.ok(Buffer.concat(chunks).includes('Alice Martin'));
  });
});

/** Lines a text body is made of: replies, quotes, attributions, rules, blanks, long lines. */
const TEXT_LINES = [
  'Thanks, agreed.',
  '> quoted line',
  '>',
  'On Monday, Bob <bob@example.org> wrote:',
  '-----Original Message-----',
  'From: Bob',
  'Sent: Monday',
  '________________________________',
  '',
  ' ',
  'answer below the quote ',
  'x'.repeat(300),
  'é'.repeat(200),
  '-- ',
];

describe('a signed part is written as the reader takes it', () => {
  it('a reader slower than the engine gets the bytes a fast one gets', async () => {
    const body = Buffer.from(libbase64.wrap(libbase64.encode(html(PART_BYTES)), 76) + '\r\n', 'latin1');
    const message = Buffer.concat([
      Buffer.from(
        `${HEAD}Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n`,
      ),
      body,
    ]);
    const fast = Buffer.concat(await signChunks(message));
    // Each write finishes on a later turn of the event loop: the editor must wait for the reader
    // (it once parked the next chunk and never woke up) and then carry on where it stopped.
    const chunks: Buffer[] = [];
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        setImmediate(callback);
      },
    });
    const decision = await signMessage(
      Readable.from(chunked(message, [64 * 1024])),
      slow,
      () => Promise.resolve({ action: 'sign', content: SIGNATURE }),
      { sender: 'alice@contoso.com', recipients: ['bob@example.org'] },
    );
    assert.equal(decision.action, 'signed');
    assert.ok(Buffer.concat(chunks).equals(fast));
  });
});

describe('the text signature placed on a window of the text', () => {
  it('changes the text exactly as placing it on the whole text does', () => {
    const quoteOf = (text: string, pick: number): QuoteLocation => {
      if (pick === 0) return findTextQuote(text);
      // Any quote shape, anywhere: placement's rule, not quote detection, is under test here.
      const at = (n: number) => Math.min(text.length, Math.abs(n * pick) % (text.length + 1));
      if (pick % 3 === 1) return { start: at(7), tail: -1 };
      const start = at(3);
      const tail = Math.max(start, at(5));
      return pick % 3 === 2 ? { start, tail } : { start, tail, end: Math.max(tail, at(11)) };
    };
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...TEXT_LINES), { maxLength: 40 }),
        fc.constantFrom('\r\n' as const, '\n' as const),
        fc.boolean(),
        fc.constantFrom('underReply' as const, 'bottom' as const),
        fc.boolean(),
        fc.integer({ min: 0, max: 1000 }),
        (lines, eol, trailing, placement, flowed, pick) => {
          const text = lines.join(eol) + (trailing ? eol : '');
          const quote = quoteOf(text, pick);
          const whole = insertTextSignature(text, SIGNATURE.text, quote, placement, eol, { flowed });
          const edit = textSignatureEdit(text, SIGNATURE.text, quote, placement, eol, { flowed });
          assert.equal(text.slice(0, edit.start) + edit.middle + text.slice(edit.end), whole);
        },
      ),
      { numRuns: 400 },
    );
  });
});

interface Options {
  transferEncoding: string;
  charset: string | false;
  html: boolean;
}

/** What a decoder returns, or the reason it leaves the part alone. */
function outcome(decode: () => object): object {
  try {
    return decode();
  } catch (err) {
    if (err instanceof LeaveAloneError) return { leaveAlone: err.reason };
    throw err;
  }
}

function collected(chunks: Buffer[], options: Options): object {
  return outcome(() => {
    const collector = new PartCollector(options);
    for (const chunk of chunks) collector.write(chunk);
    return collector.end();
  });
}

function whole(chunks: Buffer[], options: Options): object {
  return outcome(() => decodeForSigning([...chunks], options));
}

function encoded(bytes: Buffer, transferEncoding: string): Buffer {
  if (transferEncoding === 'base64')
    return Buffer.from(libbase64.wrap(libbase64.encode(bytes), 76), 'latin1');
  if (transferEncoding === 'quoted-printable')
    return Buffer.from(libqp.wrap(libqp.encode(bytes), 76), 'latin1');
  return bytes;
}

/** Texts with what trips a decoder: 8-bit characters, astral ones, a BOM, U+FFFD, bare line feeds. */
const TEXTS = [
  'Thanks, agreed.\r\n',
  '> Réunion: chiffres trimestriels, décisions.\r\n',
  '<p class="MsoNormal">Earlier message line</p>\r\n',
  'Grüße — 👋 until Friday.\n',
  '\uFEFFmid-text byte order mark\r\n',
  'replacement \uFFFD character\r\n',
  '日本語のテキスト\r\n',
  'x'.repeat(300),
];

/** Big enough to cross the collector's 1 MiB blocks at least once. */
const LARGE = 1_300_000;

function text(lines: number[], repeat: number): string {
  const one = lines.map((i) => TEXTS[i % TEXTS.length]).join('');
  return one.repeat(Math.max(1, Math.ceil(repeat / Math.max(1, one.length))));
}

const cuts = fc.array(fc.integer({ min: 1, max: 300_000 }), { minLength: 1, maxLength: 4 });

describe('a part decoded as it arrives reads as the whole part does', () => {
  it('any transfer encoding, charset and chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
        fc.constantFrom(1, LARGE),
        fc.constantFrom('8bit', 'base64', 'quoted-printable', '7bit', ''),
        fc.constantFrom<string | false>(
          'utf-8',
          'iso-8859-1',
          'windows-1252',
          'shift_jis',
          'utf-16le',
          false,
        ),
        fc.boolean(),
        cuts,
        (lines, size, transferEncoding, charset, html, sizes) => {
          const bytes = iconv.encode(text(lines, size), charset || 'utf-8');
          const chunks = chunked(encoded(bytes, transferEncoding), sizes);
          const options = { transferEncoding, charset, html };
          assert.deepEqual(collected(chunks, options), whole(chunks, options));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('plain ASCII, also past the first block, is read without a decoder and writes back', () => {
    const bytes = Buffer.from(text([0, 2], LARGE), 'latin1');
    const options = { transferEncoding: '8bit', charset: 'utf-8', html: true };
    const result = collected(chunked(bytes, [65_536]), options);
    assert.deepEqual(result, whole([bytes], options));
    assert.equal((result as { writesBack: boolean }).writesBack, true);
  });

  it('base64 that stops being plain after the first block decodes as libbase64 decodes it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('QQ==QUI=\r\nQUJD*\r\nQUJDRA', 'QUJD-_x=\r\n', '=\r\nQQ'),
        cuts,
        (odd, sizes) => {
          const plain = encoded(Buffer.from(text([0, 1], LARGE)), 'base64');
          const chunks = chunked(
            Buffer.concat([plain, Buffer.from('\r\n'), Buffer.from(odd, 'latin1')]),
            sizes,
          );
          const options = { transferEncoding: 'base64', charset: 'iso-8859-1', html: false };
          assert.deepEqual(collected(chunks, options), whole(chunks, options));
        },
      ),
      { numRuns: 20 },
    );
  });

  it('leaves a part alone for the reason the whole part gives', () => {
    const cases: [Buffer, Options][] = [
      [
        Buffer.from('caf\xe9 '.repeat(300_000), 'latin1'),
        { transferEncoding: '8bit', charset: false, html: false },
      ],
      [
        Buffer.concat([iconv.encode('Hello Bob '.repeat(120_000), 'utf-16le'), Buffer.from([0x43])]),
        { transferEncoding: 'binary', charset: 'utf-16le', html: false },
      ],
      [Buffer.from('text'), { transferEncoding: 'x-uuencode', charset: 'utf-8', html: false }],
      [Buffer.from('text'), { transferEncoding: '8bit', charset: 'x-no-such-charset', html: false }],
      [Buffer.from([0x61, 0xff, 0xfe, 0x62]), { transferEncoding: '8bit', charset: 'utf-8', html: false }],
    ];
    for (const [bytes, options] of cases) {
      const result = collected(chunked(bytes, [65_536]), options);
      assert.ok('leaveAlone' in result, JSON.stringify(result).slice(0, 200));
      assert.deepEqual(result, whole([bytes], options));
    }
  });
});

describe('a large signed part, written from its text, keeps every byte around the signature', () => {
  const line = (i: number, accent: boolean) =>
    `${i % 7 === 0 ? '> ' : ''}Earlier line ${i}: ${accent ? 'Réunion, décisions — 👋' : 'figures and notes'}.\r\n`;
  for (const transferEncoding of ['8bit', 'base64', 'quoted-printable'])
    for (const accent of [false, true])
      it(`${transferEncoding}, ${accent ? 'non-ASCII' : 'ASCII'} text over one block`, async () => {
        const lines: string[] = ['Thanks, agreed.\r\n\r\n-----Original Message-----\r\n'];
        for (let i = 0, size = 0; size < 3_000_000; i++)
          size += (lines[lines.push(line(i, accent)) - 1] ?? '').length;
        const text = Buffer.from(lines.join(''));
        const body = transferEncoding === '8bit' ? text : encoded(text, transferEncoding);
        const input = Buffer.concat([
          Buffer.from(
            `${HEAD}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: ${transferEncoding}\r\n\r\n`,
          ),
          body,
        ]);
        const { decision, output } = await signBuffer(input, TEST_SIGNATURE, { chunkSize: 64 * 1024 });
        assert.equal(decision.action, 'signed', decision.reason);
        assert.deepEqual(await checkSignedMessage(input, output, TEST_SIGNATURE), []);
      });
});
