/**
 * The sign-in's own short-lived cookie: between the redirect to the provider and its callback,
 * the browser keeps what the callback must check (state, nonce), the PKCE verifier, the
 * redirect_uri used, and where to go afterwards. Signed with the session key under its own
 * purpose (session-keys.ts), so it cannot be forged, altered, or passed off as a session.
 *
 * One cookie per sign-in, named after its state (`perch_oidc_<first 16 characters>`), so two
 * tabs signing in at once do not overwrite each other's. Path=/zot/auth/callback/ keeps it off
 * every other request; SameSite=Lax still sends it on the provider's top-level redirect back;
 * it lives 10 minutes (STATE_TTL_MS) and is cleared by the callback.
 *
 * The verifier is in the browser, not on the server, so any replica can finish any sign-in.
 * That is safe: it only proves that whoever redeems the code started the sign-in, and only
 * this browser holds the cookie (HttpOnly, sent only to the callback path).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { PerchConfig } from '../../config/types';
import { clearCookie, cookieValues, secureCookies, setCookie } from '../session/cookies';
import type { SessionKeys } from '../session/session-keys';

export const STATE_TTL_MS = 10 * 60 * 1000;
export const CALLBACK_BASE_PATH = '/zot/auth/callback';
const PURPOSE = 'oidc-state';
const COOKIE_PREFIX = 'perch_oidc_';

export interface SignInState {
  provider: string;
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
  /** Where to send the browser after signing in (already checked, login-callback-target.ts). */
  callback: string;
}

const random = () => randomBytes(32).toString('base64url');

/** A fresh sign-in: new state, nonce and PKCE verifier. */
export function newSignIn(provider: string, redirectUri: string, callback: string): SignInState {
  return { provider, state: random(), nonce: random(), verifier: random(), redirectUri, callback };
}

/** The PKCE S256 challenge of `verifier` (RFC 7636 §4.2). */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function cookieName(state: string): string {
  return COOKIE_PREFIX + state.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 16);
}

export function stateCookie(keys: SessionKeys, req: IncomingMessage, config: PerchConfig, s: SignInState, now = Date.now()): string {
  const value = keys.seal(PURPOSE, { ...s, exp: Math.floor((now + STATE_TTL_MS) / 1000) });
  return setCookie(cookieName(s.state), value, { path: `${CALLBACK_BASE_PATH}/`, maxAgeSeconds: STATE_TTL_MS / 1000, secure: secureCookies(req, config) });
}

export function clearStateCookie(req: IncomingMessage, config: PerchConfig, state: string): string {
  return clearCookie(cookieName(state), `${CALLBACK_BASE_PATH}/`, secureCookies(req, config));
}

/** Why a callback's state is refused, for the page and the log. */
export type StateProblem = 'no state in the callback' | 'no sign-in cookie for this state (expired, from another browser, or cookies blocked)' | 'state does not match' | 'sign-in took too long';

/** The sign-in the callback's `state` belongs to, or why there is none. */
export function readSignIn(keys: SessionKeys, req: IncomingMessage, provider: string, state: string | null, now = Date.now()): SignInState | StateProblem {
  if (!state) return 'no state in the callback';
  const values = cookieValues(req, cookieName(state));
  if (values.length === 0) return 'no sign-in cookie for this state (expired, from another browser, or cookies blocked)';
  for (const value of values) {
    const p = keys.open(PURPOSE, value);
    if (!p || p.state !== state || p.provider !== provider) continue;
    if (typeof p.exp !== 'number' || p.exp * 1000 <= now) return 'sign-in took too long';
    const fields = ['nonce', 'verifier', 'redirectUri', 'callback'] as const;
    if (!fields.every((f) => typeof p[f] === 'string')) continue;
    return { provider, state, nonce: p.nonce as string, verifier: p.verifier as string, redirectUri: p.redirectUri as string, callback: p.callback as string };
  }
  return 'state does not match';
}
