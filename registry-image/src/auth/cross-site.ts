/**
 * Requests that a browser made for a page of another site: a form on another site posting to
 * the registry, a script there calling fetch, a link there to a registry address.
 *
 * Why it matters: the browse UI signs in with the browser's own Basic login (docs/ui.md), and
 * a browser that has signed in answers the registry's Basic challenge by itself, whichever
 * page started the request. Without this check a page on any site could make a signed-in
 * visitor's browser start uploads or mount blobs (a cross-site form POST is a "simple"
 * request: no CORS preflight stops it), or sign the browser in as a user of the attacker's
 * choosing (`http://user:pass@registry/...` behind a 401). Registry clients (docker, helm,
 * crane, skopeo, oras, containerd) send neither header this looks at, so they are never
 * affected; the UI's own requests are same-origin.
 *
 * A request is from another site when the browser says so in Fetch Metadata
 * (`Sec-Fetch-Site: cross-site` or `same-site`, sent by every current browser), or, for
 * browsers without it, when a request that is not GET or HEAD carries an `Origin` that is not
 * the registry's own (the Host it was sent to, or http.externalUrl).
 */
import type { IncomingMessage } from 'node:http';
import type { PerchConfig } from '../config/types';
import { RegistryError } from '../http/errors';

/** The site that started `req` when it is not the registry's own, else undefined. */
export function anotherSite(req: IncomingMessage, config: PerchConfig): string | undefined {
  const site = single(req.headers['sec-fetch-site']);
  const origin = single(req.headers.origin);
  if (site === 'cross-site' || site === 'same-site') return origin?.slice(0, 200) ?? `a ${site} page`;
  if (site !== undefined) return undefined; // same-origin, or none (typed, bookmarked)
  if (origin === undefined || req.method === 'GET' || req.method === 'HEAD') return undefined;
  if (origin === 'null') return 'an opaque origin';
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return 'an unreadable origin';
  }
  if (host === req.headers.host) return undefined;
  if (config.http.externalUrl && host === new URL(config.http.externalUrl).host) return undefined;
  return origin.slice(0, 200);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** 403 for a request from another site's page: no challenge, so the browser offers no login. */
export function crossSiteRefusal(from: string, why: string): RegistryError {
  return new RegistryError('DENIED', `refused: a browser sent this request for a page of another site (${from}); ${why}. Open the registry's own page to browse it`);
}
