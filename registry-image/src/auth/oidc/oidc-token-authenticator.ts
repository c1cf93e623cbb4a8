/**
 * Bearer tokens an OpenID Connect issuer signed, as a TokenAuthenticator (authenticator.ts):
 * the access or ID tokens of zot's `http.auth.openid.providers` (method "openid": a person
 * who got a token from Keycloak, Dex, ... hands it to crane or oras), and the workload tokens of
 * `http.auth.bearer.oidc` (method "bearer-oidc": Kubernetes service-account tokens, CI tokens).
 *
 * verify(token):
 *   1. A verified token seen before is answered from memory until its `exp` (verified-tokens.ts),
 *      so a push of many requests checks the signature once; expiry is checked on every use.
 *   2. Reads the token's unverified `iss`. A token that is not a JWT, or whose issuer no source
 *      names, is another method's: undefined, and the chain asks the next one.
 *   3. Otherwise, for each source with that issuer (a provider and a bearer.oidc entry may share
 *      one): the signature with the issuer's published keys (issuer-discovery.ts), only asymmetric
 *      algorithms (never `none`, never HS* with a public key), the issuer, the audience (any
 *      of the source's), exp/nbf/iat with CLOCK_TOLERANCE_S of leeway, and a `typ` that is a
 *      plain or access-token JWT (not a logout token or other special-purpose JWT).
 *   4. The user name and groups come from the source's claim mapping (claim-expression.ts):
 *      openid providers name claims ("preferred_username", "groups"), bearer.oidc uses CEL.
 *
 * A failing check is TokenInvalid with the reason (for the log, never the token); an issuer
 * that cannot be reached is AuthUnavailable naming it (503: the token may be good). The
 * principal has no `access`: the accessControl policy alone decides, with the groups claim
 * added to the user's groups.
 *
 * Keycloak note: its access tokens carry `aud: "account"` unless the client has an audience
 * mapper; give the provider `audiences` (perch's key) or add the mapper so `aud` holds the
 * client id, the default audience.
 */
import { readFileSync } from 'node:fs';
import { errors, jwtVerify, type JWTPayload } from 'jose';
import type { AuthConfig } from '../../config/auth-types';
import type { Logger } from '../../log';
import { AuthUnavailable, type TokenAuthenticator, type TokenPrincipal } from '../authenticator';
import { unverifiedIssuer } from '../token-issuer';
import { TokenInvalid } from '../tokens';
import { VerifiedTokens } from '../verified-tokens';
import { claimNamed, evaluateGroups, evaluateString, parseClaimExpression, type ClaimExpression } from './claim-expression';
import { IssuerUnreachable, OpenIdIssuer, OpenIdIssuers } from './issuer-discovery';

const CLOCK_TOLERANCE_S = 10;
/** RFC 7518 §3.1 asymmetric signatures, plus EdDSA (RFC 8037). */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
/** `typ` values of tokens meant for resource servers (RFC 9068 access tokens, plain JWTs). */
const ACCEPTED_TYP = new Set(['jwt', 'at+jwt', 'application/at+jwt']);

export interface OidcTokenSource {
  /** "openid" (http.auth.openid.providers) or "bearer-oidc" (http.auth.bearer.oidc). */
  method: 'openid' | 'bearer-oidc';
  /** For log lines: "openid provider keycloak", "bearer.oidc[0]". */
  name: string;
  issuer: string;
  audiences: string[];
  username: ClaimExpression;
  groups?: ClaimExpression;
  /** PEM of the CA for the issuer's HTTPS. */
  ca?: string;
  skipIssuerVerification?: boolean;
}

export interface OidcTokenOptions {
  now?: () => number;
  /** The issuers, shared with UI sign-in (auth/index.ts); by default its own. */
  issuers?: OpenIdIssuers;
  /** Test hooks for an own OpenIdIssuers. */
  retryMs?: number;
  cooldownMs?: number;
}

const trimSlash = (s: string) => s.replace(/\/+$/, '');

/**
 * The sources `auth` configures. Throws an Error naming the entry when a claim mapping is not
 * in the subset perch evaluates or a CA file cannot be read: both must stop the start.
 */
export function oidcTokenSources(auth: AuthConfig | undefined): OidcTokenSource[] {
  const sources: OidcTokenSource[] = [];
  for (const provider of Object.values(auth?.openid?.providers ?? {})) {
    sources.push({
      method: 'openid',
      name: `openid provider ${provider.id}`,
      issuer: provider.issuer,
      audiences: provider.audiences,
      username: claimNamed(provider.claimMapping.username),
      groups: claimNamed(provider.claimMapping.groups),
    });
  }
  (auth?.bearer?.oidc ?? []).forEach((entry, index) => {
    const where = `http.auth.bearer.oidc[${index}].claimMapping`;
    const parse = (key: string, text: string) => {
      try {
        return parseClaimExpression(text);
      } catch (err) {
        throw new Error(`${where}.${key}: ${(err as Error).message}`);
      }
    };
    const source: OidcTokenSource = {
      method: 'bearer-oidc',
      name: `bearer.oidc[${index}]`,
      issuer: entry.issuer,
      audiences: entry.audiences,
      username: parse('username', entry.claimMapping.username),
      skipIssuerVerification: entry.skipIssuerVerification,
    };
    if (entry.claimMapping.groups) source.groups = parse('groups', entry.claimMapping.groups);
    if (entry.certificateAuthority) source.ca = entry.certificateAuthority;
    if (entry.certificateAuthorityFile) {
      try {
        source.ca = readFileSync(entry.certificateAuthorityFile, 'utf8');
      } catch (err) {
        throw new Error(`http.auth.bearer.oidc[${index}].certificateAuthorityFile: ${entry.certificateAuthorityFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); mount the CA certificate there or give it inline as certificateAuthority`);
      }
    }
    if (source.ca !== undefined && !source.ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new Error(`http.auth.bearer.oidc[${index}]: the certificate authority is not a PEM certificate (no "-----BEGIN CERTIFICATE-----")`);
    }
    sources.push(source);
  });
  return sources;
}

