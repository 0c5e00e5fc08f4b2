// Two pages and plain History API routing: `/` lists notebooks, `/notebooks/<id>` opens one. The collaboration server
// answers unknown paths with index.html, so deep links and reloads work.
import { type Accessor, createSignal } from 'solid-js';

export type Route = { page: 'list' } | { page: 'notebook'; id: string } | { page: 'not_found'; path: string };

export function parseRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/' || path === '/notebooks') return { page: 'list' };
  const m = /^\/notebooks\/([A-Za-z0-9_-]{1,64})$/.exec(path);
  if (m) return { page: 'notebook', id: m[1] };
  return { page: 'not_found', path };
}

export function hrefFor(route: Route): string {
  switch (route.page) {
    case 'list':
      return '/';
    case 'notebook':
      return `/notebooks/${encodeURIComponent(route.id)}`;
    case 'not_found':
      return route.path;
  }
}

let setter: ((r: Route) => void) | undefined;

export function createRouter(): Accessor<Route> {
  const [route, setRoute] = createSignal<Route>(parseRoute(window.location.pathname));
  setter = setRoute;
  window.addEventListener('popstate', () => setRoute(parseRoute(window.location.pathname)));
  return route;
}

export function navigate(route: Route): void {
  const href = hrefFor(route);
  if (href !== window.location.pathname) window.history.pushState(null, '', href);
  setter?.(route);
}
