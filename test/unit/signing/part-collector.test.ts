/**
 * A part that is signed or else left alone is decoded as it arrives (issue 19 finding 6), never
 * held as its chunks or its decoded bytes: PartCollector must give what decodeForSigning gives
 * on the whole part — the same text, charset, line ending and "writes back" — or leave it alone
 * for the same reason, however the part is cut into chunks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import * as libbase64 from 'libbase64';
import * as libqp from 'libqp';
import { LeaveAloneError, PartCollector, decodeForSigning } from '../../../src/signing/part-codec.js';

interface Options {
  transferEncoding: string;
  charset: string | false;
  html: boolean;
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
