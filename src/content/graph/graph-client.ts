import type { TokenCredential } from '@azure/identity';
import { describeError } from '../../errors/index.js';

export const graphScope = 'https://graph.microsoft.com/.default';
export const graphBaseUrl = 'https://graph.microsoft.com/v1.0';
/** The code of a GraphError for a request that got no answer. */
const networkError = 'NetworkError';

export interface GraphClientOptions {
  credential: TokenCredential;
  /** Graph root, e.g. a national cloud's or a test server's; paging links must stay under its origin. */
  baseUrl?: string;
  /** Attempts per request when Graph throttles (429) or is briefly unavailable (503, 504). */
  maxAttempts?: number;
  /** Injected by tests to observe the waits without spending them. */
  sleep?: (ms: number) => Promise<void>;
  /** A throttling wait longer than this is not slept through: the GraphError carries `retryAfterMs`. */
  maxWaitMs?: number;
  /** Aborts every request (a tenant's sync timeout). */
  signal?: AbortSignal;
}

export interface GraphRequest {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** JSON-serialised; sent as application/json. */
  json?: unknown;
  headers?: Record<string, string>;
}

/** One page of a Graph collection. */
export interface GraphPage<T> {
  value: T[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

export class GraphError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  /** When Graph throttled and asked for a longer wait than the client sleeps through. */
  readonly retryAfterMs: number | undefined;

  constructor(status: number, code: string | undefined, message: string, retryAfterMs?: number) {
    super(`Graph ${status}${code ? ` ${code}` : ''}: ${message}`);
    this.name = 'GraphError';
    this.status = status;
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }

  /** Throttled, briefly unavailable or unreachable: worth trying again later. */
  get transient(): boolean {
    return this.status === 429 || this.status === 503 || this.status === 504 || this.code === networkError;
  }
}

/**
 * The few Microsoft Graph calls sigrelay makes, over plain fetch: bearer token from an
 * `@azure/identity` credential, `@odata.nextLink` paging and throttling handled as Graph documents it
 * (wait for `Retry-After`, else back off exponentially).
 */
export class GraphClient {
  private readonly credential: TokenCredential;
  private readonly baseUrl: string;
  private readonly origin: string;
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxWaitMs: number;
  private readonly signal: AbortSignal | undefined;

  constructor(options: GraphClientOptions) {
    this.credential = options.credential;
    this.baseUrl = (options.baseUrl ?? graphBaseUrl).replace(/(?<!\/)\/+$/, '');
    this.origin = new URL(this.baseUrl).origin;
    this.maxAttempts = options.maxAttempts ?? 6;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.maxWaitMs = options.maxWaitMs ?? Number.POSITIVE_INFINITY;
    this.signal = options.signal;
  }

  /** Every page of a collection, following `@odata.nextLink`; the last page carries any deltaLink. */
  async *pages<T>(pathOrUrl: string): AsyncGenerator<GraphPage<T>> {
    let next: string | undefined = pathOrUrl;
    while (next) {
      const page: GraphPage<T> = await this.get<GraphPage<T>>(next);
      yield page;
      next = page['@odata.nextLink'];
    }
  }

  async get<T>(pathOrUrl: string): Promise<T> {
    return (await (await this.send(pathOrUrl)).json()) as T;
  }

  /** A JSON request; undefined for 204 No Content. */
  async request<T>(pathOrUrl: string, request: GraphRequest = {}): Promise<T | undefined> {
    const response = await this.send(pathOrUrl, request);
    if (response.status === 204) return undefined;
    const text = await response.text();
    return text ? (JSON.parse(text) as T) : undefined;
  }

  /** A binary resource (a photo's `$value`); undefined when Graph answers 404. */
  async bytes(pathOrUrl: string): Promise<Buffer | undefined> {
    try {
      return Buffer.from(await (await this.send(pathOrUrl, { headers: { accept: '*/*' } })).arrayBuffer());
    } catch (err) {
      if (err instanceof GraphError && err.status === 404) return undefined;
      throw err;
    }
  }

  private async send(pathOrUrl: string, request: GraphRequest = {}): Promise<Response> {
    const url = this.resolve(pathOrUrl);
    for (let attempt = 1; ; attempt++) {
      const token = await this.credential.getToken(graphScope, { abortSignal: this.signal });
      if (!token) throw new GraphError(401, 'NoToken', 'the credential returned no token');
      const headers: Record<string, string> = {
        authorization: `Bearer ${token.token}`,
        accept: 'application/json',
        ...request.headers,
      };
      if (request.json !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await fetch(url, {
          method: request.method ?? 'GET',
          headers,
          body: request.json === undefined ? undefined : JSON.stringify(request.json),
          signal: this.signal,
        });
      } catch (err) {
        // No answer at all (refused, reset, DNS): as temporary as a 503; an abort stays an abort.
        if (err instanceof TypeError)
          throw new GraphError(0, networkError, `unreachable: ${describeError(err.cause ?? err)}`);
        throw err;
      }
      if (response.ok) return response;
      const retryable = response.status === 429 || response.status === 503 || response.status === 504;
      if (!retryable) throw await graphError(response);
      const wait = retryDelay(response.headers.get('retry-after'), attempt);
      if (attempt >= this.maxAttempts || wait > this.maxWaitMs) throw await graphError(response, wait);
      await response.body?.cancel();
      await this.sleep(wait);
    }
  }

  private resolve(pathOrUrl: string): string {
    if (!/^https?:/i.test(pathOrUrl))
      return `${this.baseUrl}${pathOrUrl.startsWith('/') ? '' : '/'}${pathOrUrl}`;
    // Paging links come from the response; never send our token to a host other than Graph's.
    if (new URL(pathOrUrl).origin !== this.origin)
      throw new GraphError(0, 'ForeignLink', `refusing to follow a link outside ${this.origin}`);
    return pathOrUrl;
  }
}

/** Retry-After in seconds or as an HTTP date; without it, 1 s, 2 s, 4 s … capped at 60 s. */
export function retryDelay(header: string | null, attempt: number): number {
  if (header) {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(header);
    if (!Number.isNaN(date)) return Math.max(0, date - Date.now());
  }
  return Math.min(60_000, 1000 * 2 ** (attempt - 1));
}

async function graphError(response: Response, retryAfterMs?: number): Promise<GraphError> {
  let code: string | undefined;
  let message = response.statusText;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code;
    message = body.error?.message ?? message;
  } catch {
    // A body that is not Graph's JSON error shape leaves the status text as the message.
  }
  return new GraphError(response.status, code, message, retryAfterMs);
}
