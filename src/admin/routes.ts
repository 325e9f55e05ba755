import { describeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { AuditLog } from './audit.js';
import type { ConsoleAuth } from './auth.js';
import { compatReport, inlineCss } from './compat.js';
import type { ConfigEditor, Precondition } from './config-editor.js';
import type { DoctorReport, Health, Me, SaveImageResult, SaveResult } from './contract.js';
import { ApiFailure, fail, objectBody, ok, stringField, type ApiAnswer, type ApiRequest } from './http.js';
import type { MessagesView } from './messages.js';
import type { PreviewService } from './preview.js';
import type { RulesView } from './rules-view.js';

export interface ConsoleParts {
  auth: ConsoleAuth;
  editor: ConfigEditor;
  preview: PreviewService;
  rules: RulesView;
  messages: MessagesView;
  audit: AuditLog;
  health: () => Promise<Health>;
  /** The connection doctor, run on demand (never on the health page's auto-refresh). */
  doctor: (tenantId?: string) => Promise<DoctorReport>;
  logger: Logger;
  /** Base URL under which images/ are served publicly (SIGRELAY_IMAGE_BASE_URL), for "hosted" images. */
  imageBaseUrl?: string;
}

interface Context {
  request: ApiRequest;
  params: string[];
  /** The signed-in admin (every route but me and the dev sign-in needs one). */
  me: Me;
}

type Handler = (ctx: Context) => Promise<ApiAnswer>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
  /** `me` and the dev sign-in answer before the admin check. */
  open?: boolean;
}

/**
 * The console's JSON API (the routes of src/admin/contract.ts): authentication first, the CSRF
 * header on every write, then the handler; every failure answered with the contract's error shape.
 */
export class AdminApi {
  private readonly routes: Route[];

