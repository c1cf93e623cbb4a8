/**
 * The browse UI's sessions: after an OpenID Connect sign-in (auth/oidc/login-flow.ts) the
 * browser holds a cookie `perch_session` = a value signed with HMAC-SHA256 (session-keys.ts)
 * holding {u: user, g: groups, m: method, exp}. Nothing is kept on the server, so any replica
 * with the same key accepts it, and signing out clears the cookie (a copied cookie stays
 * valid until its expiry: 8 hours, SESSION_TTL_MS).
 *
 * The cookie is HttpOnly (page scripts never see it), SameSite=Lax (a cross-site POST or
 * fetch does not carry it), Path=/ and Secure when served over TLS (cookies.ts). A cookie
 * that fails its signature or is past its expiry is refused with TokenInvalid: the caller
 * hears why instead of silently browsing as anonymous.
 */
import type { IncomingMessage } from 'node:http';
import type { PerchConfig } from '../../config/types';
import type { Principal } from '../authenticator';
import { TokenInvalid } from '../tokens';
import { clearCookie, cookieValues, secureCookies, setCookie } from './cookies';
import type { SessionKeys } from './session-keys';

export const SESSION_COOKIE = 'perch_session';
/** How long a sign-in lasts. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
const PURPOSE = 'session';

export interface SessionOptions {
  ttlMs?: number;
  now?: () => number;
}

export class Sessions {
  readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    readonly keys: SessionKeys,
    private readonly config: PerchConfig,
    options: SessionOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? SESSION_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** The Set-Cookie value that signs `principal` in for ttlMs. */
  cookieFor(req: IncomingMessage, principal: Principal): string {
    const exp = Math.floor((this.now() + this.ttlMs) / 1000);
    const value = this.keys.seal(PURPOSE, { u: principal.username, g: principal.groups, m: principal.method, exp });
    return setCookie(SESSION_COOKIE, value, { path: '/', maxAgeSeconds: this.ttlMs / 1000, secure: secureCookies(req, this.config) });
  }

  /** The Set-Cookie value that signs the browser out. */
  clearing(req: IncomingMessage): string {
    return clearCookie(SESSION_COOKIE, '/', secureCookies(req, this.config));
  }

  /** Does the request carry a session cookie at all (valid or not)? */
  present(req: IncomingMessage): boolean {
    return cookieValues(req, SESSION_COOKIE).some((v) => v !== '');
  }

  /**
   * The principal of the request's session cookie; null without one. Throws TokenInvalid for
   * a cookie that is forged, altered, signed with another key or expired.
   */
  read(req: IncomingMessage): Principal | null {
    const values = cookieValues(req, SESSION_COOKIE).filter((v) => v !== '');
    if (values.length === 0) return null;
    if (values.length > 1) throw new TokenInvalid('more than one session cookie');
    const payload = this.keys.open(PURPOSE, values[0]);
    if (!payload) throw new TokenInvalid('session cookie signature does not match (forged, altered, or signed with another key: sign in again)');
    const { u, g, m, exp } = payload;
    if (typeof u !== 'string' || u === '' || typeof m !== 'string' || typeof exp !== 'number' || !Array.isArray(g) || !g.every((x) => typeof x === 'string')) {
      throw new TokenInvalid('session cookie is malformed');
    }
    if (exp * 1000 <= this.now()) throw new TokenInvalid('session expired: sign in again');
    return { username: u, groups: g as string[], method: m };
  }
}
