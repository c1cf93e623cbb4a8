/**
 * `createAuth(config, log)`: the registry's authentication and access control from its
 * configuration (docs/auth.md is the user's guide). Each login method is one authenticator
 * behind the seam in authenticator.ts; this is the one place that picks and orders them:
 *
 *   Basic      htpasswd (http.auth.htpasswd), LDAP (http.auth.ldap), API keys (http.auth.apikey)
 *   Bearer     perch's own tokens (/v2/token), OpenID providers' tokens (http.auth.openid,
 *              http.auth.bearer.oidc), an external issuer's tokens (http.auth.bearer.cert)
 *   request    the client certificate (http.auth.mtls), the browse UI's session cookie
 *
 * and the routes those methods add (Auth.routes): /zot/auth/apikey, and with OpenID the
 * sign-in, callback and sign-out under /zot/auth/ (auth/oidc/login-flow.ts).
 *
 * - http.auth.failDelay: seconds before a failed login is answered
 * - http.accessControl: zot's repository policies (policy.ts), which alone decide access
 * - perch.auth.challenge: "basic" (default) or "bearer" (tokens from /v2/token)
 * - perch.auth.tokenKeyFile, perch.auth.tokenTTL: the token signing key and token lifetime;
 *   under Basic challenges with tokenKeyFile left out the key is optional (token-key-file.ts)
 *
 * With no login method nobody logs in: everyone is anonymous, allowed everything unless
 * http.accessControl says otherwise (zot's behaviour).
 *
 * Options are for tests: `pollIntervalMs` (default 1000) sets how often the htpasswd and key
 * files are checked for changes; `now` replaces the clock for token times and caches.
 */
import type { PerchConfig } from '../config/types';
import type { Logger } from '../log';
import { loginConfigured } from '../config/read-auth';
import type { PasswordAuthenticator } from './authenticator';
import { HtpasswdAuthenticator } from './htpasswd-authenticator';
import { HtpasswdRefused, HtpasswdStore } from './htpasswd-store';
import { openApiKeys } from './apikey';
import { OpenIdIssuers } from './oidc/issuer-discovery';
import { openIdRoutes } from './oidc/login-flow';
import { createOidcTokenAuthenticator } from './oidc/oidc-token-authenticator';
import { createSessions, SessionAuthenticator } from './session';
import { IssuerTokenAuthenticator } from './issuer-token-authenticator';
import { LdapAuthenticator } from './ldap/ldap-authenticator';
import { MtlsAuthenticator } from './mtls-authenticator';
import { Login } from './login';
import { LoginThrottle } from './login-throttle';
import { AccessPolicy } from './policy';
import { PerchTokenAuthenticator } from './perch-token-authenticator';
import { RegistryAuth, type RegistryAuthParts } from './registry-auth';
import { TokenKeyFile } from './token-key-file';
import { TokenService } from './token-service';
import { TokenSigner } from './tokens';
import type { Auth, ReadinessCheck } from './types';

export type { Auth, ChallengeContext, Identity, ReadinessCheck } from './types';
export { ANONYMOUS } from './types';
export { HtpasswdRefused } from './htpasswd-store';

export interface AuthOptions {
  pollIntervalMs?: number;
  now?: () => number;
}

export const DEFAULT_POLL_INTERVAL_MS = 1000;

