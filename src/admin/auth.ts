import crypto from 'node:crypto';
import type { Me, SignInHint } from './contract.js';
import { csrfHeader } from './contract.js';
import { fail, type AnswerCookie, type ApiRequest } from './http.js';

/**
 * Who may use the console. In Azure, App Service Authentication (Easy Auth) signs people in with
 * Entra ID and hands the app `x-ms-client-principal`; the console requires the admin app role or
 * group in it. Locally, a dev sign-in sets a signed cookie. A header an attacker could send is only
 * believed where the platform itself sets it: Easy Auth strips client-sent `x-ms-client-principal`
 * headers and sets `WEBSITE_AUTH_ENABLED=True` (Bicep also sets `SIGRELAY_ADMIN_EASY_AUTH=true`
 * together with authsettingsV2); without either the header is ignored.
 */
export interface AuthSettings {
  /** Easy Auth is on (`WEBSITE_AUTH_ENABLED=True`): believe `x-ms-client-principal`. */
  easyAuth: boolean;
  /** The dev sign-in is allowed (local runs only; never on App Service). */
  devSignIn: boolean;
  /** App role that makes an admin (`roles` claim). */
  adminRole: string;
  /** Or: an Entra group object id (`groups` claim). */
  adminGroup?: string;
  /** HMAC key of the dev cookie. */
  devSecret: Buffer;
}

export const devCookieName = 'sigrelay_console';
const devCookieHours = 12;

export function authSettingsFromEnv(env: Record<string, string | undefined>): AuthSettings {
  const onAppService = Boolean(env.WEBSITE_SITE_NAME);
  // Only an explicit local profile (which `npm start` sets) offers it: an app run elsewhere with the
  // profile unset (a VM, a container) must not hand an admin cookie to whoever asks.
  const devWanted = env.SIGRELAY_PROFILE === 'local' ? (env.SIGRELAY_ADMIN_DEV_AUTH ?? '1') : '0';
  return {
    easyAuth: [env.WEBSITE_AUTH_ENABLED, env.SIGRELAY_ADMIN_EASY_AUTH].some(
      (v) => v?.toLowerCase() === 'true',
    ),
    devSignIn: !onAppService && ['1', 'true', 'yes'].includes(devWanted.toLowerCase()),
    adminRole: env.SIGRELAY_ADMIN_ROLE || 'Sigrelay.Admin',
    adminGroup: env.SIGRELAY_ADMIN_GROUP || undefined,
    devSecret: env.SIGRELAY_ADMIN_DEV_SECRET
      ? Buffer.from(env.SIGRELAY_ADMIN_DEV_SECRET, 'utf8')
      : crypto.randomBytes(32),
  };
}

interface ClientPrincipal {
  auth_typ?: string;
  name_typ?: string;
  role_typ?: string;
  claims?: { typ?: string; val?: string }[];
}

const objectIdClaims = ['http://schemas.microsoft.com/identity/claims/objectidentifier', 'oid'];
const nameClaims = [
  'name',
  'preferred_username',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
];
const roleClaims = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];

export class ConsoleAuth {
  constructor(readonly settings: AuthSettings) {}

  /** The signed-in person, or undefined. */
  principal(request: ApiRequest): Me | undefined {
    if (this.settings.easyAuth) {
      const header = request.header('x-ms-client-principal');
      if (header) return this.fromEasyAuth(header, request);
    }
    if (this.settings.devSignIn) return this.fromDevCookie(request.header('cookie'));
    return undefined;
  }

  /** The signed-in admin, or a 401/403 failure. */
  requireAdmin(request: ApiRequest): Me {
    const me = this.principal(request);
    if (!me)
      throw fail(401, 'unauthenticated', 'sign in to use the admin console', { signIn: this.signInHint() });
    if (!me.isAdmin)
      throw fail(
        403,
        'forbidden',
        `${me.name} is signed in but has neither the ${this.settings.adminRole} app role` +
          (this.settings.adminGroup ? ` nor membership of group ${this.settings.adminGroup}` : ''),
      );
    return me;
  }