  constructor(private readonly parts: ConsoleParts) {
    const p = parts;
    const r = (method: string, pattern: RegExp, handler: Handler, open = false): Route => ({
      method,
      pattern,
      handler,
      open,
    });
    this.routes = [
      r('GET', /^me$/, (c) => this.me(c.request), true),
      r('POST', /^dev\/signin$/, (c) => this.devSignIn(c.request), true),
      r(
        'POST',
        /^dev\/signout$/,
        () => Promise.resolve({ status: 204, cookies: [p.auth.devSignOut()] }),
        true,
      ),
      r('GET', /^config$/, async () => ok(await p.editor.overview())),
      r('GET', /^config\/files\/(.+)$/, async (c) => {
        const file = await p.editor.read(param(c, 0));
        return ok(file, 200, { etag: file.etag });
      }),
      r('PUT', /^config\/files\/(.+)$/, (c) => this.saveFile(c)),
      r('DELETE', /^config\/files\/(.+)$/, async (c) =>
        ok(await p.editor.remove(param(c, 0), precondition(c.request), c.me)),
      ),
      r('GET', /^config\/versions$/, async (c) => {
        const path = query(c.request, 'path');
        return ok({ path, versions: await p.editor.versions(path) });
      }),
      r('GET', /^config\/version$/, async (c) => {
        const { info: _info, ...file } = await p.editor.version(
          query(c.request, 'path'),
          query(c.request, 'version'),
        );
        return ok(file);
      }),
      r('POST', /^config\/rollback$/, async (c) => {
        const body = objectBody(await c.request.json());
        const result = await p.editor.rollback(
          stringField(body, 'path'),
          stringField(body, 'version'),
          precondition(c.request),
          c.me,
        );
        return ok(result, 200, { etag: result.etag });
      }),
      r('POST', /^preview$/, async (c) => ok(await p.preview.preview(await c.request.json()))),
      r('GET', /^directory\/users$/, async (c) => {
        const limit = Number(c.request.query.get('limit') ?? 20);
        return ok(await p.preview.searchUsers(c.request.query.get('q') ?? '', clamp(limit, 1, 100)));
      }),
      r('POST', /^templates\/compat$/, async (c) => {
        const body = objectBody(await c.request.json());
        const clients = body.clients;
        if (clients !== undefined && !(Array.isArray(clients) && clients.every((x) => typeof x === 'string')))
          throw fail(400, 'bad-request', 'expected "clients": caniemail client ids', { field: 'clients' });
        return ok(compatReport(stringField(body, 'html'), clients));
      }),
      r('POST', /^templates\/inline-css$/, async (c) =>
        ok({ html: inlineCss(stringField(objectBody(await c.request.json()), 'html')) }),
      ),
      r('GET', /^rules$/, async (c) => {
        const doc = await p.rules.rules(scope(c.request));
        return ok(doc, 200, doc.etag ? { etag: doc.etag } : {});
      }),
      r('PUT', /^rules$/, async (c) => {
        const body = objectBody(await c.request.json());
        const result = await p.rules.save(scope(c.request), body.rules, precondition(c.request), c.me);
        return ok(result, 200, { etag: result.etag });
      }),
      r('POST', /^rules\/validate$/, async (c) => {
        await p.rules.validate(scope(c.request), objectBody(await c.request.json()).rules);
        return ok({ ok: true });
      }),
      r('GET', /^rules\/who-gets-what$/, async (c) =>
        ok(await p.rules.whoGetsWhat(scope(c.request), undefined, at(c.request.query.get('at')))),
      ),
      r('POST', /^rules\/who-gets-what$/, async (c) => {
        const body = objectBody((await c.request.json()) ?? {});
        return ok(await p.rules.whoGetsWhat(scope(c.request), body.rules, at(body.at)));
      }),
      r('GET', /^campaigns$/, async (c) => ok(await p.rules.campaigns(at(c.request.query.get('at'))))),
      r('PUT', /^campaigns$/, async (c) => {
        const body = objectBody(await c.request.json());
        if (typeof body.scope !== 'string')
          throw fail(400, 'bad-request', 'expected "scope": \'\' or a tenant folder', { field: 'scope' });
        const result = await p.rules.saveCampaign(
          body.scope,
          stringField(body, 'rule'),
          body.banner,
          precondition(c.request),
          c.me,
        );
        return ok(result, 200, { etag: result.etag });
      }),
      r('GET', /^messages$/, async (c) => {
        const q = c.request.query;
        return ok(
          await p.messages.search({
            id: q.get('id') ?? undefined,
            sender: q.get('sender') ?? undefined,
            from: at(q.get('from')),
            to: at(q.get('to')),
            limit: q.get('limit') ? Number(q.get('limit')) : undefined,
          }),
        );
      }),
      r('GET', /^messages\/([^/]+)$/, async (c) => ok(await p.messages.timeline(param(c, 0)))),
      r('GET', /^deadletters$/, async () => ok(await p.messages.deadLetters())),
      r('POST', /^deadletters\/([^/]+)\/replay$/, async (c) => {
        const body = objectBody(await c.request.json());
        return ok(await p.messages.replay(param(c, 0), body.confirm, c.me), 202);
      }),
      r('GET', /^health$/, async () => ok(await p.health())),
      // A POST, with the CSRF header of every write: the run opens SMTP sessions to each endpoint.
      r('POST', /^doctor$/, async (c) => ok(await p.doctor(c.request.query.get('tenant') || undefined))),
      r('GET', /^audit$/, async (c) => {
        const limit = Number(c.request.query.get('limit') ?? 100);
        return ok(
          await p.audit.list({ limit: clamp(limit, 1, 1000), before: at(c.request.query.get('before')) }),
        );
      }),
    ];
  }

  async handle(request: ApiRequest): Promise<ApiAnswer> {
    try {
      const answer = await this.route(request);
      return { ...answer, headers: { 'cache-control': 'no-store', ...(answer.headers ?? {}) } };
    } catch (err) {
      if (err instanceof ApiFailure)
        return { status: err.status, json: err.body, headers: { 'cache-control': 'no-store' } };
      this.parts.logger.error(
        { err: describeError(err), method: request.method, path: request.path },
        'admin api failed',
      );
      return {
        status: 500,
        json: { error: `internal error: ${describeError(err)}`, code: 'unavailable' },
        headers: { 'cache-control': 'no-store' },
      };
    }
  }

