import type { ConfigOverview, ScopeInfo } from '../../src/admin/contract';

/** What every page gets: the configuration's scopes, the one chosen in the tenant selector, and a way to reload. */
export interface PageProps {
  overview: ConfigOverview;
  scope: ScopeInfo;
  reloadConfig: () => Promise<void>;
  rest: string;
}
