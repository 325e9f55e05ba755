import { Transform, type TransformCallback } from 'node:stream';
import { headerEnd } from '../mime/header-end.js';

/** Most header blocks are a few KB; Exchange's can reach ~30 KB. Beyond this we stop looking. */
const defaultLimit = 256 * 1024;

/**
 * Passes message bytes through unchanged while keeping a copy of the header block (up to the first
 * empty line), so checks that need headers can run after DATA without a second read of the message.
 */
export class HeaderCapture extends Transform {
  private head: Buffer[] = [];
  private headBytes = 0;
  private done = false;
  private readonly limit: number;
  /** True when the header block was longer than the limit (the message is then judged on what we have). */
  truncated = false;

  constructor(limit = defaultLimit) {
    super();
    this.limit = limit;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    if (!this.done) this.collect(chunk);
    callback(null, chunk);
  }

  private collect(chunk: Buffer): void {
    this.head.push(chunk);
    this.headBytes += chunk.length;
    const joined = Buffer.concat(this.head, this.headBytes);
    const end = headerEnd(joined);
    if (end >= 0) {
      this.head = [joined.subarray(0, end)];
      this.headBytes = end;
      this.done = true;
    } else if (this.headBytes > this.limit) {
      this.head = [joined.subarray(0, this.limit)];
      this.headBytes = this.limit;
      this.done = true;
      this.truncated = true;
    } else {
      this.head = [joined];
    }
  }

  /** The raw header block (without the separating empty line). */
  get raw(): Buffer {
    return Buffer.concat(this.head, this.headBytes);
  }

  /** Header fields, unfolded, name lower-cased → values in order. */
  headers(): Map<string, string[]> {
    return parseHeaderBlock(this.raw.toString('latin1'));
  }
}

/** Parses an RFC 5322 header block (folded lines joined); tolerant of LF-only input. */
export function parseHeaderBlock(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const lines = text.split(/\r?\n/);
  let current: string | undefined;
  const flush = () => {
    if (current === undefined) return;
    const colon = current.indexOf(':');
    if (colon > 0) {
      const name = current.slice(0, colon).trim().toLowerCase();
      const value = current.slice(colon + 1).trim();
      const list = out.get(name);
      if (list) list.push(value);
      else out.set(name, [value]);
    }
    current = undefined;
  };
  for (const line of lines) {
    if (/^[ \t]/.test(line) && current !== undefined) current += ` ${line.trim()}`;
    else {
      flush();
      current = line;
    }
  }
  flush();
  return out;
}
