/**
 * Where a finished sign-in sends the browser (zot's callback_ui): a path on this registry
 * ("/", "/#/team/app"), or an absolute http(s) URL whose origin is the registry's own (the
 * request's, or http.externalUrl's) or listed in http.auth.openid.callbackAllowOrigins.
 * Anything else becomes "/": an open redirect would let a link through perch's sign-in land
 * a user on a look-alike site.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { PerchConfig } from '../../config/types';

/** The registry's own origin as this request reached it, or http.externalUrl's. */
export function registryOrigin(req: IncomingMessage, config: PerchConfig): string {
  if (config.http.externalUrl) return new URL(config.http.externalUrl).origin;
  const scheme = (req.socket as TLSSocket).encrypted === true ? 'https' : 'http';
  return `${scheme}://${req.headers.host ?? `${config.http.address}:${config.http.port}`}`;
}

function originOf(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

export function callbackTarget(raw: string | null, req: IncomingMessage, config: PerchConfig): string {
  if (!raw) return '/';
  if (/[\r\n\\]|%5c/i.test(raw) || /[\u0000-\u001f\u007f]/.test(raw)) return '/';
  if (raw.startsWith('/')) return raw.startsWith('//') ? '/' : raw;
  const origin = originOf(raw);
  if (!origin) return '/';
  const allowed = [registryOrigin(req, config), ...(config.http.auth?.openid?.callbackAllowOrigins ?? [])].map(originOf);
  return allowed.includes(origin) ? raw : '/';
}
