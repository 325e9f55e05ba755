import fs from 'node:fs/promises';
import path from 'node:path';
import type { ApiAnswer } from './http.js';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Nothing runs or loads from another origin (locked-down tenants, and the preview shows mail
 * content): scripts and styles from the app itself, the API on the same origin. Images may be the
 * app's, inline data (the preview's embedded cid images) or HTTPS: a signature's hosted logo is part
 * of what recipients see, so the preview shows it rather than its alt text; an image can run nothing,
 * and `referrer-policy: no-referrer` keeps the console's URL from the image host. Inline styles are
 * allowed because mail HTML is made of them; the preview iframe is sandboxed without scripts.
 */
export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: https:",
  "font-src 'self'",
  "connect-src 'self'",
  "frame-src 'self' blob: data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const securityHeaders = {
  'content-security-policy': contentSecurityPolicy,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** Vite names built assets `<name>-<hash>.<ext>`: their content never changes under that name. */
const HASH_CHAR = /^[A-Za-z0-9_-]$/;

/**
 * Whether a name ends `-<8+ hash chars>.<ext>`, as `/-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/` says, read
 * once from the end: that pattern rescans from every dash of a long run of dashes.
 */
function isHashed(name: string): boolean {
  const dot = name.lastIndexOf('.');
  if (dot < 0 || !/^[a-z0-9]+$/.test(name.slice(dot + 1))) return false;
  let start = dot;
  while (start > 0 && HASH_CHAR.test(name[start - 1] ?? '')) start--;
  // The first dash of the run leaves the most characters after it.
  const dash = name.indexOf('-', start);
  return dash >= 0 && dash < dot && dot - dash - 1 >= 8;
}

/**
 * The console's single-page app, as `npm run build` leaves it in `dist/console/`: files by path,
 * `index.html` for every other path without an extension (client-side routes), a 503 page saying how
 * to build it when it is not there.
 */
export class StaticFiles {
  constructor(private readonly root: string) {}

  async serve(requestPath: string): Promise<ApiAnswer> {
    const relative = requestPath.replace(/^\/+/, '');
    const file = path.resolve(this.root, relative);
    if (file !== this.root && !file.startsWith(this.root + path.sep)) return this.notFound();
    if (relative && (await isFile(file))) return this.file(file);
    if (relative && path.extname(relative)) return this.notFound();
    const index = path.join(this.root, 'index.html');
    if (!(await isFile(index))) return notBuilt();
    return this.file(index);
  }

  private async file(file: string): Promise<ApiAnswer> {
    const name = path.basename(file);
    const cache =
      name !== 'index.html' && isHashed(name) ? 'public, max-age=31536000, immutable' : 'no-cache';
    return {
      status: 200,
      body: await fs.readFile(file),
      headers: {
        'content-type': types[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        'cache-control': cache,
        ...securityHeaders,
      },
    };
  }

  private notFound(): ApiAnswer {
    return {
      status: 404,
      body: 'not found',
      headers: { 'content-type': 'text/plain; charset=utf-8', ...securityHeaders },
    };
  }
}

function notBuilt(): ApiAnswer {
  return {
    status: 503,
    body:
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sigrelay console not built</title></head>' +
      '<body><h1>console not built: run npm run build</h1>' +
      '<p>The admin console is served from <code>dist/console/</code>, which <code>npm run build</code> creates.</p></body></html>',
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...securityHeaders },
  };
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}
