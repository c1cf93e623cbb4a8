/**
 * What perch knows of an OpenID issuer, from its discovery document
 * (`<issuer>/.well-known/openid-configuration`, OpenID Connect Discovery 1.0 §4): its signing
 * keys (`jwks_uri`, kept by jose's createRemoteJWKSet), for bearer tokens
 * (oidc-token-authenticator.ts) and the ID tokens of UI sign-in; and its authorization, token
 * and userinfo endpoints, for UI sign-in (login-flow.ts). One OpenIdIssuer per issuer (and CA),
 * shared by both through OpenIdIssuers, so a provider used for both is discovered once.
 *
 * Decisions:
 * - Discovery is lazy and never stops the registry: start() tries once in the background and
 *   logs a warning when the issuer cannot be reached; each token asks again, at most once per
 *   RETRY_MS while it keeps failing, and meanwhile gets IssuerUnreachable (503 upstream, not 401:
 *   the token may be fine, perch just cannot check it now). zot behaves the same (it builds its
 *   verifier on the first token).
 * - The discovery document's `issuer` must equal the configured one (trailing slashes aside),
 *   as OpenID Connect Discovery 1.0 §4.3 requires, unless skipIssuerVerification is set.
 * - Rotation: a token whose `kid` is not in the cached set makes jose fetch the set again,
 *   unless it fetched it less than COOLDOWN_MS ago; then this module waits out the rest of the
 *   cooldown and asks once more, so a key the issuer started using a second ago is found rather
 *   than refused (all waiting requests share one fetch). Tokens with made-up kids therefore cost
 *   the issuer one fetch per cooldown at most.
 * - Keys already fetched keep working while the issuer is down, up to jose's cacheMaxAge
 *   (CACHE_MAX_AGE_MS); a token needing a fetch that fails is IssuerUnreachable.
 * - HTTPS to the issuer trusts the system CAs, or only the configured certificateAuthority
 *   (PEM) when one is given, through node:https (global fetch cannot take a CA per request).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey } from 'jose';
import type { Logger } from '../../log';

const RETRY_MS = 2_000;
export const ISSUER_TIMEOUT_MS = 5_000;
const COOLDOWN_MS = 5_000;
const CACHE_MAX_AGE_MS = 10 * 60_000;
const MAX_BODY_BYTES = 1024 * 1024;

/** The issuer (or its key set) cannot be fetched now; the token can be neither accepted nor refused. */
export class IssuerUnreachable extends Error {
  constructor(readonly issuer: string, readonly problem: string) {
    super(`the OpenID issuer ${issuer} cannot be reached: ${problem}; perch retries on the next request`);
    this.name = 'IssuerUnreachable';
  }
}

export interface IssuerOptions {
  /** PEM of the CA(s) to trust for the issuer's HTTPS instead of the system's. */
  ca?: string;
  /** Accept a discovery document whose issuer differs from the configured one (zot: skipIssuerVerification). */
  skipIssuerVerification?: boolean;
  /** Test hooks. */
  retryMs?: number;
  cooldownMs?: number;
}

/** Where UI sign-in sends the browser and exchanges the code (present when the document names them). */
export interface ProviderEndpoints {
  /** The issuer exactly as the discovery document spells it. */
  issuer: string;
  authorization: string;
  token: string;
  userinfo?: string;
}

interface Discovered {
  issuer: string;
  jwks: ReturnType<typeof createRemoteJWKSet>;
  authorization?: string;
  token?: string;
  userinfo?: string;
}

