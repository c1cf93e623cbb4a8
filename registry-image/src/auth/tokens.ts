/**
 * The JWTs perch issues and accepts (signed with jose; the key from token-key.ts).
 *
 * Access token (header typ "JWT"), in the shape of the Docker token specification:
 *   { iss: "perch", aud: <service>, sub: <user or "">, iat, nbf, exp, jti, pwv, mth, grp,
 *     access: [{ type: "repository", name, actions: ["pull", "push", "delete"] }] }
 * Refresh token (header typ "refresh+jwt", so neither can stand in for the other):
 *   { iss, aud, sub, iat, nbf, exp, jti, pwv, mth, grp }
 * `pwv` is the login's version (authenticator.ts Principal.version: for htpasswd a digest of
 * the user's entry, for an API key its id; absent for anonymous tokens and LDAP logins): a
 * changed password, a removed user or a revoked key turns every older token down within one
 * poll, not only at its expiry. `mth` names the login method ("htpasswd" when absent, as in
 * tokens from before it existed) and `grp` the groups that method reported (LDAP, OpenID), so a
 * token keeps the groups its login had until it expires.
 *
 * A verified access token is remembered (verified-tokens.ts) until it expires, so a client
 * sending the same token on every request of a push pays for the signature check once; the
 * expiry is still checked on every use, and a new key empties the memory.
 *
 * Verification pins the algorithm to the key's own (so `alg: none` and HS/ES confusion fail),
 * checks the signature, the issuer and the times with a few seconds of leeway for replicas
 * whose clocks differ. The audience is checked only when http.externalUrl fixes the service:
 * otherwise the service comes from the client's own Host header, and checking it would add
 * nothing but failures for clients that reach the registry by two names.
 */
