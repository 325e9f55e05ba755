import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError, ConfigOverview, Me, ScopeInfo, SignInHint } from '../../src/admin/contract';
import { api, ApiFailure, onUnauthenticated } from './api';
import { ErrorNotice, Notice } from './components/notice';
import { apiErrorOf, describeApiError } from './errors';
import { CampaignsPage } from './pages/campaigns';
import { HealthPage } from './pages/health';
import { MessagesPage } from './pages/messages';
import { RulesPage } from './pages/rules';
import { ForbiddenPage, SignInPage } from './pages/sign-in';
import { StudioPage } from './pages/studio';
import { hrefOf, pages, useRoute } from './router';

type Session =
  | { state: 'loading' }
  | { state: 'signed-out'; hint: SignInHint | undefined }
  | { state: 'forbidden'; me: Me }
  | { state: 'signed-in'; me: Me }
  | { state: 'error'; error: ApiError };

/** Scopes that belong to at least one tenant: the choices of the tenant selector. */
function tenantScopes(overview: ConfigOverview): ScopeInfo[] {
  const used = overview.scopes.filter((s) => s.tenants.length > 0);
  return used.length > 0 ? used : overview.scopes;
}

function scopeLabel(scope: ScopeInfo): string {
  return scope.tenants.map((t) => t.name).join(', ') || scope.scope || 'Configuration root';
}

export function App() {
  const [session, setSession] = useState<Session>({ state: 'loading' });
  const [overview, setOverview] = useState<ConfigOverview>();
  const [shellError, setShellError] = useState<ApiError>();
  const [scopeId, setScopeId] = useState<string>();
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const firstPage = useRef(true);

  const loadSession = useCallback(async () => {
    try {
      const me = await api.me();
      setSession(me.isAdmin ? { state: 'signed-in', me } : { state: 'forbidden', me });
    } catch (err) {
      if (err instanceof ApiFailure && err.status === 401) return; // onUnauthenticated has set it
      if (err instanceof ApiFailure && err.status === 403) {
        setSession({ state: 'error', error: err.body });
        return;
      }
      setSession({ state: 'error', error: apiErrorOf(err) });
    }
  }, []);

  const reloadConfig = useCallback(async () => {
    try {
      setOverview(await api.config());
      setShellError(undefined);
    } catch (err) {
      setShellError(apiErrorOf(err));
    }
  }, []);

  useEffect(() => onUnauthenticated((hint) => setSession({ state: 'signed-out', hint })), []);
  useEffect(() => void loadSession(), [loadSession]);
  useEffect(() => {
    if (session.state === 'signed-in') void reloadConfig();
  }, [session.state, reloadConfig]);

  const title = pages.find((p) => p.id === route.page)?.title ?? '';
  useEffect(() => {
    document.title = session.state === 'signed-in' ? `${title} · sigrelay admin` : 'sigrelay admin';
    // After a page change, put the keyboard and screen reader at the new page's heading.
    if (firstPage.current) firstPage.current = false;
    else main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [route.page, title, session.state]);

  const signOut = async () => {
    if (session.state !== 'loading' && 'me' in session && session.me.mode === 'easyauth') {
      location.assign('/.auth/logout?post_logout_redirect_uri=/admin/');
      return;
    }
    try {
      await api.devSignOut();
    } catch (err) {
      setShellError(apiErrorOf(err));
      return;
    }
    setOverview(undefined);
    setSession({ state: 'signed-out', hint: { mode: 'dev', url: '/api/admin/dev/signin' } });
  };

  if (session.state === 'loading') return <p class="loading">Loading…</p>;
  if (session.state === 'signed-out')
    return <SignInPage hint={session.hint} onSignedIn={() => void loadSession()} />;
  if (session.state === 'forbidden')
    return <ForbiddenPage me={session.me} onSignOut={() => void signOut()} />;
  if (session.state === 'error')
    return (
      <main id="main" class="sign-in">
        <div class="card">
          <h1>The console cannot start</h1>
          <ErrorNotice error={session.error} />
          <button type="button" onClick={() => void loadSession()}>
            Try again
          </button>
        </div>
      </main>
    );

  const scopes = overview ? tenantScopes(overview) : [];
  const scope = scopes.find((s) => s.scope === scopeId) ?? scopes[0];
  const Page = {
    studio: StudioPage,
    rules: RulesPage,
    campaigns: CampaignsPage,
    messages: MessagesPage,
    health: HealthPage,
  }[route.page];

  return (
    <>
      <button type="button" class="skip-link" onClick={() => main.current?.focus()}>
        Skip to content
      </button>
      <header class="topbar">
        <a class="brand" href={hrefOf('studio')}>
          sigrelay <span>admin</span>
        </a>
        <nav aria-label="Console pages">
          <ul>
            {pages.map((p) => (
              <li key={p.id}>
                <a href={hrefOf(p.id)} aria-current={route.page === p.id ? 'page' : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="topbar-end">
          {scopes.length > 1 && scope && (
            <div class="tenant-select">
              <label for="tenant">Tenant</label>
              <select id="tenant" value={scope.scope} onChange={(e) => setScopeId(e.currentTarget.value)}>
                {scopes.map((s) => (
                  <option key={s.scope} value={s.scope}>
                    {scopeLabel(s)}
                  </option>
                ))}
              </select>
            </div>
          )}
          <span class="who" title={session.me.id}>
            {session.me.name}
          </span>
          <button type="button" class="quiet" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      {overview?.status.lastError && (
        <div class="banner-warning">
          <Notice kind="warning">
            A newer configuration failed to load, so version {overview.status.versionInService} stays in
            service: {describeApiError(overview.status.lastError)}
          </Notice>
        </div>
      )}
      <main id="main" ref={main} tabIndex={-1}>
        <ErrorNotice error={shellError} />
        {overview && scope ? (
          <Page
            key={`${route.page}:${scope.scope}`}
            overview={overview}
            scope={scope}
            reloadConfig={reloadConfig}
            rest={route.rest}
          />
        ) : (
          !shellError && <p class="loading">Loading the configuration…</p>
        )}
      </main>
    </>
  );
}
