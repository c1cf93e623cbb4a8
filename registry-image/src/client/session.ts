/**
 * One registry, its credentials, and the requests sent to it: how the client library answers
 * a registry's request for credentials, as docker and oras do:
 *
 *   no challenge yet   -> send without credentials (anonymous reads work without a round trip)
 *   401 Basic          -> send `Authorization: Basic` on every request from then on
 *   401 Bearer realm,service
 *                      -> GET realm?service=S&scope=repository:R:pull[,push|delete] with Basic
 *                         credentials (anonymously without them); send the `token` (or
 *                         `access_token`) it returns; one token per scope, reused
 *   a later 401        -> learn the new challenge (another scope, an expired token), retry once
 *   { token } given    -> `Authorization: Bearer <token>` on every request, no token service
 *
 * `perch seed` logs in through this same class (ping, then login, then send); only the words
 * its messages use for the fix differ (SessionWording: option names vs command-line flags).
 *
 * Credentials go only to the registry's own origin and its token realm, never to another
 * origin a redirect or an upload Location points at, and never in clear text to a host that
 * is not loopback unless `insecure` says so. No message includes them.
 */
import type { Readable } from 'node:stream';
import { parseChallenges, preferredChallenge } from './auth-challenge';
import { RegistryError } from './errors';
import { ConnectionError, type HttpRequest, type HttpResponse, type Transport } from './http-transport';
import { describeResponse, ociErrors } from './oci-errors';
import { isLoopback, type RegistryEndpoint } from './registry-endpoint';

export type Credentials = { username: string; password: string } | { token: string };

/** What a request needs the right to do: a repository action, or the catalog. */
export type Scope = { repository: string; actions: 'pull' | 'pull,push' | 'delete' } | 'catalog';

export interface SessionRequest extends Omit<HttpRequest, 'timeoutMs' | 'body'> {
  body?: Buffer | (() => Readable);
  /** For messages: "push of blob sha256:… to team/tools". */
  what: string;
}

/** How the caller's users fix things, for messages: the library's options or a command's flags. */
export interface SessionWording {
  /** How to give credentials, after "requires credentials (...): ". */
  credentials: string;
  /** Where to correct a password, after "Check the username and password"; none for the library. */
  recheck?: string;
  /** The switch that allows plain HTTP off-host and skips TLS verification: "{ insecure: true }", "--insecure". */
  insecure: string;
  /** The fix for a certificate that does not verify, after its reason. */
  untrustedCertificate: string;
  /** The fix for https:// to a plain-HTTP registry, given the http:// address. */
  plainHttp(address: string): string;
  /** What to check when the registry stops answering, after the reason. */
  unreachable: string;
}

export const CLIENT_WORDING: SessionWording = {
  credentials: 'pass { username, password } or { token } to new RegistryClient()',
  insecure: '{ insecure: true }',
  untrustedCertificate: "pass the CA certificate that signed it as { ca: fs.readFileSync('ca.pem') }, or { insecure: true } to skip verification",
  plainHttp: (address) => `use ${address}`,
  unreachable: 'check the address and that the registry is running',
};

type AuthState = { kind: 'anonymous' } | { kind: 'basic' } | { kind: 'bearer'; realm: string; service?: string };

