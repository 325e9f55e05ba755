/**
 * Decoding and re-encoding of one body part: transfer encoding (base64, quoted-printable, 7bit,
 * 8bit, binary) and charset (anything iconv-lite knows). A body part is the one place the engine
 * holds content in memory (body text, never attachments), so each step keeps one copy of it where
 * it can (issue 19): a part to be signed is decoded into its text as it arrives (PartCollector),
 * a part that may go out unchanged stays the list of chunks it arrived in, transfer decoding writes
 * straight into one Buffer, and re-encoding hands back pieces, made from the text as they are read.
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

/** A piece at least this large is coded where it lies rather than copied into a block (lineBlocks). */
const LARGE_PIECE = 64 * 1024;

/**
 * The pieces regrouped into contiguous blocks of about BLOCK_BYTES, each ending just after a line
 * feed (the last one where the input ends). Quoted-printable decoding, encoding and wrapping all
 * work line by line, so coding block by block gives the bytes coding the whole would give.
 */
function* lineBlocks(pieces: Iterable<Buffer>): Generator<Buffer> {
  let carry: Buffer[] = [];
  let held = 0;
  for (let piece of slices(pieces, BLOCK_BYTES)) {
    // A signed part comes as its bytes before the signature, the signature and its bytes after:
    // one of the two is usually most of the part, and joining it with the others into one block
    // copied it whole (issue 19). Any cut just after a line feed codes the same, so a large piece
    // is cut away from the small ones at its first or last line feed and coded where it lies.
    if (carry.length === 1 && held >= LARGE_PIECE) {
      const large = carry[0] as Buffer;
      const last = large.lastIndexOf(0x0a) + 1;
      if (last > 0) {
        yield large.subarray(0, last);
        carry = last < large.length ? [large.subarray(last)] : [];
        held = large.length - last;
      }
    }
    if (held > 0 && piece.length >= LARGE_PIECE) {
      const first = piece.indexOf(0x0a) + 1;
      if (first > 0) {
        carry.push(piece.subarray(0, first));
        yield concat(carry);
        carry = [];
        held = 0;
        piece = piece.subarray(first);
      }
    }
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
function* slices(pieces: Iterable<Buffer>, size: number): Generator<Buffer> {
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
  const charset = declaredCharset(bytes, declared, html);
  if (charset === 'us-ascii' && !isAscii(bytes)) throw new LeaveAloneError('undeclared-charset');
  return charset;
}

/**
 * chooseCharset's choice from the start of the part alone (`head`: 4096 bytes or more, or the
 * whole part): 'us-ascii' stands for "none usable", and the caller checks the bytes are ASCII.
 */
function declaredCharset(head: Buffer, declared: string | false, html: boolean): string {
  let charset = (declared || '').trim().toLowerCase();
  if (!charset && html) charset = metaCharset(head.toString('latin1', 0, 4096));
  if (!charset || charset === 'us-ascii' || charset === 'ascii') return 'us-ascii';
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
function checkWideCharset(byteCount: number, charset: string, text: string): void {
  const unit = WIDE_UNITS.find(([pattern]) => pattern.test(charset))?.[1];
  if (unit === undefined) return;
  if (byteCount % unit !== 0) throw new LeaveAloneError('truncated-wide-charset');
  if (LONE_SURROGATE.test(text)) throw new LeaveAloneError('undecodable-body');
}

function decodeText(bytes: Buffer, charset: string): string {
  if (iconv.encodingExists(charset)) {
    const text = iconv.decode(bytes, charset);
    checkWideCharset(bytes.length, charset, text);
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

/** Charsets whose every ASCII byte stands for that ASCII character, one byte each way. */
const ASCII_COMPATIBLE =
  /^(?:utf-?8|us-ascii|ascii|iso[-_]?8859-\d{1,2}|latin-?[1-9]|windows-125\d|cp125\d)$/;

function decodeBytes(
  bytes: Buffer,
  options: { transferEncoding: string; charset: string | false; html: boolean },
  rawCrLf: () => boolean,
): { part: DecodedPart; ascii: boolean } {
  const charset = chooseCharset(bytes, options.charset, options.html);
  // ASCII in an ASCII charset is its own text: read as one byte a character (no decoder pass),
  // and the bytes are that text written back as Latin-1, so the caller need not keep them.
  const ascii = ASCII_COMPATIBLE.test(charset) && isAscii(bytes);
  const text = ascii ? bytes.toString('latin1') : decodeText(bytes, charset);
  const part = decodedPart(text, charset, {
    declared: options.charset,
    transferEncoding: options.transferEncoding,
    ascii,
    bytesHoldReplacement: () => bytes.includes(REPLACEMENT_CHARACTER),
    rawCrLf,
  });
  return { part, ascii };
}

/**
 * The decoded part once its text is known, from the whole part (decodeBytes) or from its blocks
 * (PartCollector): a U+FFFD its bytes did not hold stands for bytes the charset cannot represent,
 * which re-encoding would lose, so the message is left as it is.
 */
function decodedPart(
  text: string,
  charset: string,
  o: {
    declared: string | false;
    transferEncoding: string;
    ascii: boolean;
    bytesHoldReplacement: () => boolean;
    rawCrLf: () => boolean;
  },
): DecodedPart {
  if (!o.ascii && text.includes('\uFFFD') && !o.bytesHoldReplacement())
    throw new LeaveAloneError('undecodable-body');
  const eol = text.includes('\r\n') || (!text.includes('\n') && o.rawCrLf()) ? '\r\n' : '\n';
  const declaredCharset = (o.declared || '').trim().toLowerCase();
  return { text, charset, declaredCharset, transferEncoding: o.transferEncoding, eol };
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
  const { part } = decodeBytes(bytes, { ...options, transferEncoding }, () => hasCrLf(raw));
  return { ...part, bytes };
}

/**
 * A body part held as its text alone (issue 19): the decoded bytes of a large part are not kept
 * beside it. Where the part may keep its charset, `writesBack` says its text encodes back to
 * exactly those bytes, so splicedBytes gives them again; otherwise a signed part goes out as UTF-8,
 * encoded from the text.
 */
export interface PartText extends DecodedPart {
  writesBack: boolean;
  /**
   * The decoded bytes of a small part (one block at most): cutting them costs less than encoding
   * the text again, and keeping them costs little.
   */
  bytes?: Buffer;
}

/** The decoded bytes, when small enough to keep beside the text (see PartText). */
function smallBytes(bytes: Buffer | undefined): { bytes?: Buffer } {
  return bytes && bytes.length <= BLOCK_BYTES ? { bytes } : {};
}

/**
 * Decodes a part the caller may still write back as it came, from the chunks it came in: for
 * identity encodings the list is left holding the joined bytes only, one copy of the part beside
 * its text; the decoded bytes of other encodings are let go once the text is checked against them.
 * (A part that is signed or else left alone is decoded as it arrives: see PartCollector.)
 */
export function decodeForSigning(
  raw: Buffer[],
  options: { transferEncoding: string; charset: string | false; html: boolean },
): PartText {
  const transferEncoding = options.transferEncoding.trim().toLowerCase();
  const bytes = transferDecode(raw, transferEncoding);
  if (IDENTITY_ENCODINGS.has(transferEncoding)) raw.splice(0, raw.length, bytes);
  const { part, ascii } = decodeBytes(bytes, { ...options, transferEncoding }, () => hasCrLf(raw));
  const { charset, text } = part;
  const writesBack = writable(charset) && (ascii || encodesBackTo(text, charset, bytes));
  return { ...part, writesBack, ...smallBytes(bytes) };
}

/**
 * Whether a part declared in this charset is decoded as it arrives (PartCollector) when it is to
 * be signed. Only the ASCII charsets (UTF-8, Latin, Windows) are: what the engine writes for a
 * message it leaves alone is not the message (signMessage's callers deliver the original), yet a
 * wide or multi-byte part it leaves alone is still written back byte for byte
 * (test/security/wide-charsets.test.ts), which takes the part as it came.
 */
export function decodedAsItArrives(charset: string | false): boolean {
  return ASCII_COMPATIBLE.test((charset || '').trim().toLowerCase());
}

/** Whether a signed part may keep this charset (else it goes out as UTF-8). */
function writable(charset: string): boolean {
  return !READ_ONLY_CHARSETS.test(charset) && iconv.encodingExists(charset);
}

/**
 * Encoded bytes the collector transfer-decodes at a time: small enough that the decoders' own
 * strings stay in V8's young generation (under 128 KiB) and die there, rather than pile up as
 * large objects until a full collection.
 */
const COLLECT_BYTES = 64 * 1024;

/** Bytes a charset decoder may hold back (an unfinished character) while its text is compared. */
const MAX_UNMATCHED = 4096;

interface StreamDecoder {
  write(bytes: Buffer): string;
  end(): string;
}

/**
 * The charset's stream decoder. One started after the part's first bytes (read as ASCII) must not
 * take a byte order mark there for its own: decoding the whole part would not.
 */
function streamDecoder(charset: string, midStream: boolean): StreamDecoder {
  if (iconv.encodingExists(charset)) {
    const decoder = iconv.getDecoder(charset, midStream ? { stripBOM: false } : undefined);
    return { write: (bytes) => decoder.write(bytes), end: () => decoder.end() ?? '' };
  }
  const decoder = whatwgDecoder(charset) as TextDecoder;
  const fatal = (read: () => string) => {
    try {
      return read();
    } catch {
      throw new LeaveAloneError('undecodable-body');
    }
  };
  return {
    write: (bytes) => fatal(() => decoder.decode(bytes, { stream: true })),
    end: () => fatal(() => decoder.decode()),
  };
}

/**
 * A part that is signed or else left alone with its whole message (decodeForSigning with
 * `keepEncoded` false), decoded as it arrives: each chunk is transfer-decoded at once and the
 * decoded bytes read into text a block of about BLOCK_BYTES at a time, so neither the part's
 * chunks nor its decoded bytes are ever all held, only its text, in pieces until `end` joins them
 * (issue 19). It gives what decodeForSigning gives for the same chunks, or fails with the same
 * reason: the transfer decoders cut the part where the whole-part ones do (lines, groups of four
 * characters), the charset decoders are stream decoders, and what decodeForSigning checks on the
 * whole part (ASCII, writing back, U+FFFD, wide charsets) is checked block by block.
 */
export class PartCollector {
  private readonly transferEncoding: string;
  private readonly declared: string | false;
  private readonly html: boolean;
  /** The first reason to leave the part alone; what arrives after it is dropped. */
  private failure: LeaveAloneError | undefined;
  /** The part as it came holds a CR LF (the line ending of a text without a line feed). */
  private rawCrLf = false;
  private lastRawByte = -1;

  /** Quoted-printable lines not yet decoded (cut after a line feed, as lineBlocks cuts them). */
  private qpCarry: Buffer[] = [];
  private qpHeld = 0;
  /** Base64 characters not yet decoded (whole groups of four, as plainBase64Decode takes them). */
  private readonly b64Group: Buffer;
  private b64Held = 0;
  private b64Padding = false;
  /**
   * Base64 that turned out not to be plain: its undecoded characters and the rest as it came, for
   * libbase64 at the end. What was decoded before stands: it was whole groups of four, which
   * libbase64 decodes to the same bytes whatever follows them.
   */
  private b64Rest: Buffer[] | undefined;

  /** Decoded bytes not yet read into text. */
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;
  private totalBytes = 0;
  private charset: string | undefined;
  /** Every byte so far is ASCII in an ASCII charset, read as Latin-1 without a decoder. */
  private ascii = true;
  private decoder: StreamDecoder | undefined;
  private pieces: string[] = [];
  /** The text so far encodes back to the bytes so far (see PartText). */
  private writesBack = true;
  /** Bytes read that the decoder has not yet given characters for. */
  private unmatched = Buffer.alloc(0);
  /** A high surrogate ending a piece, compared with the piece that brings its partner. */
  private heldSurrogate = '';
  private bytesHaveReplacement = false;
  /** The first block read, while it is the only one: a small part's bytes (see PartText). */
  private first: Buffer | undefined;
  private lastBytes = Buffer.alloc(0);

  constructor(options: { transferEncoding: string; charset: string | false; html: boolean }) {
    this.transferEncoding = options.transferEncoding.trim().toLowerCase();
    this.declared = options.charset;
    this.html = options.html;
    this.b64Group = Buffer.allocUnsafe(this.transferEncoding === 'base64' ? COLLECT_BYTES + 4 : 0);
    const known = ['base64', 'quoted-printable', ...IDENTITY_ENCODINGS];
    if (!known.includes(this.transferEncoding))
      this.failure = new LeaveAloneError('unsupported-transfer-encoding');
  }

  write(chunk: Buffer): void {
    if (this.failure || chunk.length === 0) return;
    this.rawCrLf ||= chunk.includes('\r\n') || (this.lastRawByte === 0x0d && chunk[0] === 0x0a);
    this.lastRawByte = chunk[chunk.length - 1] as number;
    this.guard(() => {
      if (this.transferEncoding === 'base64') this.base64(chunk);
      else if (this.transferEncoding === 'quoted-printable') this.quotedPrintable(chunk);
      else this.gather(chunk);
    });
  }

  /** The part's text; throws LeaveAloneError where decodeForSigning would. */
  end(): PartText {
    this.guard(() => {
      if (this.b64Rest) this.gather(libbase64.decode(concat(this.b64Rest).toString('latin1')));
      else if (this.b64Held > 0)
        this.gather(Buffer.from(this.b64Group.toString('latin1', 0, this.b64Held), 'base64'));
      if (this.qpHeld > 0) this.gather(libqp.decode(concat(this.qpCarry)));
      if (this.gatheredBytes > 0 || this.charset === undefined) this.read();
      if (this.decoder) this.pieces.push(this.compared(this.decoder.end(), undefined));
      if (this.unmatched.length > 0) this.writesBack = false;
    });
    if (this.failure) throw this.failure;
    const charset = this.charset as string;
    const text = this.pieces.length === 1 ? (this.pieces[0] as string) : this.pieces.join('');
    this.pieces = [];
    if (this.decoder && iconv.encodingExists(charset)) checkWideCharset(this.totalBytes, charset, text);
    const part = decodedPart(text, charset, {
      declared: this.declared,
      transferEncoding: this.transferEncoding,
      ascii: this.ascii,
      bytesHoldReplacement: () => this.bytesHaveReplacement,
      rawCrLf: () => this.rawCrLf,
    });
    return {
      ...part,
      writesBack: writable(charset) && this.writesBack,
      ...smallBytes(this.first),
    };
  }

  /** Runs a step, keeping a reason to leave the part alone for `end`; anything else is thrown. */
  private guard(step: () => void): void {
    if (this.failure) return;
    try {
      step();
    } catch (err) {
      if (!(err instanceof LeaveAloneError)) throw err;
      this.failure = err;
      this.pieces = [];
      this.gathered = [];
      this.qpCarry = [];
      this.b64Rest = undefined;
    }
  }

  private quotedPrintable(chunk: Buffer): void {
    for (const piece of slices([chunk], COLLECT_BYTES)) {
      const cut = piece.lastIndexOf(0x0a) + 1;
      if (this.qpHeld + piece.length < COLLECT_BYTES || cut === 0) {
        this.qpCarry.push(piece);
        this.qpHeld += piece.length;
        continue;
      }
      this.qpCarry.push(piece.subarray(0, cut));
      this.gather(libqp.decode(concat(this.qpCarry)));
      this.qpCarry = cut < piece.length ? [piece.subarray(cut)] : [];
      this.qpHeld = piece.length - cut;
    }
  }

  private base64(chunk: Buffer): void {
    if (this.b64Rest) {
      this.b64Rest.push(chunk);
      return;
    }
    const group = this.b64Group;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (isBase64Space(byte)) continue;
      if (byte === 0x3d) this.b64Padding = true;
      else if (this.b64Padding || !BASE64_ALPHABET[byte]) {
        this.b64Rest = [Buffer.from(group.subarray(0, this.b64Held)), chunk.subarray(i)];
        this.b64Held = 0;
        return;
      }
      group[this.b64Held++] = byte;
      if (this.b64Held >= COLLECT_BYTES && this.b64Held % 4 === 0) {
        this.gather(Buffer.from(group.toString('latin1', 0, this.b64Held), 'base64'));
        this.b64Held = 0;
      }
    }
  }

  private gather(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.gathered.push(bytes);
    this.gatheredBytes += bytes.length;
    if (this.gatheredBytes >= BLOCK_BYTES) this.read();
  }

  /** Reads the gathered bytes into text (the first block also settles the charset). */
  private read(): void {
    const block = concat(this.gathered);
    this.gathered = [];
    this.gatheredBytes = 0;
    this.first = this.totalBytes === 0 ? block : undefined;
    this.charset ??= declaredCharset(block, this.declared, this.html);
    const charset = this.charset;
    if (!writable(charset)) this.writesBack = false;
    const midStream = this.totalBytes > 0;
    this.totalBytes += block.length;
    if (!this.decoder) {
      if (ASCII_COMPATIBLE.test(charset) && isAscii(block)) {
        this.pieces.push(block.toString('latin1'));
        return;
      }
      if (charset === 'us-ascii') throw new LeaveAloneError('undeclared-charset');
      this.ascii = false;
      this.decoder = streamDecoder(charset, midStream);
    }
    const edge = Buffer.concat([this.lastBytes, block.subarray(0, 2)]);
    this.bytesHaveReplacement ||=
      block.includes(REPLACEMENT_CHARACTER) || edge.includes(REPLACEMENT_CHARACTER);
    this.lastBytes = Buffer.from(block.subarray(Math.max(0, block.length - 2)));
    this.pieces.push(this.compared(this.decoder.write(block), block));
  }

  /**
   * `text`, the decoder's characters for the bytes read so far (with `block` the last of them, or
   * none at the end), after checking that it encodes back to those bytes.
   */
  private compared(text: string, block: Buffer | undefined): string {
    if (!this.writesBack) return text;
    let chars = this.heldSurrogate + text;
    this.heldSurrogate = '';
    const last = chars.charCodeAt(chars.length - 1);
    if (block && last >= 0xd800 && last <= 0xdbff) {
      this.heldSurrogate = chars.slice(-1);
      chars = chars.slice(0, -1);
    }
    const bytes = !block
      ? this.unmatched
      : this.unmatched.length
        ? Buffer.concat([this.unmatched, block])
        : block;
    const encoded = iconv.encode(chars, this.charset as string);
    if (!encoded.equals(bytes.subarray(0, encoded.length))) this.writesBack = false;
    else this.unmatched = Buffer.from(bytes.subarray(encoded.length));
    if (this.unmatched.length > MAX_UNMATCHED) this.writesBack = false;
    return text;
  }
}

/**
 * Picks the output charset: the part's own when it can carry the new text and writes the old
 * content back byte for byte, UTF-8 otherwise.
 */
export function outputCharset(original: PartText, added: string): string {
  const { charset } = original;
  if (!original.writesBack) return 'utf-8';
  if (charset === 'us-ascii' || charset === 'ascii')
    return Buffer.byteLength(added) === added.length ? charset : 'utf-8';
  if (iconv.decode(iconv.encode(added, charset), charset) !== added) return 'utf-8';
  return charset;
}

/**
 * Characters encoded at a time (comparing, or writing a signed part): the whole text encoded at
 * once would be a second copy, and slices this small (at most 128 KiB encoded in UTF-8) die young.
 */
const COMPARE_CHARS = 32 * 1024;

/** The end of a slice of `text` at or before `end` that does not split a surrogate pair. */
function safeEnd(text: string, end: number): number {
  if (end >= text.length) return text.length;
  const code = text.charCodeAt(end - 1);
  return code >= 0xd800 && code <= 0xdbff ? end - 1 : end;
}

/** text[from, to) encoded in `charset` a slice at a time, never splitting a surrogate pair. */
function* encodedSlices(text: string, from: number, to: number, charset: string): Generator<Buffer> {
  for (let start = from; start < to;) {
    const end = Math.max(safeEnd(text, Math.min(start + COMPARE_CHARS, to)), start + 1);
    yield iconv.encode(text.slice(start, end), charset);
    start = end;
  }
}

/**
 * Whether `text` encodes to exactly `bytes`, encoded a slice at a time. The charsets written back
 * (not the read-only ones) encode each character on its own, so slices that keep surrogate pairs
 * whole encode to the bytes the whole text would.
 */
function encodesBackTo(text: string, charset: string, bytes: Buffer): boolean {
  let at = 0;
  for (const piece of encodedSlices(text, 0, text.length, charset)) {
    if (!piece.equals(bytes.subarray(at, at + piece.length))) return false;
    at += piece.length;
  }
  return at === bytes.length;
}

/**
 * The bytes of a part that writes back (see PartText) with text[start, end) replaced by `middle`,
 * made a slice at a time each time they are read, so the part is never a second whole copy; the
 * slices are those of the part's own bytes, as a character encodes on its own. Undefined where a
 * cut would split a surrogate pair: the caller then encodes the signed text. `shortLineAscii` is
 * isShortLineAscii of the pieces, read from the text where that is the same.
 */
export function splicedBytes(
  part: PartText,
  start: number,
  end: number,
  middle: string,
): { pieces: Iterable<Buffer>; shortLineAscii: () => boolean } | undefined {
  const { text, charset, bytes } = part;
  if (!part.writesBack || safeEnd(text, start) !== start || safeEnd(text, end) !== end) return undefined;
  const added = iconv.encode(middle, charset);
  if (bytes) {
    const from = byteOffset(text, start, charset);
    const to = end === start ? from : byteOffset(text, end, charset);
    const pieces = [bytes.subarray(0, from), added, bytes.subarray(to)];
    return { pieces, shortLineAscii: () => isShortLineAscii(pieces) };
  }
  const pieces = {
    *[Symbol.iterator]() {
      yield* encodedSlices(text, 0, start, charset);
      yield added;
      yield* encodedSlices(text, end, text.length, charset);
    },
  };
  const shortLineAscii = ASCII_COMPATIBLE.test(charset)
    ? () => isShortLineAsciiText([text.slice(0, start), middle, text.slice(end)])
    : () => isShortLineAscii(pieces);
  return { pieces, shortLineAscii };
}

/** The byte offset of character `at` in the bytes of a text that writes back. */
function byteOffset(text: string, at: number, charset: string): number {
  if (charset === 'utf-8' || charset === 'utf8') return Buffer.byteLength(text.slice(0, at), 'utf8');
  let offset = 0;
  for (const piece of encodedSlices(text, 0, at, charset)) offset += piece.length;
  return offset;
}

/** Input bytes per base64 block: whole 76-character lines (57 bytes each). */
const BASE64_BLOCK = 57 * 16 * 1024;

/**
 * Base64 in 76-character lines, block by block: the lines libbase64.wrap(encode(all)) gives,
 * joined with `eol`, without the encoded part ever being one string. Each block is written once
 * the next one is known to follow (it then ends with `eol`), so the pieces are read only once.
 */
function* base64Lines(pieces: Iterable<Buffer>, eol: string): Generator<Buffer> {
  const lines = (block: Buffer) => (block.toString('base64').match(/.{1,76}/g) ?? []).join(eol);
  let carry: Buffer[] = [];
  let held = 0;
  let previous: string | undefined;
  for (const piece of slices(pieces, BASE64_BLOCK)) {
    carry.push(piece);
    held += piece.length;
    if (held < BASE64_BLOCK) continue;
    const joined = concat(carry);
    const whole = joined.length - (joined.length % BASE64_BLOCK);
    for (let at = 0; at < whole; at += BASE64_BLOCK) {
      if (previous !== undefined) yield Buffer.from(previous + eol, 'latin1');
      previous = lines(joined.subarray(at, at + BASE64_BLOCK));
    }
    carry = whole < joined.length ? [joined.subarray(whole)] : [];
    held = joined.length - whole;
  }
  if (held > 0) {
    if (previous !== undefined) yield Buffer.from(previous + eol, 'latin1');
    previous = lines(concat(carry));
  }
  if (previous !== undefined) yield Buffer.from(previous, 'latin1');
}

function* quotedPrintableLines(pieces: Iterable<Buffer>, eol: '\r\n' | '\n'): Generator<Buffer> {
  for (const block of lineBlocks(pieces)) yield quotedPrintableBlock(block, eol);
}

const NON_ASCII = /[^\0-\x7f]/;

/**
 * isShortLineAscii for the bytes of `parts` (read as one) in an ASCII charset, read from the text:
 * there a character is ASCII exactly when its byte is, one byte each, so the bytes need not be
 * made (a second pass over a whole part's worth of buffers, issue 19).
 */
function isShortLineAsciiText(parts: string[]): boolean {
  let line = 0;
  for (const part of parts) {
    if (NON_ASCII.test(part)) return false;
    let from = 0;
    for (let at = part.indexOf('\n'); at >= 0; at = part.indexOf('\n', at + 1)) {
      if (line + at - from > MAX_LINE) return false;
      line = 0;
      from = at + 1;
    }
    line += part.length - from;
    if (line > MAX_LINE) return false;
  }
  return true;
}

/** Whether the pieces, read as one, are ASCII with lines of at most MAX_LINE octets. */
function isShortLineAscii(pieces: Iterable<Buffer>): boolean {
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
 * Encodes the new content, given as bytes in `charset` in pieces (read as one; an identity-encoded
 * part reads them twice unless `shortLineAscii` tells what isShortLineAscii would, so an iterable
 * must give the same pieces each time): base64 and
 * quoted-printable parts keep their encoding; an identity-encoded part (7bit, 8bit, binary, none)
 * stays as it is while it is ASCII with lines of at most 998 octets, and becomes quoted-printable
 * otherwise.
 */
export function encodeBytes(
  original: DecodedPart,
  pieces: Iterable<Buffer>,
  charset: string,
  bodyEol: '\r\n' | '\n',
  shortLineAscii: () => boolean = () => isShortLineAscii(pieces),
): EncodedPart {
  const implied = original.declaredCharset || 'us-ascii';
  const charsetChange = charset === implied ? undefined : charset;
  const cte = original.transferEncoding;
  if (cte === 'base64') return { body: base64Lines(pieces, bodyEol), charset: charsetChange };
  // 8-bit text always goes out as quoted-printable: it then survives any relay, 8BITMIME or not.
  if (cte !== 'quoted-printable' && shortLineAscii()) return { body: pieces, charset: charsetChange };
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
