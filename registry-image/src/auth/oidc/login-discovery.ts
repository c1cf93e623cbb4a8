/**
 * What the sign-in flow needs to know of an OpenID provider, from its discovery document
 * (`<issuer>/.well-known/openid-configuration`, OpenID Connect Discovery 1.0 §4): where to send
 * the browser (authorization_endpoint), where to exchange the code (token_endpoint), the
 * userinfo endpoint, and its signing keys (jwks_uri, kept by jose's createRemoteJWKSet, which
 * refetches when a token names a key it has not seen).
 *
 * Discovered on the first sign-in, not at start (a provider that is down must not stop the
 * registry); a failure is retried on the next sign-in after RETRY_MS. The document's issuer
 * must equal the configured one (§4.3), or tokens would be checked against the wrong iss.
 */
import { createRemoteJWKSet } from 'jose';
import type { OpenIdProviderConfig } from '../../config/auth-types';
import type { Logger } from '../../log';

const RETRY_MS = 5_000;
export const PROVIDER_TIMEOUT_MS = 10_000;

export interface ProviderEndpoints {
  issuer: string;
  authorization: string;
  token: string;
  userinfo?: string;
  jwks: ReturnType<typeof createRemoteJWKSet>;
}

/** The provider cannot be used now; the message says which and why (never a secret). */
export class ProviderUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderUnavailable';
  }
}

const trimSlash = (s: string) => s.replace(/\/+$/, '');

export class ProviderDiscovery {
  private found: ProviderEndpoints | undefined;
  private pending: Promise<ProviderEndpoints> | undefined;
  private failed: { at: number; problem: string } | undefined;

  constructor(
    readonly provider: OpenIdProviderConfig,
    private readonly log: Logger,
  ) {}

  endpoints(): Promise<ProviderEndpoints> {
    if (this.found) return Promise.resolve(this.found);
    if (this.pending) return this.pending;
    if (this.failed && Date.now() - this.failed.at < RETRY_MS) return Promise.reject(new ProviderUnavailable(this.failed.problem));
    this.pending = this.discover()
      .then((found) => {
        this.found = found;
        this.failed = undefined;
        this.log.info('OpenID provider discovered', { provider: this.provider.id, issuer: found.issuer });
        return found;
      })
      .catch((err: unknown) => {
        const problem = `the OpenID provider ${this.provider.id} (${this.provider.issuer}) cannot be reached: ${(err as Error).message}`;
        this.failed = { at: Date.now(), problem };
        this.log.warn('OpenID provider discovery failed', { provider: this.provider.id, problem });
        throw new ProviderUnavailable(problem);
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  private async discover(): Promise<ProviderEndpoints> {
    const url = `${trimSlash(this.provider.issuer)}/.well-known/openid-configuration`;
    let res: Response;
    try {
      res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new Error(`${url}: ${cause ?? (err as Error).message}`);
    }
    if (res.status !== 200) throw new Error(`${url} answered HTTP ${res.status}`);
    const doc = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    const text = (key: string) => (typeof doc?.[key] === 'string' ? (doc[key] as string) : undefined);
    const issuer = text('issuer');
    const authorization = text('authorization_endpoint');
    const token = text('token_endpoint');
    const jwksUri = text('jwks_uri');
    if (!issuer || !authorization || !token || !jwksUri) throw new Error(`${url} lacks issuer, authorization_endpoint, token_endpoint or jwks_uri`);
    if (trimSlash(issuer) !== trimSlash(this.provider.issuer)) {
      throw new Error(`${url} names the issuer ${JSON.stringify(issuer)}, not ${JSON.stringify(this.provider.issuer)}; configure the issuer exactly as the provider spells it`);
    }
    const userinfo = text('userinfo_endpoint');
    return {
      issuer,
      authorization,
      token,
      ...(userinfo ? { userinfo } : {}),
      jwks: createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: PROVIDER_TIMEOUT_MS }),
    };
  }
}
