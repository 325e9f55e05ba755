/**
 * The byte-level quoted-printable writer gives exactly the bytes libqp's encode + wrap (with the
 * line endings rewritten) gave before it: on random lines built from the characters its rules
 * turn on (line breaks, blanks, hyphens, `=`, hex digits, the preferred break characters, 8-bit
 * bytes), on the hostile bodies of issue 19, and decoded back by libqp to the input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import * as libqp from 'libqp';
import { quotedPrintableBlock } from '../../../src/signing/qp-writer.js';
import { HOSTILE } from '../../helpers/hostile-bodies.js';

const libqpLines = (block: Buffer, eol: string) => libqp.wrap(libqp.encode(block), 76).replace(/\r?\n/g, eol);
/** What decoding gives back: the input with its line breaks written as `eol`. */
const withEol = (bytes: Buffer, eol: string) =>
  Buffer.from(bytes.toString('latin1').replace(/\r?\n/g, eol), 'latin1');

/** Bytes the writer's rules look at, weighted toward the ones that change where a line is cut. */
const ruleByte = fc.oneof(
  fc.constantFrom(0x0a, 0x0d, 0x20, 0x09, 0x2d, 0x3d, 0x2e, 0x2c, 0x21, 0x3f, 0x41, 0x44, 0x61, 0x33),
  fc.integer({ min: 0x80, max: 0xff }),
  fc.integer({ min: 0, max: 0xff }),
);
/** Runs of one byte make the long lines where soft breaks land on every rule. */
const block = fc
  .array(fc.tuple(ruleByte, fc.integer({ min: 1, max: 120 })), { maxLength: 60 })
  .map((runs) => Buffer.concat(runs.map(([byte, count]) => Buffer.alloc(count, byte))));

describe('qp-writer', () => {
  for (const eol of ['\r\n', '\n'] as const) {
    it(`gives libqp's bytes on random lines (${JSON.stringify(eol)})`, () => {
      fc.assert(
        fc.property(block, (bytes) => {
          const ours = quotedPrintableBlock(bytes, eol);
          assert.equal(ours.toString('latin1'), libqpLines(bytes, eol));
          assert.ok(libqp.decode(ours).equals(withEol(bytes, eol)));
        }),
        { numRuns: 2000 },
      );
    });
  }

  /** Lines around the 76-character limit with mixed endings: the writer copies runs of short lines that already end in `eol` as they are. */
  const lines = fc
    .array(
      fc.tuple(
        fc.array(
          ruleByte.filter((b) => b !== 0x0a && b !== 0x0d),
          { maxLength: 90 },
        ),
        fc.constantFrom('\n', '\r\n', '\r\r\n', ''),
      ),
      { maxLength: 40 },
    )
    .map((parts) =>
      Buffer.concat(
        parts.map(([line, end]) => Buffer.concat([Buffer.from(line), Buffer.from(end, 'latin1')])),
      ),
    );

  for (const eol of ['\r\n', '\n'] as const) {
    it(`gives libqp's bytes on short and long lines with mixed endings (${JSON.stringify(eol)})`, () => {
      fc.assert(
        fc.property(lines, (bytes) => {
          assert.equal(quotedPrintableBlock(bytes, eol).toString('latin1'), libqpLines(bytes, eol));
        }),
        { numRuns: 2000 },
      );
    });
  }

  it("gives libqp's bytes on UTF-8 text and 8-bit bytes of every value", () => {
    const all = Buffer.alloc(256 * 3);
    for (let i = 0; i < all.length; i++) all[i] = i % 256;
    // Continuation bytes in a row: each full line is cut back to a few characters.
    const continuation = Buffer.from('a' + '\x80'.repeat(3000) + ' b\xc3\xa9'.repeat(500), 'latin1');
    const utf8 = Buffer.from(
      'Très bien — à demain. Ünïcödé: 日本語のテキスト, 😀 emoji! '.repeat(40),
      'utf8',
    );
    for (const bytes of [
      all,
      continuation,
      utf8,
      Buffer.alloc(0),
      Buffer.from('-'),
      Buffer.from(' '),
      Buffer.from('='),
    ])
      for (const eol of ['\r\n', '\n'] as const)
        assert.equal(quotedPrintableBlock(bytes, eol).toString('latin1'), libqpLines(bytes, eol));
  });

  it('gives libqp’s bytes on the hostile bodies, every line at most 76 characters', () => {
    for (const [name, build] of Object.entries(HOSTILE)) {
      const bytes = Buffer.from(build(20_000), 'utf8');
      const ours = quotedPrintableBlock(bytes, '\r\n');
      assert.equal(ours.toString('latin1'), libqpLines(bytes, '\r\n'), name);
      for (const line of ours.toString('latin1').split('\r\n')) assert.ok(line.length <= 76, name);
      assert.ok(libqp.decode(ours).equals(withEol(bytes, '\r\n')), name);
    }
  });
});
