/**
 * Raw MIME bytes the engine writes itself: header blocks in the message's own line ending, and the
 * multipart/related wrapper and image parts for embedded signature images.
 */
import { randomBytes } from 'node:crypto';
import type { MimeNode } from '@zone-eu/mailsplit';
import libmime from 'libmime';
import * as libbase64 from 'libbase64';
import type { InlineImage } from './types.js';

export type Eol = '\r\n' | '\n';

export interface HeaderLine {
  key: string;
  /** Latin1 ("binary") string of the raw line, folds joined with CRLF as mailsplit keeps them. */
  line: string;
}

export function headerLines(node: MimeNode): HeaderLine[] {
  if (!node.headers) node.parseHeaders();
  return node.headers ? node.headers.getList().map(({ key, line }) => ({ key, line })) : [];
}

/**
 * A header block ending with the empty line, byte-identical for lines nobody changed. An empty
 * header block parses as one empty line; written back, it would become a blank first body line.
 */
export function headerBlock(lines: HeaderLine[], eol: Eol, prefix = ''): Buffer {
  const text = lines
    .filter((l) => l.line !== '')
    .map((l) => l.line.replace(/\r?\n/g, eol) + eol)
    .join('');
  return Buffer.from(prefix + text + eol, 'latin1');
}

export function isContentHeader(key: string): boolean {
  return key.startsWith('content-');
}

export function newBoundary(): string {
  return `----=_sigrelay_${randomBytes(12).toString('hex')}`;
}

function imagePart(image: InlineImage, eol: Eol): string {
  const type = libmime.buildHeaderValue({ value: image.contentType, params: { name: image.filename } });
  const disposition = libmime.buildHeaderValue({ value: 'inline', params: { filename: image.filename } });
  return [
    libmime.foldLines(`Content-Type: ${type}`, 76),
    'Content-Transfer-Encoding: base64',
    `Content-ID: <${image.cid}>`,
    libmime.foldLines(`Content-Disposition: ${disposition}`, 76),
    '',
    libbase64.wrap(libbase64.encode(image.content), 76),
  ]
    .join('\r\n')
    .replace(/\r?\n/g, eol);
}

/** Image parts as siblings inside `boundary`; each starts with the line ending before its delimiter. */
export function imageParts(images: InlineImage[], boundary: string, eol: Eol): Buffer {
  return Buffer.from(
    images.map((image) => `${eol}--${boundary}${eol}${imagePart(image, eol)}`).join(''),
    'latin1',
  );
}

export function relatedContentType(boundary: string, eol: Eol): HeaderLine {
  return { key: 'content-type', line: `Content-Type: multipart/related;${eol}\tboundary="${boundary}"` };
}
