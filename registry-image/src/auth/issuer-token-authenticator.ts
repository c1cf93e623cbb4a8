/**
 * zot's http.auth.bearer with `cert`: Bearer tokens signed by a separate token service (the
 * Docker token protocol: clients are sent to bearer.realm with service=bearer.service, fetch a
 * JWT there, and present it here). This registry only checks them; the token's `access` claim
 * is what the caller may do, and its `sub` is the user name.
 *
 * The issuer's key is the file bearer.cert, in any form zot takes: a PEM certificate, a PEM
 * public key (SPKI or PKCS#1 RSA), or a JWKS holding exactly one key. It is polled like the
 * htpasswd file (polled-file.ts), so a rotated key in a Secret is used within a poll: tokens of
 * the old key are then refused and clients fetch new ones. A file that turns bad keeps the key
 * loaded before in use, logs why, and makes /readyz say so until it is fixed. A private key in
 * the file is refused: the registry must never hold what can sign its tokens.
 *
 * Checks, and where they differ from zot (pkg/api/bearer.go):
 * - algorithm pinned to the key's type (RSA: RS*, PS*; EC P-256/384/521: ES256/384/512;
 *   Ed25519: EdDSA), so `alg: none` and HMAC-with-the-public-key confusion fail (zot: the same,
 *   through golang-jwt's key-type check);
 * - exp required (zot accepts a token without exp, which then never ends; distribution and the
 *   Docker token specification require it), nbf and iat checked, with 10 s of leeway for
 *   clocks (zot: none);
 * - aud must name bearer.service when that is set (distribution checks it; zot does not): a
 *   token the same issuer made for another registry must not open this one;
 * - iss is not checked (zot does not either): the key is what identifies the issuer;
 * - a perch refresh token (header typ "refresh+jwt") is refused: it is a login, not access;
 * - `access` entries with their own `exp` (zot's extension) count only until then.
 *
 * Chain order (authenticator.ts): every token reaching this method is taken as the issuer's,
 * so it comes after the methods that can tell their own tokens apart (perch's own, OIDC
 * issuers), and it answers TokenInvalid (401 invalid_token), never undefined.
 *
 * A verified token is remembered (verified-tokens.ts) until it expires, so the signature of a token
 * sent on every request of a push is checked once; a new key forgets them all.
 */
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { BearerConfig } from '../config/auth-types';
import type { Logger } from '../log';
import { AuthUnavailable, type TokenAuthenticator, type TokenPrincipal } from './authenticator';
import { PolledFile } from './polled-file';
import type { Grant } from './scope';
import { isGrantList, TokenInvalid } from './tokens';
import { VerifiedTokens } from './verified-tokens';

const CLOCK_TOLERANCE_S = 10;
const REFRESH_TYP = 'refresh+jwt';

export interface IssuerKey {
  key: KeyObject;
  algorithms: string[];
  /** For the log: "EC P-256 public key from a certificate (CN=...)". */
  description: string;
}

const CURVE_ALG: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
const CURVE_NAME: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

function algorithmsFor(key: KeyObject, path: string): { algorithms: string[]; kind: string } {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'], kind: `RSA ${key.asymmetricKeyDetails?.modulusLength ?? ''}`.trim() };
    case 'rsa-pss':
      return { algorithms: ['PS256', 'PS384', 'PS512'], kind: 'RSA-PSS' };
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
      const alg = CURVE_ALG[curve];
      if (!alg) throw new Error(`http.auth.bearer.cert ${path} holds an EC key on curve ${curve}; tokens can be checked with P-256, P-384 or P-521 keys (ES256/384/512)`);
      return { algorithms: [alg], kind: `EC ${CURVE_NAME[curve]}` };
    }
    case 'ed25519':
      return { algorithms: ['EdDSA', 'Ed25519'], kind: 'Ed25519' };
    default:
      throw new Error(`http.auth.bearer.cert ${path} holds a ${key.asymmetricKeyType} key; give the issuer's RSA, EC or Ed25519 certificate or public key`);
  }
}

