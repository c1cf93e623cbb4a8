/**
 * `/v2/token`: the token service of the Docker token specification and its OAuth2 variant,
 * the two ways registry clients fetch tokens:
 *
 *   GET  /v2/token?service=S&scope=repository:a:pull,push&scope=...   (docker, crane, skopeo,
 *        oras, helm) with Basic credentials, or none for an anonymous token; with
 *        `offline_token=true` and credentials, a refresh_token too (what `docker login` keeps)
 *   POST /v2/token  grant_type=password&username=U&password=P&scope=...&service=S&client_id=C
 *        -> also returns a refresh_token
 *   POST /v2/token  grant_type=refresh_token&refresh_token=R&scope=...
 *
 * Answer: {token, access_token, expires_in, issued_at[, refresh_token]}, never cached.
 * Wrong credentials: 401 UNAUTHORIZED with a Basic challenge, after http.auth.failDelay, and
 * the same for an unknown user as for a wrong password. A malformed POST: 400 with an OAuth2
 * error body (RFC 6749 §5.2). No token key: 503, naming the key problem. A request a browser
 * made for a page of another site: 403 (cross-site.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PerchConfig } from '../config/types';
import { RegistryError } from '../http/errors';
import type { Logger } from '../log';
import { basicChallenge, requestChallengeContext } from './challenge';
import { presentedCredentials } from './credentials';
import { anotherSite, crossSiteRefusal } from './cross-site';
import { grantsFor } from './grants';
import type { Login } from './login';
import type { AccessPolicy } from './policy';
import { parseScopes } from './scope';
import { TokenInvalid, type TokenSigner } from './tokens';
import type { Principal } from './authenticator';

/** Refresh tokens stand for a login (docker keeps one as its identity token), so they last. */
export const REFRESH_TTL_SECONDS = 30 * 24 * 3600;
const MAX_FORM_BYTES = 64 * 1024;
const MAX_SCOPES = 100;
/** Grant types of RFC 6749 and its extensions (IANA's OAuth URI registry) that perch does not do. */
const OTHER_GRANT_TYPES = /^(?:authorization_code|client_credentials|implicit|urn:ietf:params:oauth:grant-type:[a-z0-9-]{1,40})$/;

export interface TokenServiceParts {
  config: PerchConfig;
  log: Logger;
  policy: AccessPolicy;
  login: Login;
  signer: TokenSigner;
  /** Why no token can be signed now, if none can. */
  keyUnavailable: () => string | undefined;
  realm: string;
}

