import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { TokenCredential } from '@azure/identity';

/**
 * The four storage calls every message makes — put and get its blob, delete it, enqueue its
 * claim-check — straight over HTTP, without the SDK's pipeline. Measured on the message path
 * (docs/benchmarks.md), the SDK spends more CPU on one of these calls (serialisers, XML, tracing,
 * policies) than the front spends on the SMTP transaction around it. Everything else (containers,
 * listings, staged blocks, tables) keeps using the SDK. Same REST API, same auth: Shared Key (keys,
 * Azurite), an account SAS, or a bearer token from the managed identity.
 */
export interface StorageRestOptions {
  blobEndpoint: string;
  queueEndpoint: string;
  auth: RestAuth;
  /** Per try; the front must answer within seconds when storage is down. */
  timeoutMs?: number;
  /** Extra trusted issuers for an HTTPS endpoint (tests with a local CA). */
  ca?: string | Buffer;
}

export type RestAuth =
  | { kind: 'shared-key'; account: string; key: string }
  | { kind: 'sas'; token: string }
  | { kind: 'bearer'; credential: TokenCredential };

/** A storage reply other than the one expected, shaped like the SDK's RestError where callers look. */
export class StorageRestError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'StorageRestError';
  }
}

export interface BlobDownload {
  stream: Readable;
  /** x-ms-meta-* headers, names without the prefix, as the SDK gives them. */
  metadata: Record<string, string>;
  contentLength: number;
}

const apiVersion = '2025-01-05';
const tokenScope = 'https://storage.azure.com/.default';
const agentOptions = { keepAlive: true, maxSockets: 64, keepAliveMsecs: 10_000 };
const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
/** Statuses worth another try: the service said it is busy or failed, not that the request was wrong. */
const retriable = new Set([408, 429, 500, 502, 503, 504]);
const maxTries = 3;

export class StorageRest {
  private readonly blobBase: URL;
  private readonly queueBase: URL;
  private readonly timeoutMs: number;
  private readonly httpsAgent: https.Agent;
  private token?: { value: string; refreshAt: number };

  constructor(private readonly options: StorageRestOptions) {
    this.blobBase = new URL(withSlash(options.blobEndpoint));
    this.queueBase = new URL(withSlash(options.queueEndpoint));
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.httpsAgent = options.ca ? new https.Agent({ ...agentOptions, ca: options.ca }) : agents.https;
  }

