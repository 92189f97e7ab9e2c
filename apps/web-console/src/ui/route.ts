// Hash routes: the gateway serves one page; the hash names the screen, so a reload or a sign-in
// round trip lands on the same screen.
import { useEffect, useState } from 'preact/hooks';

/** The screens the console has. */
export type Route = { area: 'desktop'; interactionId?: string } | { area: 'supervisor'; tab: SupervisorTab; id?: string };

export const SUPERVISOR_TABS = ['queues', 'agents', 'interactions', 'configuration', 'replies', 'hours'] as const;
export type SupervisorTab = (typeof SUPERVISOR_TABS)[number];

/** Reads a route from a location hash; anything unknown is the agent desktop. */
export function parseRoute(hash: string): Route {
  const [area, second, third] = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (area === 'supervisor') {
    const tab = (SUPERVISOR_TABS as readonly string[]).includes(second ?? '') ? (second as SupervisorTab) : 'queues';
    return third ? { area, tab, id: third } : { area, tab };
  }
  return area === 'desktop' && second ? { area: 'desktop', interactionId: second } : { area: 'desktop' };
}

/** The hash of a route. */
export function routeHash(route: Route): string {
  if (route.area === 'supervisor') return `#/supervisor/${route.tab}${route.id ? `/${encodeURIComponent(route.id)}` : ''}`;
  return `#/desktop${route.interactionId ? `/${encodeURIComponent(route.interactionId)}` : ''}`;
}

/** The current route, following hash changes. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}

/** Goes to a route (a new history entry, so Back works). */
export function navigate(route: Route): void {
  window.location.hash = routeHash(route);
}
