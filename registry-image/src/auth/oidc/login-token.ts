/**
 * The callback's two questions to the provider: exchange the code for tokens (RFC 6749 §4.1.3,
 * with the PKCE verifier, RFC 7636 §4.5), then check the ID token (OpenID Connect Core 1.0
 * §3.1.3.7): signed by a key of the issuer's JWKS with an asymmetric algorithm, iss = the
 * issuer, aud containing the client id (azp = the client id when there are several), exp in
 * the future, nonce = the one this sign-in sent.
 *
 * The client authenticates with client_secret_basic (RFC 6749 §2.3.1: id and secret
 * form-urlencoded, then Basic) when a clientSecret is configured; a public client sends its
 * client_id in the body and relies on PKCE alone.
 *
 * The user name and groups come from provider.claimMapping (plain claim names; default "email"
 * and "groups"), read from the ID token, or from the userinfo endpoint when the ID token lacks
 * the user name claim (providers that put email only there).
 */
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { OpenIdProviderConfig } from '../../config/auth-types';
import type { ProviderEndpoints } from './issuer-discovery';

/** The token and userinfo requests' time limit. */
const PROVIDER_TIMEOUT_MS = 10_000;

/** Something the provider answered that perch cannot accept; `message` is for the user's page and the log (no secrets). */
export class SignInRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignInRefused';
  }
}

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

export interface Exchanged {
  idToken: string;
  accessToken?: string;
}

export async function exchangeCode(provider: OpenIdProviderConfig, endpoints: ProviderEndpoints, code: string, redirectUri: string, verifier: string): Promise<Exchanged> {
  const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (provider.clientSecret !== undefined) {
    const pair = `${encodeURIComponent(provider.clientId)}:${encodeURIComponent(provider.clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  } else {
    form.set('client_id', provider.clientId);
  }
  let res: Response;
  try {
    res = await fetch(endpoints.token, { method: 'POST', headers, body: form.toString(), signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new SignInRefused(`the provider's token endpoint cannot be reached: ${cause ?? (err as Error).message}`);
  }
  const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (res.status !== 200 || !body) {
    // RFC 6749 §5.2: error and error_description are meant to be shown; nothing secret in them.
    const error = typeof body?.error === 'string' ? body.error.slice(0, 100) : `HTTP ${res.status}`;
    const description = typeof body?.error_description === 'string' ? `: ${body.error_description.slice(0, 300)}` : '';
    const hint = error === 'invalid_client' || error === 'unauthorized_client' ? ' (check the client id and secret in the provider\'s credentialsFile)' : '';
    throw new SignInRefused(`the provider refused the code exchange: ${error}${description}${hint}`);
  }
  if (typeof body.id_token !== 'string') throw new SignInRefused('the provider answered without an id_token: is "openid" among the scopes?');
  return { idToken: body.id_token, ...(typeof body.access_token === 'string' ? { accessToken: body.access_token } : {}) };
}

/** `keys`: the issuer's key resolver (issuer-discovery.ts), which looks again when the provider has just rotated. */
export async function verifyIdToken(provider: OpenIdProviderConfig, endpoints: ProviderEndpoints, keys: JWTVerifyGetKey, idToken: string, nonce: string): Promise<JWTPayload> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, keys, { issuer: endpoints.issuer, audience: provider.clientId, algorithms: ASYMMETRIC, requiredClaims: ['exp', 'iat', 'sub'] }));
  } catch (err) {
    const reason = err instanceof errors.JOSEError ? `${err.code}: ${err.message}` : (err as Error).message;
    throw new SignInRefused(`the ID token was refused (${reason})`);
  }
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== provider.clientId) {
    throw new SignInRefused('the ID token names several audiences and its azp is not this client');
  }
  if (payload.nonce !== nonce) throw new SignInRefused('the ID token\'s nonce does not match this sign-in (a replayed token?)');
  return payload;
}

/** The claims of the userinfo endpoint, when the ID token lacks what claimMapping names. */
export async function userinfo(endpoints: ProviderEndpoints, accessToken: string, sub: unknown): Promise<Record<string, unknown> | undefined> {
  if (!endpoints.userinfo) return undefined;
  const res = await fetch(endpoints.userinfo, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' }, signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS) }).catch(() => undefined);
  if (!res || res.status !== 200) return undefined;
  const claims = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  // OpenID Connect Core §5.3.2: the sub must match the ID token's, or the answer is not about this user.
  return claims && claims.sub === sub ? claims : undefined;
}

/** The user name and groups claimMapping names, from `claims`. */
export function mapClaims(provider: OpenIdProviderConfig, claims: Record<string, unknown>): { username: string | undefined; groups: string[] } {
  const user = claims[provider.claimMapping.username];
  const raw = claims[provider.claimMapping.groups];
  const groups = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string') : typeof raw === 'string' ? [raw] : [];
  return { username: typeof user === 'string' && user !== '' ? user : undefined, groups };
}