class OAuthError extends Error {
  constructor(
    readonly error: 'invalid_request' | 'unsupported_grant_type' | 'invalid_scope',
    readonly description: string,
  ) {
    super(description);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': bytes.length,
    // RFC 6749 §5.1: responses holding tokens must not be cached.
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
  });
  res.end(bytes);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? 'application/x-www-form-urlencoded').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    throw new OAuthError('invalid_request', `the token request body must be application/x-www-form-urlencoded, not ${type}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new OAuthError('invalid_request', `the token request body is over ${MAX_FORM_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export class TokenService {
  constructor(private readonly parts: TokenServiceParts) {}

  private unauthorized(message: string): RegistryError {
    return new RegistryError('UNAUTHORIZED', message, undefined, { 'WWW-Authenticate': basicChallenge(this.parts.realm) });
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Tokens are for registry clients; a page of another site gets none, and no login (cross-site.ts).
    const foreign = anotherSite(req, this.parts.config);
    if (foreign !== undefined) {
      req.resume();
      throw crossSiteRefusal(foreign, 'tokens are issued only to registry clients');
    }
    const keyProblem = this.parts.keyUnavailable();
    if (keyProblem) {
      req.resume();
      throw new RegistryError('UNAVAILABLE', `the token service cannot sign tokens: ${keyProblem}`);
    }
    try {
      if (req.method === 'POST') await this.handlePost(req, res);
      else await this.handleGet(req, res);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      sendJson(res, 400, { error: err.error, error_description: err.description });
    }
  }

  private scopesOf(values: string[]) {
    const scopes = parseScopes(values);
    if (scopes.length > MAX_SCOPES) throw new OAuthError('invalid_scope', `at most ${MAX_SCOPES} scopes per token request`);
    return scopes;
  }

  private async handleGet(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const query = new URL(req.url ?? '/', 'http://token.invalid').searchParams;
    const presented = presentedCredentials(req);
    let principal: Principal | null = null;
    if (presented.kind === 'basic') {
      principal = await this.parts.login.check(req, presented.user, presented.password, 'token');
      if (!principal) throw this.unauthorized('authentication failed: wrong user name or password');
    } else if (presented.kind !== 'none') {
      throw this.unauthorized('the token service takes Basic credentials (or none, for an anonymous token)');
    }
    const scopes = this.scopesOf(query.getAll('scope'));
    await this.respond(req, res, principal, scopes, principal !== null && query.get('offline_token') === 'true', query.get('service'));
  }

  private async handlePost(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    const grant = form.get('grant_type');
    const scopes = this.scopesOf(form.getAll('scope'));
    if (grant === 'password') {
      const user = form.get('username');
      const password = form.get('password');
      if (!user || password === null) throw new OAuthError('invalid_request', 'grant_type=password needs username and password');
      const principal = await this.parts.login.check(req, user, password, 'token');
      if (!principal) throw this.unauthorized('authentication failed: wrong user name or password');
      await this.respond(req, res, principal, scopes, true, form.get('service'));
      return;
    }
    if (grant === 'refresh_token') {
      const refresh = form.get('refresh_token');
      if (!refresh) throw new OAuthError('invalid_request', 'grant_type=refresh_token needs refresh_token');
      let principal: Principal;
      try {
        const verified = await this.parts.signer.verifyRefresh(refresh);
        const method = verified.mth ?? 'htpasswd';
        if (!this.parts.login.stillValid(method, verified.sub, verified.pwv)) throw new TokenInvalid('password changed, user removed or key revoked');
        principal = { username: verified.sub, groups: verified.grp ?? [], method, version: verified.pwv };
      } catch (err) {
        if (!(err instanceof TokenInvalid)) throw err;
        this.parts.log.info('refresh token refused', { reason: err.reason });
        throw this.unauthorized('the refresh token is invalid or expired; log in again');
      }
      await this.respond(req, res, principal, scopes, false, form.get('service'));
      return;
    }
    // Named only when it is a grant type (a client's mistake may put a password or a token there).
    const named = grant !== null && OTHER_GRANT_TYPES.test(grant) ? `, not ${JSON.stringify(grant)}` : '';
    throw new OAuthError('unsupported_grant_type', `grant_type must be "password" or "refresh_token"${named}`);
  }

  private async respond(
    req: IncomingMessage,
    res: ServerResponse,
    principal: Principal | null,
    scopes: ReturnType<typeof parseScopes>,
    withRefresh: boolean,
    requested: string | null,
  ): Promise<void> {
    const { policy, signer, config } = this.parts;
    // The token's audience is the service the client asked for (Docker token specification), so
    // another registry that trusts this one as its issuer (zot's http.auth.bearer) takes it; this
    // registry checks the audience only when http.externalUrl fixes it.
    const service = requested && requested.length <= 255 && /^[\x21-\x7e]+$/.test(requested) ? requested : requestChallengeContext(req, config).service;
    const user = principal?.username ?? null;
    // The groups http.accessControl gives the user, and those the login method reported.
    const groups = [...new Set([...policy.groupsOf(user), ...(principal?.groups ?? []).map((g) => g.toLowerCase())])];
    const access = grantsFor(policy, user, groups, scopes);
    const login = principal ? { pwv: principal.version, mth: principal.method, grp: principal.groups } : {};
    const issued = await signer.issueAccess(user ?? '', service, access, config.perch.auth.tokenTTLSeconds, login);
    const body: Record<string, unknown> = {
      token: issued.token,
      access_token: issued.token,
      expires_in: issued.expiresIn,
      issued_at: issued.issuedAt,
    };
    // Only for logins that can end (a version to check): an LDAP login has none, so no long-lived token stands for it.
    if (withRefresh && principal !== null && principal.version !== undefined) {
      body.refresh_token = (await signer.issueRefresh(principal.username, service, { ...login, pwv: principal.version }, REFRESH_TTL_SECONDS)).token;
    }
    this.parts.log.debug('token issued', { user, grants: access.map((g) => `${g.type}:${g.name}:${g.actions.join(',')}`) });
    sendJson(res, 200, body);
  }
}
