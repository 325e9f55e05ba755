/**
 * The object-mode stream between mailsplit's Splitter and Joiner. Untouched nodes and bytes pass
 * as they came; a body part is held until it ends — decoded into its text as it arrives when it is
 * to be signed, else as the chunks it came in — then re-emitted as raw bytes with the signature
 * inserted. The first node (the root) triggers the one call to the content resolver.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { MimeNode, SplitterChunk } from '@zone-eu/mailsplit';
import libmime from 'libmime';
import { BodyPartLocator } from './body-parts.js';
import { inlinePgp, nodeLeaveAloneReason, rootLeaveAloneReason } from './leave-alone.js';
import { messageFacts, rootHeaderMap } from './message-facts.js';
import {
  headerBlock,
  headerLines,
  imageParts,
  isContentHeader,
  newBoundary,
  relatedContentType,
  type Eol,
  type HeaderLine,
} from './mime-bytes.js';
import {
  LeaveAloneError,
  PartCollector,
  decodeForSigning,
  decodedAsItArrives,
  encodeBytes,
  encodePart,
  outputCharset,
  retargetMetaCharset,
  splicedBytes,
  type EncodedPart,
  type PartText,
} from './part-codec.js';
import {
  findHtmlQuote,
  findTextQuote,
  htmlHasOurSignature,
  htmlInsertionPoint,
  insertTextSignature,
  textHasOurSignature,
  wrapHtmlSignature,
  type QuoteLocation,
  type TextFormat,
} from './placement.js';
import type { ResolveSignature, SignatureContent } from './types.js';

export interface EditorOptions {
  sender: string;
  recipients: string[];
  resolve: ResolveSignature;
  processedHeader: string;
}

/** Why the editor stopped editing, or what it signed with. */
export type EditorOutcome =
  | { kind: 'leave-alone'; reason: string; rule?: string; template?: string }
  | { kind: 'signed'; content: SignatureContent; parts: number }
  | { kind: 'no-body'; content: SignatureContent };

/** Wraps errors thrown by the resolver so the caller can tell them from content problems. */
export class ResolverError extends Error {}

interface PendingBody {
  node: MimeNode;
  /** The chunks as they came, for a part the message may carry unchanged (see mayStayUnchanged). */
  chunks: Buffer[];
  /** Any other part is decoded as it arrives. */
  collector: PartCollector | undefined;
}

/** A body part decoded and located, ready to be signed or written back as it was. */
interface PreparedBody {
  node: MimeNode;
  /**
   * The part as it came (for identity encodings the joined bytes), kept only while the message may
   * still carry it unchanged (see mayStayUnchanged); empty otherwise.
   */
  raw: Buffer[];
  html: boolean;
  decoded: PartText;
  quote: QuoteLocation;
  /** The next delimiter is glued to this part's header block (see signPart). */
  delimiterFollows: boolean;
}

/**
 * An HTML fragment of a split body (Apple Mail: multipart/mixed of html, image, html…) held back
 * until it is known to be the last one, with everything emitted after it.
 */
interface HeldFragment {
  body: PreparedBody;
  queue: (Buffer | SplitterChunk)[];
  bytes: number;
}

/**
 * The most a held fragment may keep waiting behind it (inline images between fragments). Beyond
 * it, the held fragment is signed: memory stays bounded whatever the message.
 */
export const MAX_HELD_FRAGMENT_BYTES = 8 * 1024 * 1024;

/** An encoded part's pieces in the backlog, taken one at a time. */
class Pieces {
  constructor(readonly pieces: Iterator<Buffer>) {}
}

/** A change to a text: characters [start, end) replaced by `middle`. */
export interface TextEdit {
  start: number;
  end: number;
  middle: string;
}

/** Characters of the text kept on each side of the insertion point when placing the signature. */
const TEXT_WINDOW = 256;

/**
 * insertTextSignature's change to a text body, computed on a window of the text around the
 * insertion point: the whole signed text would be a second copy of the part, and reading it
 * (to find what changed) flattens it into one (issue 19). insertTextSignature only looks at the
 * characters next to where it inserts and at whether the text is empty, so the window, with the
 * quote moved into it, gives the same change; test/unit/signing/part-codec.test.ts compares the two.
 * The insertion point is placement.ts's rule (under the reply, below the answer, or at the end).
 */
