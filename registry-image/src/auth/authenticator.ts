/**
 * The one seam every login method plugs into. A request's credentials come in one of three
 * forms, and each method answers for the forms it understands:
 *
 *   Basic user:password      PasswordAuthenticator   htpasswd, LDAP (a bind), API keys
 *   Bearer <token>           TokenAuthenticator      perch's own tokens, OIDC providers'
 *                                                    tokens, an external issuer's tokens
 *   no Authorization header  RequestAuthenticator    the TLS client certificate (mutual TLS),
 *                                                    the browse UI's session cookie
 *
 * RegistryAuth (registry-auth.ts) asks them in the order auth/index.ts built them and stops at
 * the first that claims the credentials; what the caller may then do is always decided by the
 * one AccessPolicy (policy.ts), with the groups a method reports added to the groups
 * http.accessControl gives the user. A method never decides access itself.
 */
import type { IncomingMessage } from 'node:http';
import type { Grant } from './scope';

/** Who a method says the caller is. */
export interface Principal {
  username: string;
  /** Groups the method knows (LDAP memberOf, an OIDC groups claim); lowercased by the chain. */
  groups: string[];
  /** Which method vouched ("htpasswd", "ldap", "apikey", "openid", "bearer", "mtls"), for the log and tokens. */
  method: string;
  /**
   * For tokens perch issues after this login: a value that changes when the login stops being
   * valid (htpasswd: the entry's hash; an API key: its id). Checked again with
   * PasswordAuthenticator.stillValid on every use of such a token.
   */
  version?: string;
}

export interface PasswordAuthenticator {
  readonly method: string;
  /**
   * The principal when `password` is `user`'s for this method, null when it is not (the chain
   * then asks the next method). Throws AuthUnavailable when the method cannot answer now (the
   * LDAP server is down): the caller gets 503, not a wrong-password 401.
   */
  check(user: string, password: string): Promise<Principal | null>;
  /** Does this method know `user` at all? For the log line of a refused login only. */
  knows?(user: string): boolean;
  /**
   * Is a perch token issued after a login with `version` still good? Absent: tokens live to
   * their expiry (short: perch.auth.tokenTTL).
   */
  stillValid?(user: string, version: string | undefined): boolean;
  readiness?(): { ok: boolean; reason?: string };
  close?(): void;
}

/** A Bearer token's principal; `access` present means the token carries its own grants (Docker token form). */
export interface TokenPrincipal {
  username: string | null;
  groups: string[];
  method: string;
  access?: Grant[];
  /**
   * The token's grants alone decide, http.accessControl is not asked (zot's external issuer:
   * the issuer already applied its policy). Otherwise a token's grants only narrow what the
   * policy allows.
   */
  grantsDecide?: boolean;
}

export interface TokenAuthenticator {
  readonly method: string;
  /**
   * undefined: not a token of this method (another issuer); the chain asks the next one.
   * Throws TokenInvalid (tokens.ts) for a token of this method that fails its checks
   * (signature, expiry, audience), with the reason for the log.
   */
  verify(token: string): Promise<TokenPrincipal | undefined>;
  readiness?(): { ok: boolean; reason?: string };
  close?(): void;
}

/**
 * Credentials the request carries outside the Authorization header. Asked only when the request
 * has no Authorization header (an explicit one always wins), and never for a request a browser
 * made for a page of another site (cross-site.ts): that page must not borrow a cookie or a
 * client certificate.
 */
export interface RequestAuthenticator {
  readonly method: string;
  /**
   * The principal, or null when the request carries nothing of this method's. Throws
   * TokenInvalid for something that is this method's but bad (an expired or forged session
   * cookie), so the caller hears why instead of silently becoming anonymous.
   */
  identify(req: IncomingMessage): Principal | null;
}

/** A method cannot answer now (its server is unreachable); the request gets 503 UNAVAILABLE. */
export class AuthUnavailable extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'AuthUnavailable';
  }
}
