import { useEffect, useState } from 'preact/hooks';

/** The console's pages, addressed by the URL fragment (`/admin/#/rules`) so any deep link works without server rewrites. */
export const pages = [
  { id: 'studio', title: 'Signature studio' },
  { id: 'rules', title: 'Rules' },
  { id: 'campaigns', title: 'Campaigns' },
  { id: 'messages', title: 'Messages' },
  { id: 'health', title: 'Health' },
] as const;
export type PageId = (typeof pages)[number]['id'];

export interface Route {
  page: PageId;
  /** What follows the page: `#/messages/<id>` → `<id>`. */
  rest: string;
}

export function parseRoute(hash: string): Route {
  const [first = '', ...more] = hash.replace(/^#\/?/, '').split('/');
  const page = pages.find((p) => p.id === first)?.id ?? 'studio';
  return { page, rest: more.map(decodeURIComponent).join('/') };
}

export function hrefOf(page: PageId, rest?: string): string {
  return `#/${page}${rest ? `/${encodeURIComponent(rest)}` : ''}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
