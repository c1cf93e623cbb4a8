/**
 * The Auth the HTTP layer calls (types.ts): who is calling, may they do this, and the token
 * service. The decisions, in order of the questions a request raises:
 *
 * No login configured (no http.auth.htpasswd): credentials are ignored, as in zot, and every
 * caller is anonymous; without access control everyone may do everything, with it only
 * anonymousPolicy applies, and a refusal is 403 (logging in cannot help).
 *
 * Login configured:
 * - No credentials: anonymous. `GET /v2/` then answers 401 with the challenge unless anonymous
 *   callers may do something somewhere and logging in would add nothing. zot answers 200 to
 *   anonymous `/v2/` whenever some anonymousPolicy exists, except to the Docker client; but
 *   docker, podman, skopeo, containerd and regclient all decide from that one answer whether to
 *   send credentials at all, so a 200 there breaks every push they try with credentials.
 *   perch therefore challenges every client when the config mixes anonymous and logged-in
 *   grants; anonymous clients still read what anonymousPolicy allows.
 * - Basic: checked against htpasswd (cached; login.ts, htpasswd-store.ts). Wrong: 401.
 * - Bearer: a token from /v2/token, checked by signature, issuer, times and the user's current
 *   htpasswd entry. Bad: 401 with `error="invalid_token"`. Both schemes are accepted whichever
 *   challenge is configured (crane sends Basic straight to the registry when `/v2/` answers 200).
 *
 * - A request a browser made for a page of another site (cross-site.ts): credentials are
 *   refused with 403, whatever they are, and so is anything an anonymous caller may not do,
 *   without a challenge. A browser that signed in to the UI would answer a challenge with the
 *   stored login, and one with `user:pass@` in the address would sign in as that user.
 *
 * Refusals, per request:
 * - anonymous, not allowed: 401 with the configured challenge (Bearer names the scope).
 * - logged in (Basic), not allowed: 403 DENIED.
 * - token that lacks the action, but the policy allows it: 401 with error="insufficient_scope"
 *   and the scope: helm, oras, crane and docker fetch a new token on exactly that and retry.
 * - token for a user the policy does not allow: 403 DENIED (with a Bearer insufficient_scope
 *   challenge, as RFC 6750 §3.1 asks); a new token could not help, so no 401 loop.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PerchConfig, PolicyAction } from '../config/types';
import { RegistryError } from '../http/errors';
import { pathOf } from '../http/respond';
import type { Route } from '../http/routes';
import type { Logger } from '../log';
import { basicChallenge, bearerChallenge, configChallengeContext, requestChallengeContext, type BearerOptions } from './challenge';
import { presentedCredentials } from './credentials';
import { anotherSite, crossSiteRefusal } from './cross-site';
import { loginConfigured } from '../config/read-auth';
import { AuthUnavailable, type Principal, type RequestAuthenticator, type TokenAuthenticator } from './authenticator';
import type { Login } from './login';
import type { AccessPolicy } from './policy';
import { challengeScope, grantsAllow, tokenActionFor } from './scope';
import type { TokenService } from './token-service';
import { TokenInvalid } from './tokens';
import type { Auth, ChallengeContext, Identity, ReadinessCheck } from './types';

export interface RegistryAuthParts {
  config: PerchConfig;
  log: Logger;
  policy: AccessPolicy;
  /** Basic credentials, checked by the password methods in order; absent when there are none. */
  login?: Login;
  /** Bearer tokens: perch's own first, then the other methods' (authenticator.ts). */
  tokenMethods: TokenAuthenticator[];
  /** Without an Authorization header: the client certificate, the UI's session cookie. */
  requestMethods: RequestAuthenticator[];
  /** Routes the methods add (API keys, OpenID sign-in). */
  routes: Route[];
  tokens?: TokenService;
  readiness: Array<() => ReadinessCheck>;
  close: Array<() => void>;
}

function isBaseEndpoint(req: IncomingMessage): boolean {
  const path = pathOf(req);
  return path === '/v2/' || path === '/v2';
}

export class RegistryAuth implements Auth {
  private readonly realm: string;
  private readonly bearer: boolean;
  private readonly loginConfigured: boolean;
  readonly routes: readonly Route[];

  constructor(private readonly parts: RegistryAuthParts) {
    const { config } = parts;
    this.realm = config.http.realm ?? 'perch';
    // zot's http.auth.bearer sends clients to the issuer it names; perch.auth.challenge to /v2/token.
    this.bearer = config.perch.auth.challenge === 'bearer' || config.http.auth?.bearer !== undefined;
    this.loginConfigured = loginConfigured(config.http.auth);
    this.routes = parts.routes;
  }

