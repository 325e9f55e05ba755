import { Transform, type TransformCallback } from 'node:stream';
import { replies } from '../errors/index.js';

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;

export interface DataLimits {
  maxMessageBytes: number;
  maxHeaderBytes: number;
  maxLineBytes: number;
}

/**
 * Checks message bytes on their way to storage and fails the stream with the reply to give at the
 * first violation, so an abusive message stops costing storage writes at once:
 *
 * - every line ends in CRLF. smtp-server only ends DATA at `<CRLF>.<CRLF>`, so a bare-LF or bare-CR
 *   "end of data" can never split the transmission here; but stored and relayed onwards, such bytes
 *   could end the message early at a laxer hop (SMTP smuggling). Refusing them keeps us out of it.
 * - no NUL byte. 7bit and 8bit data (RFC 2045 §2.7, §2.8) carry none, and we advertise neither
 *   BINARYMIME nor CHUNKING; a hop that drops NULs would also read `<CRLF>NUL.<CRLF>` as the end of
 *   data. Stripping would silently change content we don't own, so the message is refused whole.
 * - no line longer than the limit, the header block no larger than its limit, the message no larger
 *   than the advertised SIZE.
 */
export class DataGuard extends Transform {
  private readonly limits: DataLimits;
  private bytes = 0;
  private lineBytes = 0;
  private inHeader = true;
  private headerBytes = 0;
  /** The previous byte was a CR, possibly at the end of the previous chunk. */
  private pendingCr = false;
  /** No byte of the current line seen yet: a line ending now is empty (the end of the header block). */
  private lineStart = true;

  constructor(limits: DataLimits) {
    super();
    this.limits = limits;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limits.maxMessageBytes)
      return callback(replies.tooBig(this.limits.maxMessageBytes));
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (this.pendingCr) {
        if (byte !== LF) return callback(replies.bareLineEnding());
        this.pendingCr = false;
        this.endLine();
        continue;
      }
      if (byte === CR) {
        this.pendingCr = true;
        continue;
      }
      if (byte === LF) return callback(replies.bareLineEnding());
      if (byte === NUL) return callback(replies.nulInData());
      this.lineBytes++;
      this.lineStart = false;
      if (this.lineBytes > this.limits.maxLineBytes)
        return callback(replies.lineTooLong(this.limits.maxLineBytes));
      if (this.inHeader && ++this.headerBytes > this.limits.maxHeaderBytes)
        return callback(replies.headerTooBig(this.limits.maxHeaderBytes));
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    callback(this.pendingCr ? replies.bareLineEnding() : null);
  }

  private endLine(): void {
    if (this.inHeader) {
      if (this.lineStart) this.inHeader = false;
      else this.headerBytes += 2;
    }
    this.lineBytes = 0;
    this.lineStart = true;
  }
}