/** The authenticator for `auth`'s OpenID sources, or undefined when it configures none. */
export function createOidcTokenAuthenticator(auth: AuthConfig | undefined, log: Logger, options: OidcTokenOptions = {}): OidcTokenAuthenticator | undefined {
  const sources = oidcTokenSources(auth);
  if (sources.length === 0) return undefined;
  const authenticator = new OidcTokenAuthenticator(sources, log, options);
  authenticator.start();
  return authenticator;
}

export class OidcTokenAuthenticator implements TokenAuthenticator {
  readonly method = 'oidc';
  private readonly keys = new Map<OidcTokenSource, OpenIdIssuer>();
  private readonly verified: VerifiedTokens<{ principal: TokenPrincipal; issuer: string }>;
  private readonly now: () => number;

  constructor(
    private readonly sources: OidcTokenSource[],
    private readonly log: Logger,
    options: OidcTokenOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.verified = new VerifiedTokens(this.now, CLOCK_TOLERANCE_S * 1000, (hit) => new TokenInvalid(`ERR_JWT_EXPIRED: the token from ${hit.issuer} has expired`));
    const issuers = options.issuers ?? new OpenIdIssuers(log, { retryMs: options.retryMs, cooldownMs: options.cooldownMs });
    for (const source of sources) {
      // One key set per issuer (and CA): a provider and a bearer.oidc entry on the same Keycloak share it.
      this.keys.set(source, issuers.get(source.issuer, { ca: source.ca, skipIssuerVerification: source.skipIssuerVerification }));
      if (source.skipIssuerVerification) log.warn('OpenID issuer verification is skipped: use only for tests', { source: source.name, issuer: source.issuer });
      const url = new URL(source.issuer);
      if (url.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
        log.warn('OpenID issuer over plain HTTP: its signing keys can be replaced in transit', { source: source.name, issuer: source.issuer });
      }
    }
  }

  /** Starts discovery of every issuer in the background (failures are logged and retried lazily). */
  start(): void {
    for (const issuer of new Set(this.keys.values())) issuer.start();
  }

  private keysFor(source: OidcTokenSource): OpenIdIssuer {
    return this.keys.get(source)!;
  }

  async verify(token: string): Promise<TokenPrincipal | undefined> {
    // A token seen before costs a map lookup: no decoding, no signature (a push sends it on every request).
    const hit = this.verified.get(token);
    if (hit) return hit.principal;
    const iss = unverifiedIssuer(token);
    if (typeof iss !== 'string') return undefined;
    const issuer = trimSlash(iss);
    const candidates = this.sources.filter((s) => trimSlash(s.issuer) === issuer);
    if (candidates.length === 0) return undefined;

    const reasons: string[] = [];
    for (const source of candidates) {
      const result = await this.verifyWith(source, token);
      if ('reason' in result) {
        reasons.push(candidates.length > 1 ? `${source.name}: ${result.reason}` : result.reason);
        continue;
      }
      this.verified.remember(token, { principal: result.principal, issuer }, result.expMs);
      return result.principal;
    }
    throw new TokenInvalid(reasons.join('; '));
  }

  private async verifyWith(source: OidcTokenSource, token: string): Promise<{ principal: TokenPrincipal; expMs: number } | { reason: string }> {
    const keys = this.keysFor(source);
    let payload: JWTPayload;
    try {
      const getKey = await keys.getKey();
      const expected = await keys.expectedIssuer();
      const issuers = source.skipIssuerVerification ? [expected, source.issuer] : [expected];
      const verified = await jwtVerify(token, getKey, {
        algorithms: ALGORITHMS,
        issuer: issuers,
        audience: source.audiences,
        currentDate: new Date(this.now()),
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp', 'iat'],
      });
      const typ = verified.protectedHeader.typ;
      if (typ !== undefined && !ACCEPTED_TYP.has(typ.toLowerCase())) return { reason: `ERR_TYP_NOT_ACCEPTED: a ${typ} token is not an access or ID token` };
      payload = verified.payload;
    } catch (err) {
      if (err instanceof IssuerUnreachable) throw new AuthUnavailable(err.message);
      if (err instanceof errors.JOSEError) return { reason: `${err.code}: ${explain(err, source)}` };
      throw err;
    }
    let username: string;
    let groups: string[] = [];
    try {
      username = evaluateString(source.username, payload);
      if (source.groups) groups = evaluateGroups(source.groups, payload);
    } catch (err) {
      return { reason: `claim mapping of ${source.name}: ${(err as Error).message}` };
    }
    if (username === '') return { reason: `claim mapping of ${source.name}: ${source.username.text} is empty` };
    return { principal: { username, groups, method: source.method }, expMs: (payload.exp ?? 0) * 1000 };
  }
}

/** jose's message, with what was expected where that helps the operator (never the token). */
function explain(err: InstanceType<typeof errors.JOSEError>, source: OidcTokenSource): string {
  if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'aud') {
    return `the token is not for this registry (its "aud" is none of ${source.audiences.map((a) => JSON.stringify(a)).join(', ')})`;
  }
  if (err instanceof errors.JWKSNoMatchingKey) return `no key of ${source.issuer} matches the token's kid and alg (signed by another key, or a key the issuer no longer publishes)`;
  return err.message;
}
