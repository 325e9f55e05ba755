/**
 * Decoding and re-encoding of one body part: transfer encoding (base64, quoted-printable, 7bit,
 * 8bit, binary) and charset (anything iconv-lite knows). A body part is the one place the engine
 * holds content in memory (body text, never attachments), so each step keeps one copy of it where
 * it can (issue 19): the encoded part stays the list of chunks it arrived in, transfer decoding
 * writes straight into one Buffer, and re-encoding hands back a list of chunks to stream out.
 */
import { isAscii } from 'node:buffer';
import { TextDecoder } from 'node:util';
import iconv from 'iconv-lite';
import * as libqp from 'libqp';
import * as libbase64 from 'libbase64';
import { quotedPrintableBlock } from './qp-writer.js';
import { htmlTags } from './quote-html-tags.js';

/** A decoding problem that makes the engine leave the whole message alone, with this reason. */
export class LeaveAloneError extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.reason = reason;
  }
}

export interface DecodedPart {
  text: string;
  /** Charset the text was decoded with (normalised, lower case). */
  charset: string;
  /** Charset parameter as declared ('' when absent). */
  declaredCharset: string;
  /** Transfer encoding as declared ('' when absent). */
  transferEncoding: string;
  /** Line ending used inside the decoded content. */
  eol: '\r\n' | '\n';
}

export interface EncodedPart {
  /**
   * The encoded body in pieces, written out one after the other (never joined). Base64 and
   * quoted-printable pieces are encoded as they are read, so only those the reader holds exist.
   */
  body: Iterable<Buffer>;
  /** Set when the charset parameter must change. */
  charset?: string;
  /** Set when the Content-Transfer-Encoding header must change. */
  transferEncoding?: string;
}

const IDENTITY_ENCODINGS = new Set(['', '7bit', '8bit', 'binary']);
/** Charsets we read but never write back (not ASCII-compatible): UTF-8 replaces them. */
const READ_ONLY_CHARSETS = /^(?:utf-?16|utf-?32|ucs-?2|utf-?7|unicode-1-1-utf-7)/;
const MAX_LINE = 998;

function longestLine(bytes: Buffer): number {
  let longest = 0;
  let start = 0;
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1)) {
    longest = Math.max(longest, at - start);
    start = at + 1;
  }
  return Math.max(longest, bytes.length - start);
}

const isCharsetNameChar = (char: string | undefined) => !!char && /[\w.:-]/.test(char);
const isBlank = (char: string | undefined) => !!char && /\s/.test(char);

/**
 * Where the charset name stands in each `<meta charset=…>` or `<meta content="…; charset=…">`
 * tag. Read tag by tag with the linear scanner: a pattern over the whole document backtracks
 * super-linearly on hostile markup (issue 19).
 */
function metaCharsets(html: string): { at: number; end: number }[] {
  const found: { at: number; end: number }[] = [];
  for (const tag of htmlTags(html)) {
    if (tag.name !== 'meta' || tag.closing) continue;
    const source = html.slice(tag.start, tag.end).toLowerCase();
    for (let at = source.indexOf('charset'); at >= 0; at = source.indexOf('charset', at + 1)) {
      if (/\w/.test(source[at - 1] ?? '')) continue;
      let i = at + 7;
      while (isBlank(source[i])) i++;
      if (source[i] !== '=') continue;
      i++;
      while (isBlank(source[i])) i++;
      if (source[i] === '"' || source[i] === "'") i++;
      while (isBlank(source[i])) i++;
      const start = i;
      while (isCharsetNameChar(source[i])) i++;
      if (i === start) continue;
      found.push({ at: tag.start + start, end: tag.start + i });
      break;
    }
  }
  return found;
}

/** The charset an HTML document declares for itself in a `<meta>` tag, or ''. */
function metaCharset(html: string): string {
  const first = metaCharsets(html)[0];
  return first ? html.slice(first.at, first.end).toLowerCase() : '';
}

function concat(pieces: Buffer[]): Buffer {
  return pieces.length === 1 && pieces[0] ? pieces[0] : Buffer.concat(pieces);
}

/** Bytes read at a time by the block-wise coders: small beside a part, large beside a line. */
const BLOCK_BYTES = 1024 * 1024;

/**
 * The pieces regrouped into contiguous blocks of about BLOCK_BYTES, each ending just after a line
 * feed (the last one where the input ends). Quoted-printable decoding, encoding and wrapping all
 * work line by line, so coding block by block gives the bytes coding the whole would give.
 */