/** The issuer's public key from the content of bearer.cert; throws a message naming the file and the fix. */
export function parseIssuerKey(content: Buffer, path: string): IssuerKey {
  const text = content.toString('utf8').trim();
  let key: KeyObject;
  let source: string;
  if (text.startsWith('{')) {
    let keys: unknown;
    try {
      keys = (JSON.parse(text) as { keys?: unknown }).keys;
    } catch {
      throw new Error(`http.auth.bearer.cert ${path} starts like JSON but is not; give a PEM certificate, a PEM public key or a JWKS with one key`);
    }
    if (!Array.isArray(keys) || keys.length !== 1) {
      throw new Error(`http.auth.bearer.cert ${path} is JSON but not a JWKS with exactly one key ({"keys": [ ... ]}); keep only the key the issuer signs with`);
    }
    const jwk = keys[0] as Record<string, unknown>;
    if (jwk && typeof jwk === 'object' && 'd' in jwk) throw new Error(`http.auth.bearer.cert ${path} holds a private JWK; give only its public part (drop "d" and the other private members)`);
    try {
      key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    } catch (err) {
      throw new Error(`http.auth.bearer.cert ${path}: its JWK is not a public key (${(err as Error).message})`);
    }
    source = 'a JWKS';
  } else {
    const block = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/.exec(text);
    if (!block) throw new Error(`http.auth.bearer.cert ${path} holds no PEM block; give the token issuer's certificate or public key (PEM), or a JWKS`);
    const label = block[1];
    if (label.includes('PRIVATE KEY')) {
      throw new Error(`http.auth.bearer.cert ${path} holds a private key; give only the issuer's public half (e.g. "openssl pkey -in KEY -pubout" or its certificate): the registry must not hold what signs its tokens`);
    }
    try {
      if (label === 'CERTIFICATE') {
        const cert = new X509Certificate(block[0]);
        key = cert.publicKey;
        source = `a certificate (${cert.subject.replace(/\n/g, ', ')})`;
      } else if (label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY') {
        key = createPublicKey(block[0]);
        source = 'a PEM public key';
      } else {
        throw new Error(`a PEM ${label} is neither a certificate nor a public key`);
      }
    } catch (err) {
      throw new Error(`http.auth.bearer.cert ${path}: ${(err as Error).message}; give the issuer's certificate or public key`);
    }
  }
  const { algorithms, kind } = algorithmsFor(key, path);
  return { key, algorithms, description: `${kind} public key from ${source}` };
}

interface Verified {
  sub: string;
  access: Array<Grant & { exp?: unknown }>;
  expMs: number;
}

/** A claim from the token, shortened for a log line (it is the caller's text, not a secret). */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? 'nothing';
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export interface IssuerTokenOptions {
  pollIntervalMs: number;
  now?: () => number;
}

export class IssuerTokenAuthenticator implements TokenAuthenticator {
  readonly method = 'bearer';
  private current: IssuerKey | undefined;
  private problem: string | undefined = 'the issuer key has not been read yet';
  private readonly file: PolledFile;
  private readonly verified: VerifiedTokens<Verified>;
  private readonly now: () => number;
  private readonly audience: string | undefined;

  constructor(
    config: BearerConfig,
    private readonly log: Logger,
    options: IssuerTokenOptions,
  ) {
    if (!config.cert) throw new Error('http.auth.bearer.cert is not set: there is no issuer key to check tokens with');
    this.now = options.now ?? Date.now;
    this.verified = new VerifiedTokens(this.now, CLOCK_TOLERANCE_S * 1000, () => new TokenInvalid('expired'));
    this.audience = config.service === '' ? undefined : config.service;
    const path = config.cert;
    this.file = new PolledFile(path, options.pollIntervalMs, {
      onContent: (content) => {
        try {
          const key = parseIssuerKey(content, path);
          this.current = key;
          this.problem = undefined;
          this.verified.clear();
          this.log.info('bearer issuer key loaded', { path, key: key.description, algorithms: key.algorithms });
        } catch (err) {
          this.problem = (err as Error).message;
          this.log.error('bearer issuer key refused', { path, problem: this.problem, ...(this.current ? { keeping: 'the key loaded before' } : {}) });
        }
      },
      onError: (error) => {
        this.problem = `http.auth.bearer.cert ${path} cannot be read (${error.code ?? error.message}); mount the issuer's certificate there`;
        this.log.error('bearer issuer key unavailable', { path, problem: this.problem, ...(this.current ? { keeping: 'the key loaded before' } : {}) });
      },
    });
  }