  private async route(request: ApiRequest): Promise<ApiAnswer> {
    const path = request.path.replace(/^\/+|(?<!\/)\/+$/g, '');
    const candidates = this.routes.filter((r) => r.pattern.test(path));
    if (candidates.length === 0) throw fail(404, 'not-found', `no route /api/admin/${path}`);
    const route = candidates.find((r) => r.method === request.method);
    if (!route)
      throw fail(
        405,
        'bad-request',
        `${request.method} is not allowed here; use ${candidates.map((c) => c.method).join(', ')}`,
      );
    const writes = request.method !== 'GET' && request.method !== 'HEAD';
    if (writes) this.parts.auth.requireCsrfHeader(request);
    const me = route.open ? ({} as Me) : this.parts.auth.requireAdmin(request);
    const params = (route.pattern.exec(path) ?? []).slice(1).map((v) => {
      try {
        return decodeURIComponent(v);
      } catch {
        throw fail(400, 'bad-request', `malformed path ${path}`);
      }
    });
    return route.handler({ request, params, me });
  }

  private me(request: ApiRequest): Promise<ApiAnswer> {
    const me = this.parts.auth.principal(request);
    if (!me) throw fail(401, 'unauthenticated', 'not signed in', { signIn: this.parts.auth.signInHint() });
    return Promise.resolve(ok(me));
  }

  private async devSignIn(request: ApiRequest): Promise<ApiAnswer> {
    const body = objectBody(await request.json());
    const cookie = this.parts.auth.devSignIn(stringField(body, 'name'), body.admin !== false);
    return { status: 204, cookies: [cookie] };
  }

  private async saveFile(c: Context): Promise<ApiAnswer> {
    const name = param(c, 0);
    const kind = this.parts.editor.checkPath(name);
    const body = objectBody(await c.request.json());
    if (typeof body.content !== 'string')
      throw fail(400, 'bad-request', 'expected "content": the file as text (or base64 for images)', {
        field: 'content',
      });
    const encoding = body.encoding ?? (kind === 'image' ? 'base64' : 'utf8');
    if (encoding !== 'utf8' && encoding !== 'base64')
      throw fail(400, 'bad-request', 'expected "encoding": utf8 or base64', { field: 'encoding' });
    if (kind === 'image' && encoding !== 'base64')
      throw fail(400, 'bad-request', 'images are uploaded as base64', { field: 'encoding' });
    let text = encoding === 'utf8' ? body.content : undefined;
    if (body.inlineCss === true) {
      if (kind !== 'template-html' || text === undefined)
        throw fail(400, 'bad-request', 'inlineCss applies to HTML templates only', { field: 'inlineCss' });
      text = inlineCss(text);
    }
    const content = text !== undefined ? Buffer.from(text, 'utf8') : Buffer.from(body.content, 'base64');
    const result: SaveResult = await this.parts.editor.save(name, content, precondition(c.request), c.me);
    const answer: SaveResult | SaveImageResult =
      kind === 'image'
        ? { ...result, use: this.imageUse(name) }
        : { ...result, ...(body.inlineCss === true ? { content: text } : {}) };
    return ok(answer, 200, { etag: result.etag });
  }

  private imageUse(name: string): SaveImageResult['use'] {
    const file = name.slice(name.lastIndexOf('/') + 1);
    const base = this.parts.imageBaseUrl?.replace(/(?<!\/)\/+$/, '');
    return { embedded: `cid:${file}`, ...(base ? { hosted: `${base}/${name}` } : {}) };
  }
}

function param(c: Context, i: number): string {
  const value = c.params[i];
  if (value === undefined) throw fail(400, 'bad-request', 'missing path parameter');
  return value;
}

function query(request: ApiRequest, name: string): string {
  const value = request.query.get(name);
  if (!value) throw fail(400, 'bad-request', `expected ?${name}=`, { field: name });
  return value;
}

function scope(request: ApiRequest): string {
  return (request.query.get('scope') ?? '').replace(/^\/+|(?<!\/)\/+$/g, '');
}

function precondition(request: ApiRequest): Precondition {
  const ifMatch = request.header('if-match');
  const ifNoneMatch = request.header('if-none-match');
  return { ...(ifMatch ? { ifMatch } : {}), ...(ifNoneMatch ? { ifNoneMatch } : {}) };
}

function at(value: unknown): Date | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
    throw fail(400, 'bad-request', `expected an ISO date-time, got ${JSON.stringify(value)}`);
  return new Date(value);
}

function clamp(n: number, min: number, max: number): number {
  return Number.isFinite(n) ? Math.min(Math.max(Math.trunc(n), min), max) : min;
}