import { hash, randomUUID, timingSafeEqual } from 'node:crypto';
import { jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { Grant } from './scope';
import type { TokenKey } from './token-key';
import { VerifiedTokens } from './verified-tokens';

export const ISSUER = 'perch';
const ACCESS_TYP = 'JWT';
const REFRESH_TYP = 'refresh+jwt';
const CLOCK_TOLERANCE_S = 10;

export interface IssuedToken {
  token: string;
  expiresIn: number;
  /** RFC 3339 */
  issuedAt: string;
}

export class TokenInvalid extends Error {
  constructor(readonly reason: string) {
    super(`token refused: ${reason}`);
    this.name = 'TokenInvalid';
  }
}

/** What a token says of the login it was issued after (authenticator.ts Principal). */
export interface LoginClaims {
  pwv?: string;
  /** The login method; "htpasswd" when the token does not say. */
  mth?: string;
  grp?: string[];
}

export interface VerifiedAccess extends LoginClaims {
  /** "" for an anonymous token */
  sub: string;
  access: Grant[];
}

export interface VerifiedRefresh extends LoginClaims {
  sub: string;
  pwv: string;
}

function loginClaims(payload: JWTPayload): LoginClaims {
  const claims: LoginClaims = {};
  if (typeof payload.pwv === 'string') claims.pwv = payload.pwv;
  if (typeof payload.mth === 'string') claims.mth = payload.mth;
  if (Array.isArray(payload.grp) && payload.grp.every((g) => typeof g === 'string')) claims.grp = payload.grp;
  return claims;
}

/** Only the claims that are set, so a token for an htpasswd user looks as it did before. */
function withLogin(payload: JWTPayload, login: LoginClaims): JWTPayload {
  const out = { ...payload };
  if (login.pwv !== undefined) out.pwv = login.pwv;
  if (login.mth !== undefined && login.mth !== 'htpasswd') out.mth = login.mth;
  if (login.grp !== undefined && login.grp.length > 0) out.grp = login.grp;
  return out;
}

/** Digest of an htpasswd entry's hash, bound into refresh tokens. */
export function passwordVersion(entry: string): string {
  return hash('sha256', `perch-refresh\0${entry}`, 'base64url').slice(0, 22);
}

/** Does `pwv` (from a token) match the user's current htpasswd hash? Compared in constant time. */
export function matchesPasswordVersion(hash: string | undefined, pwv: string | undefined): boolean {
  if (hash === undefined || pwv === undefined) return false;
  const expected = Buffer.from(passwordVersion(hash));
  const given = Buffer.from(pwv);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A token's `access` claim as the Docker token specification shapes it: [{type, name, actions}]. */
export function isGrantList(value: unknown): value is Grant[] {
  return (
    Array.isArray(value) &&
    value.every(
      (g) =>
        g !== null &&
        typeof g === 'object' &&
        typeof (g as Grant).type === 'string' &&
        typeof (g as Grant).name === 'string' &&
        Array.isArray((g as Grant).actions) &&
        (g as Grant).actions.every((a) => typeof a === 'string'),
    )
  );
}

export class TokenSigner {
  private readonly verified: VerifiedTokens<VerifiedAccess>;
  private verifiedWith: TokenKey | undefined;

  constructor(
    private readonly key: () => TokenKey | undefined,
    private readonly now: () => number,
    /** When set (http.externalUrl), tokens must be for this service. */
    private readonly fixedAudience?: string,
  ) {
    this.verified = new VerifiedTokens(now, CLOCK_TOLERANCE_S * 1000, () => new TokenInvalid('ERR_JWT_EXPIRED'));
  }

  private requireKey(): TokenKey {
    const key = this.key();
    if (!key) throw new Error('the token key is not loaded');
    return key;
  }

  private async sign(payload: JWTPayload, typ: string, sub: string, audience: string, ttlSeconds: number): Promise<IssuedToken> {
    const key = this.requireKey();
    const iat = Math.floor(this.now() / 1000);
    const token = await new SignJWT(payload)
      .setProtectedHeader({ alg: key.alg, typ })
      .setIssuer(ISSUER)
      .setAudience(audience)
      .setSubject(sub)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + ttlSeconds)
      .setJti(randomUUID())
      .sign(key.signKey);
    return { token, expiresIn: ttlSeconds, issuedAt: new Date(iat * 1000).toISOString() };
  }

  issueAccess(sub: string, audience: string, access: Grant[], ttlSeconds: number, login: LoginClaims = {}): Promise<IssuedToken> {
    return this.sign(withLogin({ access }, login), ACCESS_TYP, sub, audience, ttlSeconds);
  }

  issueRefresh(sub: string, audience: string, login: LoginClaims & { pwv: string }, ttlSeconds: number): Promise<IssuedToken> {
    return this.sign(withLogin({}, login), REFRESH_TYP, sub, audience, ttlSeconds);
  }

  private async verify(token: string, typ: string): Promise<JWTPayload> {
    const key = this.requireKey();
    try {
      const { payload } = await jwtVerify(token, key.verifyKey, {
        algorithms: [key.alg],
        issuer: ISSUER,
        typ,
        currentDate: new Date(this.now()),
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp', 'iat', 'sub'],
        ...(this.fixedAudience ? { audience: this.fixedAudience } : {}),
      });
      return payload;
    } catch (err) {
      throw new TokenInvalid((err as { code?: string }).code ?? 'malformed');
    }
  }

  async verifyAccess(token: string): Promise<VerifiedAccess> {
    const key = this.requireKey();
    if (key !== this.verifiedWith) {
      this.verified.clear();
      this.verifiedWith = key;
    }
    const hit = this.verified.get(token);
    if (hit) return hit;
    const payload = await this.verify(token, ACCESS_TYP);
    if (!isGrantList(payload.access)) throw new TokenInvalid('ERR_ACCESS_CLAIM_INVALID');
    const result: VerifiedAccess = { sub: payload.sub ?? '', access: payload.access, ...loginClaims(payload) };
    this.verified.remember(token, result, (payload.exp ?? 0) * 1000);
    return result;
  }

  async verifyRefresh(token: string): Promise<VerifiedRefresh> {
    const payload = await this.verify(token, REFRESH_TYP);
    if (typeof payload.pwv !== 'string' || !payload.sub) throw new TokenInvalid('ERR_REFRESH_CLAIMS_INVALID');
    return { ...loginClaims(payload), sub: payload.sub, pwv: payload.pwv };
  }
}
