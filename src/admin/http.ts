import type { ApiError, ErrorCode } from './contract.js';

/** One request to the console, independent of the Functions host (tests build these directly too). */
export interface ApiRequest {
  method: string;
  /** The path under `/api/admin/`, without leading slash: `config/files/rules.json`. */
  path: string;
  query: URLSearchParams;
  header(name: string): string | undefined;
  /** The body parsed as JSON; a malformed body answers 400. */
  json(): Promise<unknown>;
}

export interface AnswerCookie {
  name: string;
  value: string;
  maxAge?: number;
  httpOnly?: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None';
  secure?: boolean;
  path?: string;
}

export interface ApiAnswer {
  status: number;
  /** JSON body. */
  json?: unknown;
  /** A raw body (static files, the 503 page). */
  body?: Buffer | string;
  headers?: Record<string, string>;
  cookies?: AnswerCookie[];
}

/** A refusal with its status and body; thrown anywhere below the router, answered in one place. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError & Record<string, unknown>,
  ) {
    super(body.error);
    this.name = 'ApiFailure';
  }
}

export function fail(
  status: number,
  code: ErrorCode,
  error: string,
  extra: Omit<Partial<ApiError>, 'code' | 'error'> | Record<string, unknown> = {},
): ApiFailure {
  const { error: _error, code: _code, ...rest } = extra as Record<string, unknown>;
  return new ApiFailure(status, { ...rest, error, code });
}

export function ok(json: unknown, status = 200, headers?: Record<string, string>): ApiAnswer {
  return { status, json, ...(headers ? { headers } : {}) };
}

/** A string field of a JSON body, or 400 naming it. */
export function stringField(body: unknown, name: string, optional = false): string {
  const value = (body as Record<string, unknown> | null)?.[name];
  if (typeof value === 'string' && value !== '') return value;
  if (optional && value === undefined) return '';
  throw fail(400, 'bad-request', `expected "${name}" (a non-empty string) in the JSON body`, { field: name });
}

export function objectBody(body: unknown): Record<string, unknown> {
  if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  throw fail(400, 'bad-request', 'expected a JSON object as the body');
}

/** The JSON body of a request carried as text (what the Functions host hands over). */
/** The most a console request body may hold: an image at its limit, base64 in JSON, and room to spare. */
export const requestMaxBytes = 2 * 1024 * 1024;

/**
 * A request body as text, read only when asked (after the route's sign-in check) and refused with
 * 413 as soon as it declares or sends more than `max` bytes: what is read is bounded, not buffered whole.
 */
export async function readBodyCapped(
  body: ReadableStream<Uint8Array> | null,
  declaredLength: string | undefined,
  max = requestMaxBytes,
): Promise<string | undefined> {
  const tooLarge = () =>
    fail(413, 'too-large', `the request body is larger than ${max} bytes`, { limit: max });
  if (Number(declaredLength) > max) {
    await body?.cancel();
    throw tooLarge();
  }
  if (!body) return undefined;
  const chunks: Uint8Array[] = [];
  let seen = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    seen += value.byteLength;
    if (seen > max) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return seen === 0 ? undefined : Buffer.concat(chunks).toString('utf8');
}

export function parseJsonBody(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw fail(400, 'bad-request', `the body is not valid JSON: ${(err as Error).message}`);
  }
}