export function textSignatureEdit(
  text: string,
  signatureText: string,
  quote: QuoteLocation,
  placement: 'underReply' | 'bottom',
  eol: Eol,
  format: TextFormat,
): TextEdit {
  const at =
    placement !== 'underReply' || quote.start < 0 ? -1 : quote.tail < 0 ? quote.start : (quote.end ?? -1);
  const from = Math.max(0, (at < 0 ? text.length : at) - TEXT_WINDOW);
  const to = at < 0 ? text.length : Math.min(text.length, at + TEXT_WINDOW);
  const local: QuoteLocation =
    at < 0
      ? { start: -1, tail: -1 }
      : {
          start: Math.max(0, quote.start - from),
          tail: quote.tail < 0 ? -1 : Math.max(0, quote.tail - from),
          ...(quote.end === undefined ? {} : { end: quote.end - from }),
        };
  const window = text.slice(from, to);
  const signed = insertTextSignature(window, signatureText, local, placement, eol, format);
  const shortest = Math.min(window.length, signed.length);
  let head = 0;
  while (head < shortest && window.charCodeAt(head) === signed.charCodeAt(head)) head++;
  let tail = 0;
  while (
    tail < shortest - head &&
    window.charCodeAt(window.length - 1 - tail) === signed.charCodeAt(signed.length - 1 - tail)
  )
    tail++;
  return { start: from + head, end: to - tail, middle: signed.slice(head, signed.length - tail) };
}

function textFormat(node: MimeNode): TextFormat {
  const value = node.headers ? node.headers.getFirst('content-type') : '';
  const params = value ? libmime.parseHeaderValue(value).params : {};
  return { flowed: (params.format ?? '').toLowerCase() === 'flowed' };
}

function nodeEol(node: MimeNode): Eol {
  const raw = node.getHeaders();
  return raw.length >= 2 && raw[raw.length - 2] === 0x0d ? '\r\n' : '\n';
}

/** An mbox "From " line mailsplit keeps apart from the header lines, to write back first. */
function mboxLine(node: MimeNode, eol: Eol): string {
  return node.headers && node.headers.mbox ? node.headers.mbox.replace(/\r?\n/g, eol) + eol : '';
}

export class BodyEditor extends Transform {
  private readonly options: EditorOptions;
  private readonly locator = new BodyPartLocator();
  private content: SignatureContent | undefined;
  private leaveAlone: { reason: string; rule?: string } | undefined;
  private pending: PendingBody | undefined;
  private held: HeldFragment | undefined;
  /** The multipart/mixed whose later text/html children continue a split body. */
  private fragmentParent: MimeNode | undefined;
  private signedParts = 0;
  /** Line ending of the root header block, read before any header is edited. */
  private rootEol: Eol = '\r\n';
  /** What is to be pushed next, in order (see drain). */
  private readonly backlog: (Buffer | SplitterChunk | Pieces)[] = [];
  /** Set while the reader is full: carries on with the backlog when it reads again. */
  private carryOn: (() => void) | undefined;

  constructor(options: EditorOptions) {
    super({ objectMode: true });
    this.options = options;
  }

  /** Stops all editing; whatever is emitted from now on is discarded by the caller. */
  leaveAloneBecause(reason: string, rule?: string): void {
    this.leaveAlone ??= rule === undefined ? { reason } : { reason, rule };
  }

  outcome(): EditorOutcome {
    if (this.leaveAlone) {
      return {
        kind: 'leave-alone',
        ...this.leaveAlone,
        ...(this.content ? { template: this.content.template } : {}),
      };
    }
    if (!this.content) return { kind: 'leave-alone', reason: 'no-root' };
    if (this.signedParts === 0) return { kind: 'no-body', content: this.content };
    return { kind: 'signed', content: this.content, parts: this.signedParts };
  }