function* lineBlocks(pieces: Buffer[]): Generator<Buffer> {
  let carry: Buffer[] = [];
  let held = 0;
  for (const piece of slices(pieces, BLOCK_BYTES)) {
    const cut = piece.lastIndexOf(0x0a) + 1;
    if (held + piece.length < BLOCK_BYTES || cut === 0) {
      carry.push(piece);
      held += piece.length;
      continue;
    }
    carry.push(piece.subarray(0, cut));
    yield concat(carry);
    carry = cut < piece.length ? [piece.subarray(cut)] : [];
    held = piece.length - cut;
  }
  if (held > 0) yield concat(carry);
}

/** The pieces as views of at most `size` bytes: a whole-part piece is never copied whole. */
function* slices(pieces: Buffer[], size: number): Generator<Buffer> {
  for (const piece of pieces)
    for (let at = 0; at < piece.length; at += size) yield piece.subarray(at, at + size);
}

function quotedPrintableDecode(raw: Buffer[], size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let length = 0;
  for (const block of lineBlocks(raw)) length += libqp.decode(block).copy(out, length);
  return out.subarray(0, length);
}

const BASE64_ALPHABET = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
  BASE64_ALPHABET[c.charCodeAt(0)] = 1;
const isBase64Space = (byte: number) => byte === 0x0d || byte === 0x0a || byte === 0x20 || byte === 0x09;

/**
 * Decodes plain base64 (the alphabet and line breaks, padding only at the very end) chunk by
 * chunk into one Buffer, without a string of the whole part. Anything else returns undefined, and
 * the caller decodes it whole with libbase64, whose rules for odd input (padding inside, stray
 * characters) this does not repeat.
 */
function plainBase64Decode(raw: Buffer[], size: number): Buffer | undefined {
  const out = Buffer.allocUnsafe(Math.floor((size * 3) / 4) + 3);
  let length = 0;
  const group = Buffer.allocUnsafe(BLOCK_BYTES + 4);
  let held = 0;
  let padding = false;
  for (const chunk of raw) {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (isBase64Space(byte)) continue;
      if (byte === 0x3d) padding = true;
      else if (padding || !BASE64_ALPHABET[byte]) return undefined;
      group[held++] = byte;
      if (held >= BLOCK_BYTES && held % 4 === 0) {
        length += out.write(group.toString('latin1', 0, held), length, 'base64');
        held = 0;
      }
    }
  }
  if (held > 0) length += out.write(group.toString('latin1', 0, held), length, 'base64');
  return out.subarray(0, length);
}

function transferDecode(raw: Buffer[], transferEncoding: string): Buffer {
  if (IDENTITY_ENCODINGS.has(transferEncoding)) return concat(raw);
  const size = raw.reduce((sum, chunk) => sum + chunk.length, 0);
  if (transferEncoding === 'quoted-printable') return quotedPrintableDecode(raw, size);
  if (transferEncoding === 'base64')
    return plainBase64Decode(raw, size) ?? libbase64.decode(concat(raw).toString('latin1'));
  throw new LeaveAloneError(`unsupported-transfer-encoding`);
}

/**
 * The charset to decode with. 8-bit text without a usable declaration (none, or us-ascii) is
 * ambiguous: any choice of ours could change how the existing text displays, so it is left alone.
 */
function chooseCharset(bytes: Buffer, declared: string | false, html: boolean): string {
  let charset = (declared || '').trim().toLowerCase();
  if (!charset && html) charset = metaCharset(bytes.toString('latin1', 0, 4096));
  if (!charset || charset === 'us-ascii' || charset === 'ascii') {
    if (!isAscii(bytes)) throw new LeaveAloneError('undeclared-charset');
    return 'us-ascii';
  }
  if (!iconv.encodingExists(charset) && !whatwgDecoder(charset)) throw new LeaveAloneError('unknown-charset');
  return charset;
}

/**
 * iconv-lite lacks a few charsets real mail uses (ISO-2022-JP above all); Node's WHATWG decoder
 * reads them. Such parts are decode-only: they go back out as UTF-8.
 */
function whatwgDecoder(charset: string): TextDecoder | undefined {
  try {
    return new TextDecoder(charset, { fatal: true });
  } catch {
    return undefined;
  }
}

/** Bytes per code unit of the wide charsets. */
const WIDE_UNITS: [RegExp, number][] = [
  [/^(?:utf-?32|ucs-?4)/, 4],
  [/^(?:utf-?16|ucs-?2)/, 2],
];
/** A surrogate half without its partner: no UTF-8 (or any other output charset) can carry it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * iconv-lite decodes UTF-16 with an odd byte count by dropping the last byte, silently, and keeps
 * unpaired surrogates that re-encoding would turn into U+FFFD. Either way a byte of the sender's
 * text would be lost, so such a part (and its message) is left alone, with the reason.
 */
