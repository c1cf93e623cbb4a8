/**
 * Reading the Cookie header and writing Set-Cookie values (RFC 6265). Only what perch's own
 * cookies need: names and values of the token characters, so nothing is quoted or escaped.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { PerchConfig } from '../../config/types';

/** Every value of cookie `name` the request carries (a browser may send two with one name, set on different paths). */
export function cookieValues(req: IncomingMessage, name: string): string[] {
  const header = req.headers.cookie;
  if (!header) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

export interface CookieOptions {
  path: string;
  maxAgeSeconds: number;
  secure: boolean;
}

/** A Set-Cookie value: HttpOnly (no script reads it) and SameSite=Lax (no cross-site POST carries it). */
export function setCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, `Path=${options.path}`, `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`, 'HttpOnly', 'SameSite=Lax'];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/** A Set-Cookie value that removes cookie `name` on `path`. */
export function clearCookie(name: string, path: string, secure: boolean): string {
  return setCookie(name, '', { path, maxAgeSeconds: 0, secure }) + '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
}

/**
 * Whether cookies get the Secure flag: http.auth.secureSession when set (zot's switch), else
 * when this request came over TLS or http.externalUrl is https (a TLS proxy in front).
 */
export function secureCookies(req: IncomingMessage, config: PerchConfig): boolean {
  const configured = config.http.auth?.secureSession;
  if (configured !== undefined) return configured;
  if ((req.socket as TLSSocket).encrypted === true) return true;
  return config.http.externalUrl?.startsWith('https:') ?? false;
}