  override _transform(chunk: SplitterChunk, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (chunk.type === 'body' && this.pending && chunk.node === this.pending.node) {
      const { collector } = this.pending;
      // Once the message is left alone (too large), this output is not the message: stop decoding.
      if (collector) {
        if (!this.leaveAlone) collector.write(chunk.value);
      } else this.pending.chunks.push(chunk.value);
      callback();
      return;
    }
    this.finishPending(chunk);
    if (chunk.type !== 'node') {
      this.out(chunk);
      this.drain(callback);
      return;
    }
    if (this.held) {
      if (this.isLaterFragment(chunk)) this.releaseHeld(false);
      else if (!this.insideFragmentParent(chunk) || chunk.disposition === 'attachment')
        this.releaseHeld(true);
    }
    this.locator.register(chunk);
    if (chunk.root) {
      this.startRoot(chunk).then(
        () => this.drain(callback),
        (err: unknown) => callback(err as Error),
      );
      return;
    }
    this.startNode(chunk);
    this.drain(callback);
  }

  override _flush(callback: TransformCallback): void {
    this.finishPending();
    this.releaseHeld(true);
    this.drain(callback);
  }

  /** The reader wants more: continue the backlog if it was waiting for that, then read on. */
  override _read(size: number): void {
    const carryOn = this.carryOn;
    this.carryOn = undefined;
    carryOn?.();
    // A backlog that ran out lets the chunk in; Transform may have parked that (its buffer being
    // full) until the next _read, which would never come while this one pushed nothing.
    if (!this.carryOn) super._read(size);
  }