/** Node's codes for a certificate that does not verify (OpenSSL's X509_V_ERR_* names, and the host name check). */
const TLS_VERIFY_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class Session {
  private auth: AuthState = { kind: 'anonymous' };
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly endpoint: RegistryEndpoint,
    private readonly credentials: Credentials | undefined,
    private readonly transport: Transport,
    private readonly timeoutMs: number,
    private readonly wording: SessionWording = CLIENT_WORDING,
  ) {}

  get origin(): string {
    return this.endpoint.origin;
  }

  /**
   * Sends a request for something in the registry, with credentials; a 401 is answered once
   * (a stream body is opened again for the retry). Follows redirects for GET and HEAD, without
   * credentials to another origin. Returns every other answer; callers judge the status.
   */
  async send(request: SessionRequest, scope: Scope): Promise<HttpResponse> {
    // An upload Location on another origin (a storage service) gets no credentials: they are the registry's.
    const own = new URL(request.url).origin === this.origin;
    for (let attempt = 0; ; attempt++) {
      const authorization = own ? await this.authorization(scope) : undefined;
      const headers = { ...request.headers, ...(authorization ? { Authorization: authorization } : {}) };
      const body = typeof request.body === 'function' ? request.body() : request.body;
      let response = await this.request({ method: request.method, url: request.url, headers, body, stream: request.stream }, request.what);
      if ((request.method === 'GET' || request.method === 'HEAD') && REDIRECTS.has(response.status)) {
        response = await this.follow(request, response, headers);
      }
      if (response.status !== 401 || !own) return response;
      response.stream?.destroy();
      if (attempt > 0 || 'token' in (this.credentials ?? {})) throw this.rejected(request.what, response);
      const before = this.auth.kind;
      this.learnChallenge(response, request.what);
      if (!this.credentials && this.auth.kind === 'basic') throw this.missingCredentials(request.what);
      if (this.auth.kind === 'basic' && before === 'basic') throw this.rejected(request.what, response);
    }
  }

  /**
   * GET /v2/ without credentials, learning from a 401 how the registry wants them. Returns the
   * answer; a connection failure throws 'unreachable' (worth retrying) or 'tls' (not).
   */
  async ping(timeoutMs = this.timeoutMs): Promise<HttpResponse> {
    const response = await this.request({ method: 'GET', url: `${this.origin}/v2/` }, 'GET /v2/', timeoutMs);
    if (response.status === 401) this.learnChallenge(response, 'GET /v2/');
    return response;
  }

  /**
   * After a ping, checks the credentials once (Basic: GET /v2/ with them; Bearer: a token with
   * no scope, as `docker login` does), so a wrong password stops a push before it starts. A
   * registry that challenged needs credentials: without them this throws 'unauthorized'.
   */
  async login(): Promise<void> {
    if (this.auth.kind === 'anonymous') return;
    const what = 'GET /v2/';
    if (!this.credentials) throw this.missingCredentials(what);
    if (this.auth.kind === 'bearer' && 'username' in this.credentials) {
      await this.fetchToken(undefined);
      return;
    }
    const authorization = 'token' in this.credentials ? `Bearer ${this.credentials.token}` : basic(this.credentials);
    const response = await this.request({ method: 'GET', url: `${this.origin}/v2/`, headers: { Authorization: authorization } }, what);
    if (response.status === 401) throw this.rejected(what, response);
    if (response.status !== 200) {
      throw new RegistryError('protocol', `${this.origin}: GET /v2/ with credentials answered ${describeResponse(response)}`, { status: response.status, ociErrors: ociErrors(response) });
    }
  }

  /** An upload Location or redirect target: relative to the registry, and never plain HTTP off-host without `insecure`. */
  resolve(location: string, what: string): URL {
    const target = new URL(location, `${this.origin}/`);
    if (target.protocol === 'http:' && !isLoopback(target.hostname) && !this.endpoint.insecure) {
      throw new RegistryError('protocol', `${this.origin} sent the ${what} to ${target.origin}, plain HTTP to a host that is not loopback; pass ${this.wording.insecure} to allow it`);
    }
    return target;
  }

  /** Credentials only for the registry's own origin. */
  isOwnOrigin(url: URL): boolean {
    return url.origin === this.origin;
  }

  private async follow(request: SessionRequest, first: HttpResponse, ownHeaders: Record<string, string>): Promise<HttpResponse> {
    let response = first;
    for (let hop = 0; hop < 5 && REDIRECTS.has(response.status); hop++) {
      const location = response.headers.location;
      if (!location) return response;
      response.stream?.destroy();
      const target = this.resolve(location, `redirect of the ${request.what}`);
      const headers = this.isOwnOrigin(target) ? ownHeaders : { ...request.headers };
      response = await this.request({ method: request.method, url: target.href, headers, stream: request.stream }, request.what);
    }
    return response;
  }

  private async request(request: Omit<HttpRequest, 'timeoutMs'>, what: string, timeoutMs = this.timeoutMs): Promise<HttpResponse> {
    try {
      return await this.transport({ ...request, timeoutMs });
    } catch (err) {
      if (!(err instanceof ConnectionError)) throw err;
      if (err.code && TLS_VERIFY_CODES.test(err.code)) {
        throw new RegistryError(
          'tls',
          // Node appends its own advice after ";" (--use-system-ca); ours follows instead.
          `the registry at ${this.origin} has a TLS certificate this machine does not trust (${err.reason.split(';')[0]}): ${this.wording.untrustedCertificate}`,
          { cause: err },
        );
      }
      if (err.code === 'EPROTO' && this.endpoint.scheme === 'https') {
        const why = /wrong version number|packet length too long|unknown protocol/.exec(err.reason)?.[0] ?? err.reason.split('\n')[0];
        throw new RegistryError('tls', `the registry at ${this.origin} does not answer in TLS (${why}); if it serves plain HTTP, ${this.wording.plainHttp(`http://${this.endpoint.host}`)}`, { cause: err });
      }
      throw new RegistryError(
        'unreachable',
        `cannot reach the registry at ${this.origin} (${what}: ${err.reason}); ${this.wording.unreachable}`,
        { cause: err },
      );
    }
  }

  // --- authentication -------------------------------------------------------------------

  private learnChallenge(response: HttpResponse, what: string): void {
    const challenge = preferredChallenge(parseChallenges(response.headers['www-authenticate']));
    if (!challenge) {
      throw new RegistryError('protocol', `${this.origin}: ${what} answered 401 without a Basic or Bearer challenge (WWW-Authenticate), so there is no way to log in`, {
        status: 401,
        ociErrors: ociErrors(response),
      });
    }
    if (challenge.scheme === 'basic') {
      this.auth = { kind: 'basic' };
      return;
    }
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError('protocol', `${this.origin}: the Bearer challenge names no realm (token service)`, { status: 401 });
    this.auth = { kind: 'bearer', realm, service: challenge.params.service };
    this.tokens.clear();
  }

  private async authorization(scope: Scope): Promise<string | undefined> {
    if (this.credentials && 'token' in this.credentials) return `Bearer ${this.credentials.token}`;
    switch (this.auth.kind) {
      case 'anonymous':
        return undefined;
      case 'basic':
        return this.credentials ? basic(this.credentials) : undefined;
      case 'bearer':
        return `Bearer ${await this.fetchToken(scope)}`;
    }
  }

  /** A token for `scope`; none (undefined) asks for a token with no scope, which only checks the credentials. */
  private async fetchToken(scope: Scope | undefined): Promise<string> {
    if (this.auth.kind !== 'bearer') throw new Error('fetchToken without a Bearer challenge');
    const scopeText = scope === undefined ? '' : scope === 'catalog' ? 'registry:catalog:*' : `repository:${scope.repository}:${scope.actions}`;
    const cached = this.tokens.get(scopeText);
    if (cached) return cached;
    let realm: URL;
    try {
      realm = new URL(this.auth.realm);
    } catch {
      throw new RegistryError('protocol', `${this.origin}: the Bearer challenge's realm ${JSON.stringify(this.auth.realm)} is not a URL`);
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw new RegistryError('protocol', `the token realm ${realm.href} is neither http nor https`);
    if (realm.protocol === 'http:' && !isLoopback(realm.hostname) && !this.endpoint.insecure) {
      throw new RegistryError('protocol', `the registry's token service ${realm.origin} is plain HTTP to a host that is not loopback; credentials would travel unencrypted. Pass ${this.wording.insecure} to allow it`);
    }
    if (this.auth.service) realm.searchParams.set('service', this.auth.service);
    if (scopeText) realm.searchParams.append('scope', scopeText);
    const headers: Record<string, string> = {};
    if (this.credentials && 'username' in this.credentials) headers.Authorization = basic(this.credentials);
    const what = `token request to ${realm.origin}${realm.pathname}`;
    const response = await this.request({ method: 'GET', url: realm.href, headers }, what);
    if (response.status === 401 || response.status === 403) {
      if (!this.credentials) throw this.missingCredentials(what);
      throw this.rejected(what, response);
    }
    if (response.status !== 200) {
      throw new RegistryError('refused', `the registry's token service refused the ${what}: ${describeResponse(response)}`, { status: response.status, ociErrors: ociErrors(response) });
    }
    let token: unknown;
    try {
      const body = JSON.parse(response.body.toString('utf8')) as { token?: unknown; access_token?: unknown };
      token = body.token ?? body.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token === '') throw new RegistryError('protocol', `the ${what} answered 200 without a token`);
    this.tokens.set(scopeText, token);
    return token;
  }

  private missingCredentials(what: string): RegistryError {
    return new RegistryError(
      'unauthorized',
      `the registry at ${this.origin} requires credentials (${what} answered 401): ${this.wording.credentials}`,
      { status: 401 },
    );
  }

  private rejected(what: string, response: HttpResponse): RegistryError {
    const details = { status: response.status, ociErrors: ociErrors(response) };
    if (!this.credentials) return this.missingCredentials(what);
    if ('token' in this.credentials) {
      return new RegistryError('unauthorized', `authentication failed: the registry at ${this.origin} did not accept the token (${what}: ${describeResponse(response)}). Check that the token is current and meant for this registry`, details);
    }
    return new RegistryError(
      'unauthorized',
      `authentication failed: the registry at ${this.origin} did not accept the password of user "${this.credentials.username}" (${what}: ${describeResponse(response)}). Check the username and password${this.wording.recheck ? `: ${this.wording.recheck}` : ''}`,
      details,
    );
  }

  /** The user the messages name ("anonymous" without credentials). */
  get who(): string {
    if (!this.credentials) return 'anonymous';
    return 'username' in this.credentials ? `user "${this.credentials.username}"` : 'the token';
  }
}

function basic(credentials: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}
