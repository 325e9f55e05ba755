/**
 * The console's one door to the back end: typed calls over the routes of src/admin/contract.ts.
 * Every failure becomes an ApiFailure carrying the server's ApiError (code, file, field, line), so
 * pages show what the server said; a 401 anywhere also tells the shell to show the sign-in page.
 */
import {
  apiBase,
  csrfHeader,
  type ApiError,
  type CampaignList,
  type CompatReport,
  type ConfigFile,
  type ConfigOverview,
  type DeadLetter,
  type DevSignInRequest,
  type DirectoryUserHit,
  type DoctorReport,
  type Health,
  type InlineCssResponse,
  type Me,
  type MessageSummary,
  type MessageTimeline,
  type PreviewRequest,
  type PreviewResponse,
  type ReplayResult,
  type RuleJson,
  type RulesDocument,
  type SaveCampaignRequest,
  type SaveFileRequest,
  type SaveImageResult,
  type SaveResult,
  type SignInHint,
  type UnauthenticatedError,
  type VersionList,
  type WhoGetsWhat,
} from '../../src/admin/contract';

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError,
  ) {
    super(body.error);
  }
}

/** The ETag a save sends: a known version (If-Match), or "create, must not exist" (If-None-Match). */
export type Precondition = { ifMatch: string } | { ifNoneMatch: '*' };

interface Call {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  query?: Record<string, string | undefined>;
  body?: unknown;
  precondition?: Precondition;
}

type Listener = (hint: SignInHint | undefined) => void;
const unauthenticatedListeners = new Set<Listener>();

/** Called with the server's sign-in hint whenever a call answers 401. */
export function onUnauthenticated(listener: Listener): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

async function call<T>(route: string, options: Call = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const url = new URL(`${apiBase}${route}`, location.origin);
  for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers[csrfHeader] = '1';
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const pre = options.precondition;
  if (pre && 'ifMatch' in pre) headers['if-match'] = pre.ifMatch;
  if (pre && 'ifNoneMatch' in pre) headers['if-none-match'] = pre.ifNoneMatch;
  const response = await fetch(url, {
    method,
    headers,
    credentials: 'same-origin',
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const body = isApiError(parsed)
      ? parsed
      : { error: `${method} ${url.pathname} answered ${response.status}`, code: 'unavailable' as const };
    if (response.status === 401) {
      const hint = (body as Partial<UnauthenticatedError>).signIn;
      for (const listener of unauthenticatedListeners) listener(hint);
    }
    throw new ApiFailure(response.status, body);
  }
  return parsed as T;
}

function isApiError(value: unknown): value is ApiError {
  return typeof value === 'object' && value !== null && typeof (value as ApiError).error === 'string';
}

/** `tenants/northwind/templates/sales.html` → `/config/files/tenants/northwind/templates/sales.html`, each segment encoded. */
function filePath(path: string): string {
  return `/config/files/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/** The answer, or `undefined` when the server says 404 (a file that does not exist yet). */
export async function unlessMissing<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 404) return undefined;
    throw err;
  }
}

export const api = {
  me: () => call<Me>('/me'),
  devSignIn: (request: DevSignInRequest) => call<void>('/dev/signin', { method: 'POST', body: request }),
  devSignOut: () => call<void>('/dev/signout', { method: 'POST' }),

  config: () => call<ConfigOverview>('/config'),
  readFile: (path: string) => call<ConfigFile>(filePath(path)),
  saveFile: (path: string, request: SaveFileRequest, precondition: Precondition) =>
    call<SaveResult>(filePath(path), { method: 'PUT', body: request, precondition }),
  saveImage: (path: string, base64: string, precondition: Precondition) =>
    call<SaveImageResult>(filePath(path), {
      method: 'PUT',
      body: { content: base64, encoding: 'base64' } satisfies SaveFileRequest,
      precondition,
    }),
  versions: (path: string) => call<VersionList>('/config/versions', { query: { path } }),
  version: (path: string, version: string) =>
    call<ConfigFile>('/config/version', { query: { path, version } }),
  rollback: (path: string, version: string, etag: string) =>
    call<SaveResult>('/config/rollback', {
      method: 'POST',
      body: { path, version },
      precondition: { ifMatch: etag },
    }),

  preview: (request: PreviewRequest) => call<PreviewResponse>('/preview', { method: 'POST', body: request }),
  directory: (q: string) => call<DirectoryUserHit[]>('/directory/users', { query: { q, limit: '20' } }),
  compat: (html: string) => call<CompatReport>('/templates/compat', { method: 'POST', body: { html } }),
  inlineCss: (html: string) =>
    call<InlineCssResponse>('/templates/inline-css', { method: 'POST', body: { html } }),

  rules: (scope: string) => call<RulesDocument>('/rules', { query: { scope } }),
  saveRules: (scope: string, rules: RuleJson[], precondition: Precondition) =>
    call<SaveResult>('/rules', { method: 'PUT', query: { scope }, body: { rules }, precondition }),
  validateRules: (scope: string, rules: RuleJson[]) =>
    call<{ ok: true }>('/rules/validate', { method: 'POST', query: { scope }, body: { rules } }),
  whoGetsWhat: (scope: string, rules?: RuleJson[]) =>
    rules
      ? call<WhoGetsWhat>('/rules/who-gets-what', { method: 'POST', query: { scope }, body: { rules } })
      : call<WhoGetsWhat>('/rules/who-gets-what', { query: { scope } }),

  campaigns: (at?: string) => call<CampaignList>('/campaigns', { query: { at } }),
  saveCampaign: (request: SaveCampaignRequest, etag: string) =>
    call<SaveResult>('/campaigns', { method: 'PUT', body: request, precondition: { ifMatch: etag } }),

  messages: (query: { id?: string; sender?: string; from?: string; to?: string }) =>
    call<MessageSummary[]>('/messages', { query }),
  message: (id: string) => call<MessageTimeline>(`/messages/${encodeURIComponent(id)}`),
  deadLetters: () => call<DeadLetter[]>('/deadletters'),
  replay: (id: string) =>
    call<ReplayResult>(`/deadletters/${encodeURIComponent(id)}/replay`, {
      method: 'POST',
      body: { confirm: id },
    }),

  health: () => call<Health>('/health'),
  doctor: (tenant?: string) => call<DoctorReport>('/doctor', { method: 'POST', query: { tenant } }),
};

/** A precondition from a known ETag: a file read earlier, or none yet (then it must still not exist). */
export function preconditionFor(etag: string | undefined): Precondition {
  return etag ? { ifMatch: etag } : { ifNoneMatch: '*' };
}