function checkWideCharset(bytes: Buffer, charset: string, text: string): void {
  const unit = WIDE_UNITS.find(([pattern]) => pattern.test(charset))?.[1];
  if (unit === undefined) return;
  if (bytes.length % unit !== 0) throw new LeaveAloneError('truncated-wide-charset');
  if (LONE_SURROGATE.test(text)) throw new LeaveAloneError('undecodable-body');
}

function decodeText(bytes: Buffer, charset: string): string {
  if (iconv.encodingExists(charset)) {
    const text = iconv.decode(bytes, charset);
    checkWideCharset(bytes, charset, text);
    return text;
  }
  try {
    return (whatwgDecoder(charset) as TextDecoder).decode(bytes);
  } catch {
    throw new LeaveAloneError('undecodable-body');
  }
}

const REPLACEMENT_CHARACTER = Buffer.from('\uFFFD', 'utf8');

/** Whether the chunks, read as one, hold a CR LF (also across two chunks). */
function hasCrLf(raw: Buffer[]): boolean {
  return raw.some(
    (chunk, i) => chunk.includes('\r\n') || (chunk[chunk.length - 1] === 0x0d && raw[i + 1]?.[0] === 0x0a),
  );
}

/**
 * Decodes a part given as the chunks it arrived in. For identity encodings `bytes` is those chunks
 * joined, so the caller can drop the chunks and keep `bytes` alone.
 */
export function decodePart(
  raw: Buffer[],
  options: { transferEncoding: string; charset: string | false; html: boolean },
): DecodedPart & { bytes: Buffer } {
  const transferEncoding = options.transferEncoding.trim().toLowerCase();
  const bytes = transferDecode(raw, transferEncoding);
  const charset = chooseCharset(bytes, options.charset, options.html);
  const text = decodeText(bytes, charset);
  if (text.includes('\uFFFD') && !bytes.includes(REPLACEMENT_CHARACTER)) {
    // Bytes the charset cannot represent would be lost on re-encoding: leave the message as it is.
    throw new LeaveAloneError('undecodable-body');
  }
  const eol = text.includes('\r\n') || (!text.includes('\n') && hasCrLf(raw)) ? '\r\n' : '\n';
  const declaredCharset = (options.charset || '').trim().toLowerCase();
  return { text, charset, declaredCharset, transferEncoding, eol, bytes };
}

/**
 * Picks the output charset: the part's own when it can carry the new text and writes the old
 * content back byte for byte, UTF-8 otherwise.
 */
export function outputCharset(original: DecodedPart & { bytes: Buffer }, added: string): string {
  const { charset } = original;
  if (READ_ONLY_CHARSETS.test(charset) || !iconv.encodingExists(charset)) return 'utf-8';
  if (charset === 'us-ascii' || charset === 'ascii')
    return Buffer.byteLength(added) === added.length ? charset : 'utf-8';
  if (iconv.decode(iconv.encode(added, charset), charset) !== added) return 'utf-8';
  return encodesBackTo(original.text, charset, original.bytes) ? charset : 'utf-8';
}

/** Characters encoded at a time when comparing: the whole text encoded at once is a second copy. */
const COMPARE_CHARS = 1024 * 1024;

/** The end of a slice of `text` at or before `end` that does not split a surrogate pair. */
function safeEnd(text: string, end: number): number {
  if (end >= text.length) return text.length;
  const code = text.charCodeAt(end - 1);
  return code >= 0xd800 && code <= 0xdbff ? end - 1 : end;
}

/**
 * Whether `text` encodes to exactly `bytes`, encoded a slice at a time. The charsets written back
 * (not the read-only ones) encode each character on its own, so slices that keep surrogate pairs
 * whole encode to the bytes the whole text would.
 */
function encodesBackTo(text: string, charset: string, bytes: Buffer): boolean {
  let at = 0;
  for (let start = 0; start < text.length;) {
    const end = Math.max(safeEnd(text, start + COMPARE_CHARS), start + 1);
    const piece = iconv.encode(text.slice(start, end), charset);
    if (!piece.equals(bytes.subarray(at, at + piece.length))) return false;
    at += piece.length;
    start = end;
  }
  return at === bytes.length;
}

/**
 * The byte offset in `bytes` of character index `at` of `text`, for a part whose text encodes
 * back to its bytes (see outputCharset); undefined where it would split a surrogate pair.
 */