  /** Put Blob: the whole message as one block blob, with its metadata. */
  async putBlob(
    container: string,
    name: string,
    body: Buffer,
    metadata: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<void> {
    const headers: Record<string, string> = {
      'x-ms-blob-type': 'BlockBlob',
      'content-type': 'application/octet-stream',
    };
    for (const [k, v] of Object.entries(metadata)) headers[`x-ms-meta-${k}`] = v;
    const res = await this.send('PUT', this.blobUrl(container, name), headers, body, true, signal);
    await expect(res, [201]);
  }

  /** Get Blob: the content as a stream and the metadata from the same reply; undefined when absent. */
  async getBlob(container: string, name: string): Promise<BlobDownload | undefined> {
    const res = await this.send('GET', this.blobUrl(container, name), {}, undefined, true);
    if (res.statusCode === 404) {
      res.resume();
      return undefined;
    }
    if (res.statusCode !== 200) await expect(res, [200]);
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers))
      if (k.startsWith('x-ms-meta-') && typeof v === 'string') metadata[k.slice(10)] = v;
    return { stream: res, metadata, contentLength: Number(res.headers['content-length'] ?? 0) };
  }

  /** Delete Blob with its snapshots; false when it was already gone. */
  async deleteBlob(container: string, name: string): Promise<boolean> {
    const headers = { 'x-ms-delete-snapshots': 'include' };
    const res = await this.send('DELETE', this.blobUrl(container, name), headers, undefined, true);
    if (res.statusCode === 404) {
      res.resume();
      return false;
    }
    await expect(res, [202]);
    return true;
  }

  /**
   * Put Message. Not idempotent: retried only when a kept-alive connection turned out closed
   * before the request reached the service, never after the service may have taken it.
   */
  async putMessage(queue: string, text: string): Promise<void> {
    const body = Buffer.from(
      `<?xml version="1.0" encoding="utf-8"?><QueueMessage><MessageText>${escapeXml(text)}</MessageText></QueueMessage>`,
      'utf8',
    );
    const url = new URL(`${encodeURIComponent(queue)}/messages`, this.queueBase);
    const headers = { 'content-type': 'application/xml; charset=utf-8' };
    const res = await this.send('POST', url, headers, body, false);
    await expect(res, [201]);
  }

  /** Delete Message: the receipt proves this process still holds the message's lease. */
  async deleteMessage(queue: string, messageId: string, popReceipt: string): Promise<void> {
    const url = new URL(
      `${encodeURIComponent(queue)}/messages/${encodeURIComponent(messageId)}`,
      this.queueBase,
    );
    url.searchParams.set('popreceipt', popReceipt);
    const res = await this.send('DELETE', url, {}, undefined, true);
    await expect(res, [204]);
  }

  private blobUrl(container: string, name: string): URL {
    return new URL(`${encodeURIComponent(container)}/${encodeURIComponent(name)}`, this.blobBase);
  }

  private async send(
    method: string,
    url: URL,
    extra: Record<string, string>,
    body: Buffer | undefined,
    idempotent: boolean,
    signal?: AbortSignal,
  ): Promise<http.IncomingMessage> {
    for (let attempt = 1; ; attempt++) {
      let res: http.IncomingMessage;
      try {
        res = await this.once(method, url, extra, body, signal);
      } catch (err) {
        const stale = (err as { staleSocket?: boolean }).staleSocket === true;
        if (attempt < maxTries && !signal?.aborted && (idempotent || stale)) {
          await pause(attempt);
          continue;
        }
        throw err;
      }
      if (idempotent && attempt < maxTries && retriable.has(res.statusCode ?? 0)) {
        res.resume();
        await pause(attempt);
        continue;
      }
      return res;
    }
  }

  private async once(
    method: string,
    url: URL,
    extra: Record<string, string>,
    body: Buffer | undefined,
    signal?: AbortSignal,
  ): Promise<http.IncomingMessage> {
    const target = new URL(url);
    const headers: Record<string, string> = {
      ...extra,
      'x-ms-version': apiVersion,
      'x-ms-date': new Date().toUTCString(),
      'content-length': String(body?.length ?? 0),
    };
    await this.authorize(method, target, headers);
    const secure = target.protocol === 'https:';
    const request = secure ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = request(
        target,
        {
          method,
          headers,
          agent: secure ? this.httpsAgent : agents.http,
          timeout: this.timeoutMs,
          ...(signal ? { signal } : {}),
        },
        resolve,
      );
      req.on('timeout', () => req.destroy(new Error(`storage request timed out after ${this.timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        // Node's advice for keep-alive: a reused socket the server closed fails with ECONNRESET.
        if (req.reusedSocket && err.code === 'ECONNRESET') Object.assign(err, { staleSocket: true });
        reject(err);
      });
      req.end(body);
    });
  }

  private async authorize(method: string, url: URL, headers: Record<string, string>): Promise<void> {
    const { auth } = this.options;
    if (auth.kind === 'sas') {
      const sas = new URLSearchParams(auth.token.replace(/^\?/, ''));
      for (const [k, v] of sas) url.searchParams.set(k, v);
      return;
    }
    if (auth.kind === 'bearer') {
      headers.authorization = `Bearer ${await this.bearer(auth.credential)}`;
      return;
    }
    headers.authorization = `SharedKey ${auth.account}:${sharedKeySignature(auth, method, url, headers)}`;
  }

  private async bearer(credential: TokenCredential): Promise<string> {
    if (this.token && Date.now() < this.token.refreshAt) return this.token.value;
    const token = await credential.getToken(tokenScope);
    if (!token) throw new Error('the managed identity returned no token for Azure Storage');
    // Renew well before expiry, as the SDK does, so no request carries a token about to lapse.
    this.token = { value: token.token, refreshAt: token.expiresOnTimestamp - 2 * 60_000 };
    return token.token;
  }
}

/**
 * The Shared Key signature for the Blob and Queue services
 * (learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key), the same string the
 * SDK's StorageSharedKeyCredentialPolicy signs.
 */
export function sharedKeySignature(
  auth: { account: string; key: string },
  method: string,
  url: URL,
  headers: Record<string, string>,
): string {
  const h = (name: string) => headers[name] ?? '';
  const length = h('content-length');
  const canonicalHeaders = Object.keys(headers)
    .filter((k) => k.startsWith('x-ms-'))
    .sort()
    .map((k) => `${k}:${(headers[k] ?? '').trim()}\n`)
    .join('');
  const params = [...url.searchParams.keys()].map((k) => k.toLowerCase()).sort();
  const query = [...new Set(params)].map((k) => `\n${k}:${url.searchParams.getAll(k).join(',')}`).join('');
  const resource = `/${auth.account}${url.pathname}${query}`;
  const toSign = [
    method.toUpperCase(),
    h('content-encoding'),
    h('content-language'),
    length === '0' ? '' : length,
    h('content-md5'),
    h('content-type'),
    '',
    h('if-modified-since'),
    h('if-match'),
    h('if-none-match'),
    h('if-unmodified-since'),
    h('range'),
    `${canonicalHeaders}${resource}`,
  ].join('\n');
  return crypto.createHmac('sha256', Buffer.from(auth.key, 'base64')).update(toSign, 'utf8').digest('base64');
}

/** Reads a reply that is not one of `ok` into a StorageRestError naming the service's error code. */
async function expect(res: http.IncomingMessage, ok: number[]): Promise<void> {
  const status = res.statusCode ?? 0;
  if (ok.includes(status)) {
    res.resume();
    return;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) if (chunks.length < 16) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  const code = headerValue(res.headers['x-ms-error-code']) ?? /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]+)/.exec(text)?.[1]?.split('\n')[0];
  throw new StorageRestError(
    `storage answered ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`,
    status,
    code,
  );
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function withSlash(endpoint: string): string {
  return endpoint.endsWith('/') ? endpoint : `${endpoint}/`;
}

function pause(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1)));
}

/**
 * The REST client for a connection string (account key or SAS, including Azurite's), or for an
 * account name with a token credential; undefined for a connection string it cannot read, or when
 * `SIGRELAY_STORAGE_REST=off`, in which case callers keep using the SDK.
 */
export function storageRestFor(
  connection: { connectionString?: string; accountName?: string },
  credential?: TokenCredential,
): StorageRest | undefined {
  if (process.env.SIGRELAY_STORAGE_REST === 'off') return undefined;
  if (connection.connectionString) {
    const parts = new Map<string, string>();
    for (const part of connection.connectionString.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0) parts.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
    }
    const account = parts.get('accountname');
    const key = parts.get('accountkey');
    const sas = parts.get('sharedaccesssignature');
    const protocol = parts.get('defaultendpointsprotocol') ?? 'https';
    const suffix = parts.get('endpointsuffix') ?? 'core.windows.net';
    const endpoint = (service: 'blob' | 'queue') =>
      parts.get(`${service}endpoint`) ??
      (account ? `${protocol}://${account}.${service}.${suffix}` : undefined);
    const blobEndpoint = endpoint('blob');
    const queueEndpoint = endpoint('queue');
    if (!blobEndpoint || !queueEndpoint) return undefined;
    if (account && key)
      return new StorageRest({ blobEndpoint, queueEndpoint, auth: { kind: 'shared-key', account, key } });
    if (sas) return new StorageRest({ blobEndpoint, queueEndpoint, auth: { kind: 'sas', token: sas } });
    return undefined;
  }
  if (connection.accountName && credential) {
    const a = connection.accountName;
    return new StorageRest({
      blobEndpoint: `https://${a}.blob.core.windows.net`,
      queueEndpoint: `https://${a}.queue.core.windows.net`,
      auth: { kind: 'bearer', credential },
    });
  }
  return undefined;
}