  /** Reads the key, then polls it. Throws (the registry should not start) when the first read gives no key, as zot does. */
  async start(): Promise<void> {
    await this.file.check();
    if (!this.current) throw new Error(this.problem ?? `http.auth.bearer.cert ${this.file.path} gives no key`);
    this.file.start();
  }

  readiness(): { ok: boolean; reason?: string } {
    return this.problem ? { ok: false, reason: this.problem } : { ok: true };
  }

  close(): void {
    this.file.stop();
  }

  async verify(token: string): Promise<TokenPrincipal> {
    const key = this.current;
    if (!key) throw new AuthUnavailable(`tokens from the issuer cannot be checked: ${this.problem ?? 'no key'}`);
    let verified = this.verified.get(token);
    if (!verified) {
      verified = await this.check(token, key);
      if (this.current === key) this.verified.remember(token, verified, verified.expMs);
    }
    const nowS = this.now() / 1000;
    // zot's per-entry exp: an entry counts only until its own expiry.
    const access = verified.access
      .filter((g) => typeof g.exp !== 'number' || g.exp > nowS)
      .map((g) => ({ type: g.type, name: g.name, actions: [...g.actions] }));
    // As in zot, the issuer's grants decide alone: it applied its own policy when it issued them.
    return { username: verified.sub === '' ? null : verified.sub, groups: [], method: this.method, access, grantsDecide: true };
  }

  private async check(token: string, key: IssuerKey): Promise<Verified> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key.key, {
        algorithms: key.algorithms,
        currentDate: new Date(this.now()),
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp'],
        ...(this.audience !== undefined ? { audience: this.audience } : {}),
      }));
    } catch (err) {
      throw new TokenInvalid(this.reason(token, err as { code?: string; claim?: string; reason?: string; payload?: JWTPayload }, key));
    }
    if (typeof payload.iat === 'number' && payload.iat > this.now() / 1000 + CLOCK_TOLERANCE_S) throw new TokenInvalid('issued in the future (iat); check the issuer\'s clock');
    if (decodeProtectedHeader(token).typ === REFRESH_TYP) throw new TokenInvalid('a refresh token is not an access token');
    const access = payload.access ?? [];
    if (!isGrantList(access)) throw new TokenInvalid('its access claim is not a list of {type, name, actions}');
    return { sub: typeof payload.sub === 'string' ? payload.sub : '', access, expMs: (payload.exp ?? 0) * 1000 };
  }

  private reason(token: string, err: { code?: string; claim?: string; reason?: string; payload?: JWTPayload }, key: IssuerKey): string {
    switch (err.code) {
      case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
        return 'its signature does not verify with the issuer key (http.auth.bearer.cert): signed by another key, or the key was rotated';
      case 'ERR_JOSE_ALG_NOT_ALLOWED': {
        let alg: unknown;
        try {
          alg = decodeProtectedHeader(token).alg;
        } catch {
          alg = undefined;
        }
        return `signed with ${shown(alg)}, but the issuer key (${key.description}) verifies only ${key.algorithms.join(', ')}`;
      }
      case 'ERR_JWT_EXPIRED':
        return 'expired';
      case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
        if (err.claim === 'aud') return `it is for audience ${shown(err.payload?.aud)}, not this registry's service ${JSON.stringify(this.audience)} (http.auth.bearer.service)`;
        if (err.claim === 'nbf') return 'not valid yet (nbf)';
        if (err.claim === 'exp' && err.reason === 'missing') return 'it has no expiry (exp)';
        return `its ${err.claim ?? 'claims'} claim is ${err.reason === 'missing' ? 'missing' : 'invalid'}`;
      default:
        return 'not a signed JWT';
    }
  }
}