export async function createAuth(config: PerchConfig, log: Logger, options: AuthOptions = {}): Promise<Auth> {
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const now = options.now ?? Date.now;
  const auth = config.http.auth;
  const policy = new AccessPolicy(config.http.accessControl, loginConfigured(auth));
  const parts: RegistryAuthParts = { config, log, policy, tokenMethods: [], requestMethods: [], routes: [], readiness: [], close: [] };
  if (!auth || !loginConfigured(auth)) {
    if (auth) log.warn('http.auth names no login method: nobody can log in, every caller is anonymous');
    return new RegistryAuth(parts);
  }

  // Each method behind its seam (authenticator.ts), in the order they are asked.
  const passwords: PasswordAuthenticator[] = [];
  const started = <T extends { readiness?(): ReadinessCheck; close?(): void }>(method: T): T => {
    if (method.readiness) parts.readiness.push(() => method.readiness!());
    if (method.close) parts.close.push(() => method.close!());
    return method;
  };
  if (auth.htpasswd) {
    const store = new HtpasswdStore(auth.htpasswd.path, log, { pollIntervalMs, now });
    await store.start();
    passwords.push(started(new HtpasswdAuthenticator(store)));
  }
  if (auth.ldap) passwords.push(started(await starting('http.auth.ldap', async () => new LdapAuthenticator(auth.ldap!, log, { now }))));
  // API keys first: a password without the key prefix costs them nothing, and a key never costs a bcrypt run.
  const apiKeys = await starting('API keys', () => openApiKeys(config, log, now));
  if (apiKeys.authenticator) passwords.unshift(apiKeys.authenticator);
  parts.routes.push(...apiKeys.routes);
  // One discovery per OpenID issuer, for UI sign-in and bearer tokens alike.
  const issuers = new OpenIdIssuers(log);
  if (auth.openid) {
    const sessions = await starting('UI sessions', async () => createSessions(config, log));
    parts.requestMethods.push(new SessionAuthenticator(sessions));
    parts.routes.push(...openIdRoutes(config, log, sessions, issuers));
  }
  if (passwords.length > 0) parts.login = new Login(passwords, new LoginThrottle(auth.failDelay * 1000, now), log);
  if (parts.login) await startTokenService(config, log, parts, parts.login, { pollIntervalMs, now });
  // OpenID providers' and workload issuers' tokens: before the external issuer, which takes every token left.
  const oidc = await starting('OpenID bearer tokens', async () => createOidcTokenAuthenticator(auth, log, { now, issuers }));
  if (oidc) parts.tokenMethods.push(oidc);
  if (auth.bearer && !/^https?:\/\//i.test(auth.bearer.realm)) {
    // crane, docker and oras parse the challenge's realm as a URL before they send a token they hold.
    log.warn('http.auth.bearer.realm is not an http(s) URL: docker, crane and oras refuse the challenge and never send their token', {
      realm: auth.bearer.realm,
      fix: 'set realm to the URL of the token issuer (with bearer.oidc only, any http(s) URL the clients can parse)',
    });
  }
  if (auth.bearer?.cert) {
    const issuer = new IssuerTokenAuthenticator(auth.bearer, log, { pollIntervalMs, now });
    await starting('http.auth.bearer', () => issuer.start()); // a key file that gives no key stops perch serve, naming it, as zot does
    parts.tokenMethods.push(started(issuer)); // last: it takes every token that reaches it
  }
  if (auth.mtls) parts.requestMethods.push(new MtlsAuthenticator(auth.mtls));
  return new RegistryAuth(parts);
}

/** A login method that cannot start: perch serve exits 1 with this message (it names the file or key, never a secret). */
export class AuthStartFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthStartFailed';
  }
}

async function starting<T>(what: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if (err instanceof HtpasswdRefused) throw err;
    throw new AuthStartFailed(`${what} cannot start: ${(err as Error).message}`);
  }
}

/**
 * perch's own token service (/v2/token) and its tokens, for registries with password logins:
 * the key file, readiness when Bearer challenges need it, and the token method first in line.
 */
async function startTokenService(config: PerchConfig, log: Logger, parts: RegistryAuthParts, login: Login, options: Required<AuthOptions>): Promise<void> {
  const bearer = config.perch.auth.challenge === 'bearer';
  const { tokenKeyFile, tokenKeyFileSet } = config.perch.auth;
  // Basic login needs no key: at the default path, with none mounted, the token service is just off.
  const key = new TokenKeyFile(tokenKeyFile, log, { pollIntervalMs: options.pollIntervalMs, optional: !bearer && !tokenKeyFileSet });
  await key.start();
  parts.close.push(() => key.close());
  if (bearer) {
    // With Bearer challenges every client needs tokens: no key, not ready.
    parts.readiness.push(() => {
      const trouble = key.trouble();
      return trouble ? { ok: false, reason: trouble } : { ok: true };
    });
  } else if (key.absent()) {
    log.info('the token service is off: no token key (Basic login needs none)', {
      path: tokenKeyFile,
      enable: `mount a key at ${tokenKeyFile} or set perch.auth.tokenKeyFile`,
    });
  } else if (key.unavailable()) {
    log.warn('the token service is off until the token key can be loaded (Basic login still works)', { problem: key.unavailable() });
  }
  const signer = new TokenSigner(() => key.current(), options.now, config.http.externalUrl ? new URL(config.http.externalUrl).host : undefined);
  // With an external issuer configured, a token perch's key does not verify may be the issuer's
  // (a second perch's tokens also say iss "perch"): perch's own method then passes it on.
  const shareIssuer = config.http.auth?.bearer?.cert !== undefined;
  parts.tokenMethods.unshift(new PerchTokenAuthenticator(signer, () => key.unavailable(), login, shareIssuer));
  parts.tokens = new TokenService({
    config,
    log,
    policy: parts.policy,
    login,
    signer,
    keyUnavailable: () => key.unavailable(),
    realm: config.http.realm ?? 'perch',
  });
}
