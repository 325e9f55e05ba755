import path from 'node:path';
import type { InlineImage } from '../signing/types.js';

const contentTypes: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};

export function imageContentType(name: string): string | undefined {
  return contentTypes[path.extname(name).toLowerCase()];
}

/** Image names a template may write as `src="cid:<name>"`: plain file names under images/. */
export const cidReference = /\b(?:src|background)\s*=\s*(["'])cid:([A-Za-z0-9._-]+)\1/gi;

/**
 * The files under images/ that templates embed. Only references the template itself wrote as
 * `src="cid:<file>"` count: auto-escaping turns a quote in a directory value into `&#34;`, so a value
 * can never make us attach a file. Embedded parts get a namespaced Content-ID so they cannot collide
 * with the inline images already in the message (Outlook's `image001.png@01DA…`).
 */
export class ImageLibrary {
  private readonly files: ReadonlyMap<string, Buffer>;

  constructor(files: ReadonlyMap<string, Buffer>) {
    this.files = files;
  }

  has(name: string): boolean {
    return this.files.has(name) && imageContentType(name) !== undefined;
  }

  /** `extra`: images of this one signature (the sender's photo), embedded like files under images/. */
  embed(html: string, extra?: ReadonlyMap<string, Buffer>): { html: string; images: InlineImage[] } {
    const images = new Map<string, InlineImage>();
    const out = html.replace(cidReference, (whole, quote: string, name: string) => {
      const content = extra?.get(name) ?? this.files.get(name);
      const contentType = imageContentType(name);
      if (!content || !contentType) return whole;
      const cid = `${name}@sigrelay`;
      images.set(cid, { cid, contentType, filename: name, content });
      return whole.replace(`cid:${name}`, `cid:${cid}`);
    });
    return { html: out, images: [...images.values()] };
  }
}
