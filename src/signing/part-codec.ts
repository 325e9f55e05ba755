/**
 * Decoding and re-encoding of one body part: transfer encoding (base64, quoted-printable, 7bit,
 * 8bit, binary) and charset (anything iconv-lite knows). The part is buffered whole, which is the
 * one place the engine holds content in memory: body text, never attachments.
 */
import { TextDecoder } from 'node:util';
import iconv from 'iconv-lite';
import * as libqp from 'libqp';
import * as libbase64 from 'libbase64';
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
  body: Buffer;
  /** Set when the charset parameter must change. */
  charset?: string;
  /** Set when the Content-Transfer-Encoding header must change. */
  transferEncoding?: string;
}

const IDENTITY_ENCODINGS = new Set(['', '7bit', '8bit', 'binary']);
/** Charsets we read but never write back (not ASCII-compatible): UTF-8 replaces them. */
const READ_ONLY_CHARSETS = /^(?:utf-?16|utf-?32|ucs-?2|utf-?7|unicode-1-1-utf-7)/;
const MAX_LINE = 998;

function isAscii(bytes: Buffer): boolean {
  for (const byte of bytes) if (byte > 0x7f) return false;
  return true;
}

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

function transferDecode(raw: Buffer, transferEncoding: string): Buffer {
  if (IDENTITY_ENCODINGS.has(transferEncoding)) return raw;
  if (transferEncoding === 'quoted-printable') return libqp.decode(raw);
  if (transferEncoding === 'base64') return libbase64.decode(raw.toString('latin1'));
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

export function decodePart(
  raw: Buffer,
  options: { transferEncoding: string; charset: string | false; html: boolean },
): DecodedPart & { bytes: Buffer } {
  const transferEncoding = options.transferEncoding.trim().toLowerCase();
  const bytes = transferDecode(raw, transferEncoding);
  const charset = chooseCharset(bytes, options.charset, options.html);
  const text = decodeText(bytes, charset);
  if (text.includes('\uFFFD') && !bytes.toString('latin1').includes('\xEF\xBF\xBD')) {
    // Bytes the charset cannot represent would be lost on re-encoding: leave the message as it is.
    throw new LeaveAloneError('undecodable-body');
  }
  const eol = text.includes('\r\n') || (!text.includes('\n') && raw.includes('\r\n')) ? '\r\n' : '\n';
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
  return iconv.encode(original.text, charset).equals(original.bytes) ? charset : 'utf-8';
}

function withEol(encoded: string, eol: string): string {
  return encoded.replace(/\r?\n/g, eol);
}

/**
 * Encodes the new text: base64 and quoted-printable parts keep their encoding; an identity-encoded
 * part (7bit, 8bit, binary, none) stays as it is while it is ASCII with lines of at most 998
 * octets, and becomes quoted-printable otherwise.
 */
export function encodePart(
  original: DecodedPart,
  text: string,
  charset: string,
  bodyEol: '\r\n' | '\n',
): EncodedPart {
  const bytes = iconv.encode(text, charset);
  const implied = original.declaredCharset || 'us-ascii';
  const charsetChange = charset === implied ? undefined : charset;
  const cte = original.transferEncoding;
  if (cte === 'base64') {
    return {
      body: Buffer.from(withEol(libbase64.wrap(libbase64.encode(bytes), 76), bodyEol), 'latin1'),
      charset: charsetChange,
    };
  }
  // 8-bit text always goes out as quoted-printable: it then survives any relay, 8BITMIME or not.
  if (cte !== 'quoted-printable' && isAscii(bytes) && longestLine(bytes) <= MAX_LINE) {
    return { body: bytes, charset: charsetChange };
  }
  const qp = withEol(libqp.wrap(libqp.encode(bytes), 76), bodyEol);
  return {
    body: Buffer.from(qp, 'latin1'),
    charset: charsetChange,
    transferEncoding: cte === 'quoted-printable' ? undefined : 'quoted-printable',
  };
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