  /** Where a refused caller is sent: http.auth.bearer's issuer, or perch's own token service. */
  private challengeContext(req?: IncomingMessage): ChallengeContext {
    const issuer = this.parts.config.http.auth?.bearer;
    if (issuer) return { realm: issuer.realm, service: issuer.service };
    return req ? requestChallengeContext(req, this.parts.config) : configChallengeContext(this.parts.config);
  }

  private anonymous(challenge: () => ChallengeContext): Identity {
    return { username: null, groups: [], challenge };
  }

  /**
   * The 401 that tells a client how to log in (the configured challenge); for a request from
   * another site's page a 403 without one (cross-site.ts).
   */
  private loginRequired(ctx: ChallengeContext, message: string, scope?: string, fromAnotherSite?: string): RegistryError {
    if (fromAnotherSite !== undefined) return crossSiteRefusal(fromAnotherSite, message);
    const header = this.bearer ? bearerChallenge(ctx, scope ? { scope } : {}) : basicChallenge(this.realm);
    return new RegistryError('UNAUTHORIZED', message, undefined, { 'WWW-Authenticate': header });
  }

  private bearerRefusal(ctx: ChallengeContext, message: string, options: BearerOptions): RegistryError {
    return new RegistryError('UNAUTHORIZED', message, undefined, { 'WWW-Authenticate': bearerChallenge(ctx, options) });
  }

  /** The identity a method's principal gives: its groups (lowercased) plus those http.accessControl gives the user. */
  private identityOf(principal: { username: string | null; groups: string[]; method: string }, challenge: () => ChallengeContext): Identity {
    const own = principal.groups.map((g) => g.toLowerCase());
    const groups = new Set([...this.parts.policy.groupsOf(principal.username), ...own]);
    return { username: principal.username, groups: [...groups], login: { method: principal.method, groups: own }, challenge };
  }

  async authenticate(req: IncomingMessage): Promise<Identity> {
    const { config, login, policy, log } = this.parts;
    // Built on first use: only a refusal names the realm and service.
    let built: ChallengeContext | undefined;
    const challenge = () => (built ??= this.challengeContext(req));
    if (!this.loginConfigured) return this.anonymous(challenge);
    const presented = presentedCredentials(req);
    const foreign = anotherSite(req, config);
    if (foreign !== undefined && presented.kind !== 'none') {
      log.info('credentials refused: the request came from another site', { from: foreign, address: req.socket.remoteAddress });
      throw crossSiteRefusal(foreign, 'credentials are accepted only from registry clients and the registry\'s own pages');
    }
    switch (presented.kind) {
      case 'none': {
        const principal = foreign === undefined ? this.fromRequest(req, challenge) : null;
        if (principal) return this.identityOf(principal, challenge);
        if (isBaseEndpoint(req) && policy.loginUseful()) {
          if (!policy.anonymousPossible()) throw this.loginRequired(challenge(), 'authentication required: log in with a registry user', undefined, foreign);
          throw this.loginRequired(challenge(), 'authentication required for writes here; anonymous callers may still read what anonymousPolicy allows', undefined, foreign);
        }
        return foreign === undefined ? this.anonymous(challenge) : { ...this.anonymous(challenge), fromAnotherSite: foreign };
      }
      case 'invalid':
        log.info('authorization header refused', { reason: presented.reason, address: req.socket.remoteAddress });
        throw this.loginRequired(challenge(), `authorization header refused: ${presented.reason}`);
      case 'basic': {
        if (!login) throw this.loginRequired(challenge(), 'this registry takes no user name and password; present a bearer token or a client certificate');
        const principal = await login.check(req, presented.user, presented.password, 'basic');
        if (!principal) throw this.loginRequired(challenge(), 'authentication failed: wrong user name or password');
        return this.identityOf(principal, challenge);
      }
      case 'bearer':
        return this.tokenIdentity(presented.token, challenge);
    }
  }

  /** A client certificate or a session cookie; a bad session cookie is a 401 that says so. */
  private fromRequest(req: IncomingMessage, challenge: () => ChallengeContext): Principal | null {
    for (const method of this.parts.requestMethods) {
      try {
        const principal = method.identify(req);
        if (principal) return principal;
      } catch (err) {
        if (!(err instanceof TokenInvalid)) throw err;
        this.parts.log.info('credentials refused', { method: method.method, reason: err.reason, address: req.socket.remoteAddress });
        throw this.loginRequired(challenge(), `${method.method} credentials refused (${err.reason}); sign in again`);
      }
    }
    return null;
  }