  /** Writes must carry the console's header: a form or image on another site cannot set it. */
  requireCsrfHeader(request: ApiRequest): void {
    if (request.header(csrfHeader) !== '1')
      throw fail(403, 'csrf', `a ${request.method} needs the header ${csrfHeader}: 1 (the console sends it)`);
  }

  signInHint(): SignInHint {
    return this.settings.easyAuth || !this.settings.devSignIn
      ? { mode: 'easyauth', url: '/.auth/login/aad?post_login_redirect_uri=/admin' }
      : { mode: 'dev', url: '/api/admin/dev/signin' };
  }

  /** The dev sign-in cookie for `name`; `admin: false` gives a non-admin (to see the 403 paths). */
  devSignIn(name: string, admin: boolean): AnswerCookie {
    if (!this.settings.devSignIn)
      throw fail(404, 'not-found', 'the dev sign-in is only available on a local run');
    const clean = name.trim().slice(0, 100);
    if (!clean || /[\u0000-\u001f]/.test(clean))
      throw fail(400, 'bad-request', 'expected a name to sign in with', { field: 'name' });
    const payload = Buffer.from(
      JSON.stringify({ n: clean, a: admin, e: Date.now() + devCookieHours * 3600_000 }),
    ).toString('base64url');
    return {
      name: devCookieName,
      value: `${payload}.${this.mac(payload)}`,
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      maxAge: devCookieHours * 3600,
    };
  }

  devSignOut(): AnswerCookie {
    return { name: devCookieName, value: '', httpOnly: true, sameSite: 'Strict', path: '/', maxAge: 0 };
  }

  private mac(payload: string): string {
    return crypto.createHmac('sha256', this.settings.devSecret).update(payload).digest('base64url');
  }

  private fromDevCookie(cookieHeader: string | undefined): Me | undefined {
    const value = cookieHeader
      ?.split(';')
      .map((c) => c.trim())
      .find((c) => c.startsWith(`${devCookieName}=`))
      ?.slice(devCookieName.length + 1);
    if (!value) return undefined;
    const [payload, mac] = value.split('.');
    if (!payload || !mac) return undefined;
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) return undefined;
    let data: { n?: unknown; a?: unknown; e?: unknown };
    try {
      data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof data;
    } catch {
      return undefined;
    }
    if (typeof data.n !== 'string' || typeof data.e !== 'number' || data.e < Date.now()) return undefined;
    const isAdmin = data.a === true;
    return {
      name: data.n,
      id: `dev:${data.n}`,
      roles: isAdmin ? [this.settings.adminRole] : [],
      isAdmin,
      mode: 'dev',
    };
  }

  private fromEasyAuth(header: string, request: ApiRequest): Me | undefined {
    let principal: ClientPrincipal;
    try {
      principal = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as ClientPrincipal;
    } catch {
      return undefined;
    }
    const claims = (principal.claims ?? []).filter(
      (c): c is { typ: string; val: string } => typeof c.typ === 'string' && typeof c.val === 'string',
    );
    const values = (types: (string | undefined)[]) =>
      claims.filter((c) => types.includes(c.typ)).map((c) => c.val);
    const roles = values([principal.role_typ, ...roleClaims]);
    const groups = values(['groups']);
    const name =
      values([principal.name_typ, ...nameClaims])[0] ??
      request.header('x-ms-client-principal-name') ??
      'unknown';
    const id = values(objectIdClaims)[0] ?? request.header('x-ms-client-principal-id') ?? name;
    const isAdmin =
      roles.includes(this.settings.adminRole) ||
      (this.settings.adminGroup !== undefined && groups.includes(this.settings.adminGroup));
    return { name, id, roles: [...new Set(roles)], isAdmin, mode: 'easyauth' };
  }
}