/** A GET with a time limit and a size limit, over node:http(s) so a CA can be given. */
export function fetchWithCa(ca: string | undefined) {
  return (url: string, init?: { signal?: AbortSignal | null; headers?: ConstructorParameters<typeof Headers>[0] }): Promise<Response> =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      const requester = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const headers = Object.fromEntries(new Headers(init?.headers ?? { accept: 'application/json' }).entries());
      const req = requester(target, { method: 'GET', headers, ...(ca ? { ca } : {}), signal: init?.signal ?? AbortSignal.timeout(ISSUER_TIMEOUT_MS) }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY_BYTES) req.destroy(new Error(`${url} answered more than ${MAX_BODY_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers: h }));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err instanceof errors.JWKSTimeout || e.code === 'ABORT_ERR' || (err as Error).name === 'TimeoutError') return `no answer within ${ISSUER_TIMEOUT_MS / 1000} s`;
  const code = e.code ?? e.cause?.code;
  const message = e.message ?? e.cause?.message ?? String(err);
  if (!code || code === 'ERR_JOSE_GENERIC' || !/^[A-Z][A-Z0-9_]+$/.test(code)) return message;
  // Node's own hint for these (--use-system-ca) does not apply to perch; say what does.
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    return `${code}: its TLS certificate is not trusted; give the CA that signed it as certificateAuthority or certificateAuthorityFile (bearer.oidc), or in NODE_EXTRA_CA_CERTS`;
  }
  return message.includes(code) ? message : `${code} (${message})`;
}

const trimSlash = (s: string) => s.replace(/\/+$/, '');

export class OpenIdIssuer {
  private discovered: Discovered | undefined;
  private pending: Promise<Discovered> | undefined;
  private failedAt = -Infinity;
  private lastProblem = '';
  private keysWarnedAt = -Infinity;
  private readonly fetchImpl: ReturnType<typeof fetchWithCa>;
  private readonly retryMs: number;
  private readonly cooldownMs: number;

  constructor(
    readonly issuer: string,
    private readonly log: Logger,
    private readonly options: IssuerOptions = {},
  ) {
    this.fetchImpl = fetchWithCa(options.ca);
    this.retryMs = options.retryMs ?? RETRY_MS;
    this.cooldownMs = options.cooldownMs ?? COOLDOWN_MS;
  }

  /** Tries discovery in the background; a failure is logged and retried on the first token. */
  start(): void {
    this.discover().catch(() => {});
  }

  /** The issuer exactly as its discovery document spells it (jose checks tokens' `iss` against it). */
  async expectedIssuer(): Promise<string> {
    return (await this.discover()).issuer;
  }

  /**
   * The sign-in endpoints; IssuerUnreachable when the issuer cannot be reached or its document
   * names no authorization_endpoint and token_endpoint (an issuer of workload tokens only).
   */
  async endpoints(): Promise<ProviderEndpoints> {
    const d = await this.discover();
    if (!d.authorization || !d.token) throw new IssuerUnreachable(this.issuer, 'its discovery document names no authorization_endpoint or token_endpoint, so browsers cannot sign in with it');
    return { issuer: d.issuer, authorization: d.authorization, token: d.token, ...(d.userinfo ? { userinfo: d.userinfo } : {}) };
  }

  /** The key resolver for jwtVerify; throws IssuerUnreachable when the keys cannot be had. */
  async getKey(): Promise<JWTVerifyGetKey> {
    const { jwks } = await this.discover();
    return async (header, token) => {
      try {
        return await jwks(header, token);
      } catch (err) {
        if (err instanceof errors.JWKSNoMatchingKey && jwks.coolingDown) {
          // The set was fetched moments ago; the issuer may have just rotated. Wait out the cooldown and look once more.
          await this.waitForCooldown(jwks);
          try {
            return await jwks(header, token);
          } catch (again) {
            throw this.translate(again);
          }
        }
        throw this.translate(err);
      }
    };
  }

  private async waitForCooldown(jwks: Discovered['jwks']): Promise<void> {
    const until = Date.now() + this.cooldownMs;
    while (jwks.coolingDown && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  }

  /** Failures to fetch the key set become IssuerUnreachable; a key that is simply not there stays jose's error. */
  private translate(err: unknown): unknown {
    if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return err;
    if (err instanceof errors.JOSEError && !(err instanceof errors.JWKSTimeout) && !(err instanceof errors.JWKSInvalid) && err.code !== 'ERR_JOSE_GENERIC') return err;
    const problem = `its key set: ${describe(err)}`;
    // At most one warning per retry period, however many requests hit the outage.
    if (Date.now() - this.keysWarnedAt >= this.retryMs) {
      this.keysWarnedAt = Date.now();
      this.log.warn('OpenID issuer keys cannot be fetched', { issuer: this.issuer, problem });
    }
    return new IssuerUnreachable(this.issuer, problem);
  }

  private discover(): Promise<Discovered> {
    if (this.discovered) return Promise.resolve(this.discovered);
    if (this.pending) return this.pending;
    if (Date.now() - this.failedAt < this.retryMs) return Promise.reject(new IssuerUnreachable(this.issuer, this.lastProblem));
    const attempt = this.fetchDiscovery()
      .then((d) => {
        if (this.failedAt !== -Infinity) this.log.info('OpenID issuer reachable again', { issuer: this.issuer });
        this.discovered = d;
        this.failedAt = -Infinity;
        return d;
      })
      .catch((err: unknown) => {
        const problem = err instanceof DiscoveryError ? err.message : describe(err);
        // One warning per failing streak, not one per request.
        if (this.failedAt === -Infinity || problem !== this.lastProblem) this.log.warn('OpenID issuer discovery failed', { issuer: this.issuer, problem, retry: 'on the next token' });
        this.failedAt = Date.now();
        this.lastProblem = problem;
        throw new IssuerUnreachable(this.issuer, problem);
      })
      .finally(() => {
        this.pending = undefined;
      });
    this.pending = attempt;
    return attempt;
  }

  private async fetchDiscovery(): Promise<Discovered> {
    const url = `${trimSlash(this.issuer)}/.well-known/openid-configuration`;
    const res = await this.fetchImpl(url);
    if (res.status !== 200) throw new DiscoveryError(`${url} answered HTTP ${res.status}`);
    let doc: Record<string, unknown>;
    try {
      doc = (await res.json()) as typeof doc;
    } catch {
      throw new DiscoveryError(`${url} did not answer JSON`);
    }
    if (typeof doc.issuer !== 'string' || typeof doc.jwks_uri !== 'string') throw new DiscoveryError(`${url} has no issuer or jwks_uri`);
    if (trimSlash(doc.issuer) !== trimSlash(this.issuer) && !this.options.skipIssuerVerification) {
      throw new DiscoveryError(`${url} names the issuer ${JSON.stringify(doc.issuer)}, not ${JSON.stringify(this.issuer)}; configure the issuer exactly as the provider spells it`);
    }
    const jwks = createRemoteJWKSet(new URL(doc.jwks_uri), {
      timeoutDuration: ISSUER_TIMEOUT_MS,
      cooldownDuration: this.cooldownMs,
      cacheMaxAge: CACHE_MAX_AGE_MS,
      [customFetch]: this.fetchImpl,
    });
    // Fetch the keys now, so a broken jwks_uri shows at start rather than at the first push.
    await jwks.reload();
    this.log.info('OpenID issuer discovered', { issuer: this.issuer, jwks_uri: doc.jwks_uri, keys: jwks.jwks()?.keys.length ?? 0 });
    const found: Discovered = { issuer: doc.issuer, jwks };
    const endpoint = (key: string) => (typeof doc[key] === 'string' ? (doc[key] as string) : undefined);
    found.authorization = endpoint('authorization_endpoint');
    found.token = endpoint('token_endpoint');
    found.userinfo = endpoint('userinfo_endpoint');
    return found;
  }
}

/** The issuers perch talks to, one OpenIdIssuer per issuer URL and CA. */
export class OpenIdIssuers {
  private readonly issuers = new Map<string, OpenIdIssuer>();

  constructor(
    private readonly log: Logger,
    private readonly options: Pick<IssuerOptions, 'retryMs' | 'cooldownMs'> = {},
  ) {}

  get(issuer: string, options: Pick<IssuerOptions, 'ca' | 'skipIssuerVerification'> = {}): OpenIdIssuer {
    const id = `${trimSlash(issuer)}\0${options.ca ?? ''}\0${options.skipIssuerVerification ? 'skip' : ''}`;
    let found = this.issuers.get(id);
    if (!found) {
      found = new OpenIdIssuer(issuer, this.log, { ...this.options, ...options });
      this.issuers.set(id, found);
    }
    return found;
  }
}

class DiscoveryError extends Error {}
