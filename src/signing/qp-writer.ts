/**
 * Quoted-printable encoding of one block of lines straight into a Buffer: the bytes
 * `withEol(libqp.wrap(libqp.encode(block), 76), eol)` gives, in one pass over bytes. libqp builds
 * the encoded block as a string, splits it with a pattern, cuts each line with substr and patterns
 * and joins it back, and the line endings are then rewritten with a pattern again: on a one-line
 * hostile body that was about a fifth of signing time (issue 19). Here the same rules read bytes.
 * test/unit/signing/qp-writer.test.ts compares the two on random and hostile inputs.
 */

/** 1 for the bytes quoted-printable writes as they are (RFC 2045 6.7): TAB, LF, CR, printable but `=`. */
const LITERAL = new Uint8Array(256);
for (let i = 0; i < 256; i++)
  LITERAL[i] = i === 0x09 || i === 0x0a || i === 0x0d || (i >= 0x20 && i <= 0x7e && i !== 0x3d) ? 1 : 0;
/** 1 for the literal bytes no neighbour can make escaped (all but blanks and the hyphen). */
const PLAIN = LITERAL.map((literal, byte) =>
  literal && byte !== 0x20 && byte !== 0x09 && byte !== 0x2d ? 1 : 0,
);
const HEX = Buffer.from('0123456789ABCDEF', 'latin1');
/** libqp's preferred places for a soft break: just after one of ` \t.,!?`. */
const BREAK_AFTER = new Uint8Array(256);
for (const c of ' \t.,!?') BREAK_AFTER[c.charCodeAt(0)] = 1;

const LINE = 76;
/** How far back from the end of a full line a soft break may move to a preferred place. */
const MARGIN = Math.floor(LINE / 3);

const isLineBreak = (byte: number | undefined) => byte === 0x0a || byte === 0x0d;
const isSpace = (byte: number | undefined) => byte === 0x20 || byte === 0x09;

function hexValue(code: number | undefined): number {
  if (code === undefined) return -1;
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  return -1;
}

/**
 * libqp.encode: a byte is escaped when it is not literal, when it is a space or tab before a line
 * break or the end (relays strip those), or a hyphen starting a line (`--` would read as a MIME
 * delimiter).
 */
function encodeLines(block: Buffer): Buffer {
  const out = Buffer.allocUnsafe(block.length * 3);
  let pos = 0;
  const len = block.length;
  for (let i = 0; i < len; i++) {
    const byte = block[i] as number;
    if (PLAIN[byte]) {
      out[pos++] = byte;
      continue;
    }
    if (
      LITERAL[byte] &&
      !(isSpace(byte) && (i + 1 === len || isLineBreak(block[i + 1]))) &&
      !(byte === 0x2d && (i === 0 || isLineBreak(block[i - 1])))
    ) {
      out[pos++] = byte;
      continue;
    }
    out[pos++] = 0x3d;
    out[pos++] = HEX[byte >> 4] as number;
    out[pos++] = HEX[byte & 15] as number;
  }
  return out.subarray(0, pos);
}

/** Whether `line[0, end)` ends with `=` and two hex digits. */
function endsWithEscape(line: Buffer, end: number): boolean {
  return end >= 3 && line[end - 3] === 0x3d && hexValue(line[end - 2]) >= 0 && hexValue(line[end - 1]) >= 0;
}

/** libqp trimUtf8Sequence: the end of `line[0, end)` before the escapes of its last multi-byte sequence. */
function trimUtf8Sequence(line: Buffer, end: number): number {
  let cut = end;
  while (cut >= 3 && line[cut - 3] === 0x3d) {
    const hi = hexValue(line[cut - 2]);
    const lo = hexValue(line[cut - 1]);
    if (hi < 0 || lo < 0) break;
    const code = hi * 16 + lo;
    if (code < 0x80) break;
    cut -= 3;
    if (code >= 0xc0) break;
  }
  const escapedHyphen = end >= 3 && line[0] === 0x3d && line[1] === 0x32 && line[2] === 0x44;
  return cut > (escapedHyphen ? 3 : 0) ? cut : end;
}

/**
 * The output, grown as needed: a line cut before the escapes of a multi-byte character can be
 * much shorter than 76 (bytes 0x80–0xBF in a row are cut back to the byte before them), so the
 * size is not known from the input's alone.
 */