export function byteOffset(text: string, at: number, charset: string): number | undefined {
  if (safeEnd(text, at) !== at) return undefined;
  if (charset === 'utf-8' || charset === 'utf8') return Buffer.byteLength(text.slice(0, at), 'utf8');
  let offset = 0;
  for (let start = 0; start < at;) {
    const end = Math.max(safeEnd(text, Math.min(start + COMPARE_CHARS, at)), start + 1);
    offset += iconv.encode(text.slice(start, end), charset).length;
    start = end;
  }
  return offset;
}

/** Input bytes per base64 block: whole 76-character lines (57 bytes each). */
const BASE64_BLOCK = 57 * 16 * 1024;

/**
 * Base64 in 76-character lines, block by block: the lines libbase64.wrap(encode(all)) gives,
 * joined with `eol`, without the encoded part ever being one string.
 */
function* base64Lines(pieces: Buffer[], eol: string): Generator<Buffer> {
  const lines = (block: Buffer) => (block.toString('base64').match(/.{1,76}/g) ?? []).join(eol);
  let carry: Buffer[] = [];
  let held = 0;
  const total = pieces.reduce((sum, piece) => sum + piece.length, 0);
  let done = 0;
  for (const piece of slices(pieces, BASE64_BLOCK)) {
    carry.push(piece);
    held += piece.length;
    if (held < BASE64_BLOCK) continue;
    const joined = concat(carry);
    const whole = joined.length - (joined.length % BASE64_BLOCK);
    for (let at = 0; at < whole; at += BASE64_BLOCK) {
      done += BASE64_BLOCK;
      yield Buffer.from(lines(joined.subarray(at, at + BASE64_BLOCK)) + (done < total ? eol : ''), 'latin1');
    }
    carry = whole < joined.length ? [joined.subarray(whole)] : [];
    held = joined.length - whole;
  }
  if (held > 0) yield Buffer.from(lines(concat(carry)), 'latin1');
}

function* quotedPrintableLines(pieces: Buffer[], eol: '\r\n' | '\n'): Generator<Buffer> {
  for (const block of lineBlocks(pieces)) yield quotedPrintableBlock(block, eol);
}

/** Whether the pieces, read as one, are ASCII with lines of at most MAX_LINE octets. */
function isShortLineAscii(pieces: Buffer[]): boolean {
  let line = 0;
  for (const piece of pieces) {
    if (!isAscii(piece)) return false;
    const first = piece.indexOf(0x0a);
    if (first < 0) line += piece.length;
    else {
      if (line + first > MAX_LINE || longestLine(piece) > MAX_LINE) return false;
      line = piece.length - piece.lastIndexOf(0x0a) - 1;
    }
    if (line > MAX_LINE) return false;
  }
  return true;
}

/**
 * Encodes the new content, given as bytes in `charset` in pieces (read as one): base64 and
 * quoted-printable parts keep their encoding; an identity-encoded part (7bit, 8bit, binary, none)
 * stays as it is while it is ASCII with lines of at most 998 octets, and becomes quoted-printable
 * otherwise.
 */
export function encodeBytes(
  original: DecodedPart,
  pieces: Buffer[],
  charset: string,
  bodyEol: '\r\n' | '\n',
): EncodedPart {
  const implied = original.declaredCharset || 'us-ascii';
  const charsetChange = charset === implied ? undefined : charset;
  const cte = original.transferEncoding;
  if (cte === 'base64') return { body: base64Lines(pieces, bodyEol), charset: charsetChange };
  // 8-bit text always goes out as quoted-printable: it then survives any relay, 8BITMIME or not.
  if (cte !== 'quoted-printable' && isShortLineAscii(pieces)) return { body: pieces, charset: charsetChange };
  return {
    body: quotedPrintableLines(pieces, bodyEol),
    charset: charsetChange,
    transferEncoding: cte === 'quoted-printable' ? undefined : 'quoted-printable',
  };
}

/** Encodes the new text (see encodeBytes). */
export function encodePart(
  original: DecodedPart,
  text: string,
  charset: string,
  bodyEol: '\r\n' | '\n',
): EncodedPart {
  return encodeBytes(original, [iconv.encode(text, charset)], charset, bodyEol);
}

/** Points an HTML document's own charset declaration at the new charset. */
export function retargetMetaCharset(html: string, charset: string): string {
  const parts: string[] = [];
  let at = 0;
  for (const value of metaCharsets(html)) {
    parts.push(html.slice(at, value.at), charset);
    at = value.end;
  }
  parts.push(html.slice(at));
  return parts.join('');
}