  /**
   * Pushes the backlog while the reader keeps up, then calls `done` (which lets the next chunk
   * in). A signed part's pieces are encoded only as they are pushed, so its new encoding is never
   * all in memory at once beside the decoded part (issue 19).
   */
  private drain(done: (err?: Error) => void): void {
    try {
      for (;;) {
        const head = this.backlog[0];
        if (head === undefined) return done();
        let value: Buffer | SplitterChunk;
        if (head instanceof Pieces) {
          const next = head.pieces.next();
          if (next.done) {
            this.backlog.shift();
            continue;
          }
          value = next.value;
        } else {
          this.backlog.shift();
          value = head;
        }
        if (!this.push(value)) {
          this.carryOn = () => this.drain(done);
          return;
        }
      }
    } catch (err) {
      done(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Everything the editor emits goes through here, so that a held fragment keeps its place. */
  private out(chunk: Buffer | SplitterChunk): void {
    const held = this.held;
    if (!held) {
      this.backlog.push(chunk);
      return;
    }
    held.queue.push(chunk);
    held.bytes += Buffer.isBuffer(chunk) ? chunk.length : chunk.type === 'node' ? 0 : chunk.value.length;
    if (held.bytes > MAX_HELD_FRAGMENT_BYTES) this.releaseHeld(true);
  }

  private isLaterFragment(node: MimeNode): boolean {
    return (
      !!this.fragmentParent &&
      node.parentNode === this.fragmentParent &&
      node.contentType === 'text/html' &&
      (!node.disposition || node.disposition === 'inline') &&
      !node.filename
    );
  }

  private insideFragmentParent(node: MimeNode): boolean {
    for (let parent = node.parentNode; parent; parent = parent.parentNode)
      if (parent === this.fragmentParent) return true;
    return false;
  }

  /** Writes the held fragment (signed when it proved to be the last) and what waited behind it. */
  private releaseHeld(sign: boolean): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    if (sign) this.fragmentParent = undefined;
    const { body } = held;
    if (sign && !this.leaveAlone && this.content) this.signPart(body, this.content);
    else this.emitUnchanged(body.node, body.raw);
    for (const chunk of held.queue) this.backlog.push(chunk);
  }

  private async startRoot(root: MimeNode): Promise<void> {
    this.rootEol = nodeEol(root);
    const headers = rootHeaderMap(root);
    const reason = rootLeaveAloneReason(headers, this.options.processedHeader);
    if (reason) this.leaveAloneBecause(reason);
    else {
      const facts = messageFacts(headers, {
        sender: this.options.sender,
        recipients: this.options.recipients,
      });
      let resolution;
      try {
        resolution = await this.options.resolve(facts);
      } catch (err) {
        throw new ResolverError('signature resolver failed', { cause: err });
      }
      if (resolution.action === 'skip') this.leaveAloneBecause(resolution.reason, resolution.rule);
      else if (!resolution.content.html.trim() && !resolution.content.text.trim()) {
        this.leaveAloneBecause('empty-signature', resolution.content.rule);
      } else this.content = resolution.content;
    }
    this.startNode(root);
  }

  private startNode(node: MimeNode): void {
    if (!this.leaveAlone) {
      const reason = nodeLeaveAloneReason(node, BodyPartLocator.insideAttachedMessage(node));
      if (reason) this.leaveAloneBecause(reason);
    }
    if (!this.leaveAlone && (this.locator.isBody(node) || this.isLaterFragment(node))) {
      const content = this.content;
      const collector =
        content && !this.mayStayUnchanged(node, content) && decodedAsItArrives(node.charset)
          ? new PartCollector({
              transferEncoding: node.encoding || '',
              charset: node.charset,
              html: node.contentType === 'text/html',
            })
          : undefined;
      this.pending = { node, chunks: [], collector };
      return;
    }
    this.pushHeaders(node, node.getHeaders());
  }

  /** Root headers get the processed header on top (after an mbox "From " line if there is one). */
  private pushHeaders(node: MimeNode, block: Buffer): void {
    if (!node.root || this.leaveAlone) {
      this.out(block);
      return;
    }
    const line = Buffer.from(`${this.options.processedHeader}: true${this.rootEol}`, 'latin1');
    const mboxEnd = node.headers && node.headers.mbox ? block.indexOf(0x0a) + 1 : 0;
    this.out(Buffer.concat([block.subarray(0, mboxEnd), line, block.subarray(mboxEnd)]));
  }

  /** `next` is the chunk after the part: a delimiter glued to the part's header block needs care. */
  private finishPending(next?: SplitterChunk): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    const raw = pending.chunks;
    const { node } = pending;
    const content = this.content;
    if (this.leaveAlone || !content) return this.emitUnchanged(node, raw);
    const delimiterFollows = next?.type === 'data' && next.value[0] !== 0x0a && next.value[0] !== 0x0d;
    let body: PreparedBody;
    try {
      body = this.prepare(node, raw, pending.collector, content, delimiterFollows);
    } catch (err) {
      if (!(err instanceof LeaveAloneError)) throw err;
      this.leaveAloneBecause(err.reason);
      return this.emitUnchanged(node, raw);
    }
    if (this.isSplitBodyFragment(node) && !(content.placement === 'underReply' && body.quote.start >= 0)) {
      // A later HTML fragment may follow: the signature goes into the last one.
      this.fragmentParent = node.parentNode || undefined;
      this.held = { body, queue: [], bytes: 0 };
      return;
    }
    this.fragmentParent = undefined;
    this.signPart(body, content);
  }

  /** An HTML body in multipart/mixed: the first (or a later) fragment of a possibly split body. */
  private isSplitBodyFragment(node: MimeNode): boolean {
    return node.contentType === 'text/html' && !!node.parentNode && node.parentNode.multipart === 'mixed';
  }

  /** Decodes and locates a body part; throws LeaveAloneError for what must not be touched. */
  private prepare(
    node: MimeNode,
    raw: Buffer[],
    collector: PartCollector | undefined,
    content: SignatureContent,
    delimiterFollows: boolean,
  ): PreparedBody {
    const html = node.contentType === 'text/html';
    const decoded =
      collector?.end() ??
      decodeForSigning(raw, {
        transferEncoding: node.encoding || '',
        charset: node.charset,
        html,
      });
    if (inlinePgp(decoded.text)) throw new LeaveAloneError('pgp');
    const quote = html ? findHtmlQuote(decoded.text) : findTextQuote(decoded.text);
    const signed = html
      ? htmlHasOurSignature(decoded.text, quote)
      : textHasOurSignature(decoded.text, quote, content.text);
    if (signed) throw new LeaveAloneError('already-signed');
    return { node, raw, html, decoded, quote, delimiterFollows };
  }

  /**
   * Whether a signed message may still carry this part as it came, so that what it came as must be
   * kept while it is decoded: an HTML fragment of a possibly split body (only the last one is
   * signed), or a part the signature has nothing for. Any other part is signed, or else the whole
   * message is left alone, and a message left alone is delivered from its original bytes, never
   * from this output (see signMessage).
   */
  private mayStayUnchanged(node: MimeNode, content: SignatureContent): boolean {
    const added = node.contentType === 'text/html' ? content.html : content.text;
    return this.isSplitBodyFragment(node) || !added.trim();
  }

  private signPart(body: PreparedBody, content: SignatureContent): void {
    const { node, raw, html, decoded, quote } = body;
    const { text } = decoded;
    let edit: TextEdit;
    let added: string;
    const eol = nodeEol(node);
    if (html) {
      if (!content.html.trim()) return this.emitUnchanged(node, raw);
      added = wrapHtmlSignature(content.html);
      const at = htmlInsertionPoint(text, quote, content.placement);
      edit = { start: at, end: at, middle: added };
    } else {
      if (!content.text.trim()) return this.emitUnchanged(node, raw);
      added = content.text;
      edit = textSignatureEdit(text, content.text, quote, content.placement, decoded.eol, textFormat(node));
    }
    // The part is signed from here on: what it came as is no longer needed.
    raw.length = 0;
    const charset = outputCharset(decoded, added);
    const spliced =
      charset === decoded.charset ? splicedBytes(decoded, edit.start, edit.end, edit.middle) : undefined;
    let encoded: EncodedPart;
    if (spliced) encoded = encodeBytes(decoded, spliced.pieces, charset, eol, spliced.shortLineAscii);
    else {
      let signed = text.slice(0, edit.start) + edit.middle + text.slice(edit.end);
      if (html && charset !== decoded.charset) signed = retargetMetaCharset(signed, charset);
      encoded = encodePart(decoded, signed, charset, eol);
    }
    if (encoded.charset) node.setCharset(encoded.charset);
    if (encoded.transferEncoding && node.headers) {
      node.headers.update('Content-Transfer-Encoding', encoded.transferEncoding);
    }
    if (
      (encoded.charset || encoded.transferEncoding) &&
      node.root &&
      node.headers &&
      !node.headers.hasHeader('MIME-Version')
    ) {
      node.headers.add('MIME-Version', '1.0');
    }
    this.signedParts++;
    const images = html ? content.images : [];
    if (images.length === 0) {
      this.pushHeaders(node, this.currentHeaders(node, eol));
      this.outAll(encoded.body);
    } else if (this.locator.isRelatedRoot(node) && node.parentNode && node.parentNode._boundary) {
      this.pushHeaders(node, this.currentHeaders(node, eol));
      this.outAll(encoded.body);
      this.out(imageParts(images, node.parentNode._boundary.toString('latin1'), eol));
    } else {
      this.pushWrappedInRelated(node, encoded.body, content, eol);
    }
    // An empty part may share its header block's last line ending with the next delimiter; once it
    // has content, the delimiter needs a line ending of its own.
    if (body.delimiterFollows) this.out(Buffer.from(eol, 'latin1'));
  }

  private emitUnchanged(node: MimeNode, raw: Buffer[]): void {
    this.pushHeaders(node, node.getHeaders());
    this.outAll(raw);
  }

  /** Pieces to write in order; produced only as they are pushed, unless a fragment is held. */
  private outAll(pieces: Iterable<Buffer>): void {
    if (this.held) for (const piece of pieces) this.out(piece);
    else this.backlog.push(new Pieces(pieces[Symbol.iterator]()));
  }

  /** Original bytes when nothing changed, else the edited header block in the node's line ending. */
  private currentHeaders(node: MimeNode, eol: Eol): Buffer {
    return node.headers && node.headers.changed
      ? headerBlock(headerLines(node), eol, mboxLine(node, eol))
      : node.getHeaders();
  }

  /**
   * Turns the HTML leaf into multipart/related(html, images...). The leaf's content headers move to
   * the inner part; on the root every other header stays where it is.
   */
  private pushWrappedInRelated(
    node: MimeNode,
    body: Iterable<Buffer>,
    content: SignatureContent,
    eol: Eol,
  ): void {
    const boundary = newBoundary();
    const lines = headerLines(node);
    const inner = node.root ? lines.filter((l) => isContentHeader(l.key)) : lines;
    const outer: HeaderLine[] = node.root ? lines.filter((l) => !isContentHeader(l.key)) : [];
    outer.push(relatedContentType(boundary, eol));
    this.pushHeaders(node, headerBlock(outer, eol, mboxLine(node, eol)));
    this.out(Buffer.from(`--${boundary}${eol}`, 'latin1'));
    this.out(headerBlock(inner, eol));
    this.outAll(body);
    this.out(imageParts(content.images, boundary, eol));
    this.out(Buffer.from(`${eol}--${boundary}--${node.root ? eol : ''}`, 'latin1'));
  }
}