class Output {
  buffer: Buffer;
  at = 0;
  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(Math.max(size, 256));
  }

  /** Copies `source[from, to)` to the end. */
  copy(source: Buffer, from: number, to: number): void {
    const needed = this.at + to - from;
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, 2 * this.buffer.length));
      this.buffer.copy(grown, 0, 0, this.at);
      this.buffer = grown;
    }
    this.at += source.copy(this.buffer, this.at, from, to);
  }
}

const ESCAPED_HYPHEN = Buffer.from('=2D', 'latin1');

/**
 * Where wrapLine cuts each full line, shared: it is copied out before the next is cut, and one
 * Buffer a line was a small allocation per line of every signed body (issue 19).
 */
const LINE_BUFFER = Buffer.allocUnsafe(LINE);

/**
 * libqp wrapLine for the encoded line `src[from, to)`, appended to `out`, soft breaks as `=` and
 * `softBreak`. Each full line is cut at the last ` \t.,!?` of its last third, else before a partial
 * escape (and the escapes of a multi-byte character), and a line a soft break starts never begins
 * with a hyphen.
 */
function wrapLine(src: Buffer, from: number, to: number, out: Output, softBreak: Buffer): void {
  const line = LINE_BUFFER;
  let pos = from;
  for (;;) {
    const escapeHyphen = pos > from && src[pos] === 0x2d;
    if (to - pos + (escapeHyphen ? 2 : 0) <= LINE) {
      if (escapeHyphen) out.copy(ESCAPED_HYPHEN, 0, 3);
      out.copy(src, escapeHyphen ? pos + 1 : pos, to);
      return;
    }
    let end: number;
    if (escapeHyphen) {
      ESCAPED_HYPHEN.copy(line, 0);
      end = 3 + src.copy(line, 3, pos + 1, pos + 1 + LINE - 3);
    } else end = src.copy(line, 0, pos, pos + LINE);
    let breakAt = -1;
    for (let i = end - 1; i >= end - MARGIN; i--)
      if (BREAK_AFTER[line[i] as number]) {
        breakAt = i;
        break;
      }
    if (breakAt >= 0) end = breakAt + 1;
    else if (
      line[end - 1] === 0x3d ||
      (line[end - 2] === 0x3d && hexValue(line[end - 1]) >= 0) ||
      endsWithEscape(line, end)
    ) {
      if (line[end - 2] === 0x3d && hexValue(line[end - 1]) >= 0) end -= 2;
      else if (line[end - 1] === 0x3d) end -= 1;
      end = trimUtf8Sequence(line, end);
    }
    if (end === LINE) end -= endsWithEscape(line, end) ? 3 : 1;
    pos += escapeHyphen ? end - 2 : end;
    out.copy(line, 0, end);
    out.copy(softBreak, 0, softBreak.length);
  }
}

/**
 * The block (whole lines, or the end of the input) quoted-printable encoded in lines of at most
 * 76 characters, every line break (the input's and the soft ones) written as `eol`.
 */
export function quotedPrintableBlock(block: Buffer, eolText: '\r\n' | '\n'): Buffer {
  const encoded = encodeLines(block);
  const eol = Buffer.from(eolText, 'latin1');
  const softBreak = Buffer.from(`=${eolText}`, 'latin1');
  const crLf = eolText === '\r\n';
  // Lines that need no soft break and already end in `eol` come out as they are encoded: they are
  // copied a run at a time, not a line at a time (125,000 short lines a MB cost a copy call each,
  // issue 19), and a block made only of them is the encoded block itself.
  let out: Output | undefined;
  let runStart = 0;
  let from = 0;
  for (;;) {
    const feed = encoded.indexOf(0x0a, from);
    const lineEnd = feed < 0 ? encoded.length : feed;
    const crBefore = feed > from && encoded[feed - 1] === 0x0d;
    const to = crBefore ? feed - 1 : lineEnd;
    if (to - from <= LINE && (feed < 0 || crBefore === crLf)) {
      if (feed < 0) break;
      from = feed + 1;
      continue;
    }
    // Room for the usual case (a soft break every 50 or more characters); Output grows past it.
    out ??= new Output(encoded.length + (encoded.length >> 3) + 16);
    if (from > runStart) out.copy(encoded, runStart, from);
    wrapLine(encoded, from, to, out, softBreak);
    if (feed < 0) {
      runStart = encoded.length;
      break;
    }
    out.copy(eol, 0, eol.length);
    from = feed + 1;
    runStart = from;
  }
  if (!out) return encoded;
  out.copy(encoded, runStart, encoded.length);
  return out.buffer.subarray(0, out.at);
}