  /**
   * Each token method in turn; the first that vouches for the token wins. A method answers
   * undefined for tokens that are not its own; when none vouches, a method that refused the
   * token (401 invalid_token) outranks one that could not check it now (503).
   */
  private async tokenIdentity(token: string, challenge: () => ChallengeContext): Promise<Identity> {
    const { log } = this.parts;
    let invalid: TokenInvalid | undefined;
    let unavailable: AuthUnavailable | undefined;
    for (const method of this.parts.tokenMethods) {
      try {
        const principal = await method.verify(token);
        if (!principal) continue;
        const identity = this.identityOf(principal, challenge);
        if (principal.access) identity.token = principal.grantsDecide ? { access: principal.access, grantsDecide: true } : { access: principal.access };
        return identity;
      } catch (err) {
        if (err instanceof TokenInvalid) invalid ??= err;
        else if (err instanceof AuthUnavailable) unavailable ??= err;
        else throw err;
      }
    }
    if (!invalid && unavailable) {
      log.warn('bearer token could not be checked', { problem: unavailable.reason });
      throw new RegistryError('UNAVAILABLE', `the bearer token cannot be checked now: ${unavailable.reason}`);
    }
    log.info('bearer token refused', { reason: invalid?.reason ?? 'no login method issues tokens like it' });
    throw this.bearerRefusal(challenge(), 'the bearer token is invalid or expired; fetch a new one', { error: 'invalid_token' });
  }

  authorize(identity: Identity, repository: string | undefined, action: PolicyAction): void {
    const { policy } = this.parts;
    // Where to send a refused caller; built only for a refusal.
    const ctx = () => identity.challenge?.() ?? this.challengeContext();
    if (repository === undefined) {
      // The API base and the catalog: any logged-in caller; anonymous ones where anonymous
      // access exists at all (zot), or when there is no login to ask for.
      if (identity.username !== null || policy.anonymousPossible()) return;
      throw this.loginRequired(ctx(), 'authentication required: log in with a registry user', undefined, identity.fromAnotherSite);
    }
    // An external issuer's token decides alone (zot): only the issuer can tell whether a new
    // token would carry the action, so a token without it is always sent back for one.
    const allowed = identity.token?.grantsDecide ? true : policy.can(identity.username, identity.groups, repository, action);
    if (identity.token) {
      const inToken = grantsAllow(identity.token.access, repository, action);
      if (allowed && inToken) return;
      const scope = challengeScope(repository, action);
      if (allowed) {
        throw this.bearerRefusal(ctx(), `the token does not grant ${tokenActionFor(action)} on ${repository}; fetch a token for scope ${scope}`, {
          scope,
          error: 'insufficient_scope',
        });
      }
      if (identity.username === null) throw this.bearerRefusal(ctx(), `authentication required to ${action} ${repository}`, { scope, error: 'insufficient_scope' });
      throw this.denied(identity.username, repository, action, { 'WWW-Authenticate': bearerChallenge(ctx(), { scope, error: 'insufficient_scope' }) });
    }
    if (allowed) return;
    if (identity.username !== null) throw this.denied(identity.username, repository, action, {});
    if (!this.loginConfigured) throw new RegistryError('DENIED', `anonymous callers may not ${action} ${repository}, and this registry has no login; grant it in http.accessControl anonymousPolicy`, { repository, action });
    throw this.loginRequired(ctx(), `authentication required to ${action} ${repository}`, challengeScope(repository, action), identity.fromAnotherSite);
  }

  private denied(user: string, repository: string, action: PolicyAction, headers: Record<string, string>): RegistryError {
    return new RegistryError(
      'DENIED',
      `user ${JSON.stringify(user)} may not ${action} ${repository}; an admin can grant "${action}" in http.accessControl`,
      { repository, action },
      headers,
    );
  }

  canRead(identity: Identity, repository: string): boolean {
    if (identity.token?.grantsDecide) return grantsAllow(identity.token.access, repository, 'read');
    return this.parts.policy.can(identity.username, identity.groups, repository, 'read');
  }

  async handleToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.parts.tokens) {
      req.resume();
      throw new RegistryError('NOT_FOUND', 'the token service is off: this registry has no login (http.auth.htpasswd), so there is nothing to exchange for a token');
    }
    await this.parts.tokens.handle(req, res);
  }

  readiness(): ReadinessCheck {
    const reasons = this.parts.readiness.map((check) => check()).filter((r) => !r.ok);
    if (reasons.length === 0) return { ok: true };
    return { ok: false, reason: reasons.map((r) => r.reason ?? 'authentication is not ready').join('; ') };
  }

  close(): void {
    for (const close of this.parts.close) close();
  }
}
