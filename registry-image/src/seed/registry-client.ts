/**
 * The seed command's OCI client: just what pushing a chart takes (distribution spec
 * "Pushing blobs" POST-then-PUT, "Pushing manifests", HEAD checks), and the two ways a
 * registry asks for credentials, as docker does them:
 *
 *   GET /v2/  -> 200: no credentials needed (until a request says otherwise)
 *             -> 401 Basic:  send `Authorization: Basic` on every request
 *             -> 401 Bearer realm,service: GET realm?service=S&scope=repository:R:pull,push
 *                with Basic credentials; use the `token` (or `access_token`) it returns
 *   a later 401 carries a new challenge (another scope, an expired token): fetch again, once.
 *
 * Credentials go only to the registry's own origin and its token realm, and never in clear
 * text to a host that is not loopback unless --insecure says so. No message includes them.
 */
import { isLoopback, type RegistryEndpoint } from '../client/registry-endpoint';
import { ConnectionError, type HttpRequest, type HttpResponse, type Transport } from '../client/http-transport';
import { parseChallenges, preferredChallenge } from '../client/auth-challenge';
import { describeResponse, SeedError } from './errors';
import { sha256 } from './helm-artifact';

export interface Credentials {
  username: string;
  password: string;
}

export interface RegistryClientOptions {
  endpoint: RegistryEndpoint;
  credentials?: Credentials;
  transport: Transport;
  /** Per request; default 30 s. */
  requestTimeoutMs?: number;
  /** How the user sets credentials, for messages ("--username and --password-stdin, or ..."). */
  credentialHint: string;
}

type AuthState = { kind: 'anonymous' } | { kind: 'basic' } | { kind: 'bearer'; realm: string; service?: string };

export type PingResult = { ready: true } | { ready: false; reason: string };

/** Manifest types a HEAD by tag accepts: the ones a registry may hold at a chart's tag. */
const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

/** Node's codes for a certificate that does not verify (OpenSSL's X509_V_ERR_* names, and the host name check). */
const TLS_VERIFY_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

/** Statuses that mean "not ready yet" while waiting for the registry (a proxy or a starting pod). */
const TRANSIENT = new Set([429, 500, 502, 503, 504]);

export class RegistryClient {
  private auth: AuthState = { kind: 'anonymous' };
  private readonly tokens = new Map<string, string>();
  private readonly timeoutMs: number;

  constructor(private readonly options: RegistryClientOptions) {
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  private get origin(): string {
    return this.options.endpoint.origin;
  }

  /** One GET /v2/ without credentials: learns how the registry wants them. */
  async ping(timeoutMs = this.timeoutMs): Promise<PingResult> {
    let response: HttpResponse;
    try {
      response = await this.options.transport({ method: 'GET', url: `${this.origin}/v2/`, timeoutMs });
    } catch (err) {
      if (!(err instanceof ConnectionError)) throw err;
      // Waiting does not fix a certificate or a protocol mismatch: say so at once.
      if (err.code && TLS_VERIFY_CODES.test(err.code)) {
        throw new SeedError(
          'protocol',
          // Node appends its own advice after ";" (--use-system-ca); ours follows instead.
          `the registry at ${this.origin} has a TLS certificate this machine does not trust (${err.reason.split(';')[0]}): point NODE_EXTRA_CA_CERTS at the CA certificate that signed it, or pass --insecure to skip verification`,
        );
      }
      if (err.code === 'EPROTO' && this.options.endpoint.scheme === 'https') {
        // OpenSSL's message is a long internal trace; its last words are the useful part.
        const why = /wrong version number|packet length too long|unknown protocol/.exec(err.reason)?.[0] ?? err.reason.split('\n')[0];
        throw new SeedError('protocol', `the registry at ${this.origin} does not answer in TLS (${why}); if it serves plain HTTP, use --registry http://${this.options.endpoint.host}`);
      }
      return { ready: false, reason: err.reason };
    }
    if (response.status === 200) return { ready: true };
    if (response.status === 401) {
      this.learnChallenge(response, 'GET /v2/');
      return { ready: true };
    }
    if (TRANSIENT.has(response.status)) return { ready: false, reason: `GET /v2/ answered ${describeResponse(response)}` };
    throw new SeedError(
      'protocol',
      `${this.origin} does not answer as an OCI registry (GET /v2/ answered ${describeResponse(response)}); check --registry`,
    );
  }

  /** With a challenge, checks the credentials once, so a wrong password stops seed before any push. */
  async checkCredentials(): Promise<void> {
    if (this.auth.kind === 'anonymous') return;
    const credentials = this.requireCredentials('GET /v2/');
    if (this.auth.kind === 'bearer') {
      await this.fetchToken(undefined);
      return;
    }
    const response = await this.request({ method: 'GET', url: `${this.origin}/v2/`, headers: { Authorization: basic(credentials) } });
    if (response.status === 401) throw this.rejected('GET /v2/', response);
    if (response.status !== 200) {
      throw new SeedError('protocol', `${this.origin}: GET /v2/ with credentials answered ${describeResponse(response)}`);
    }
  }

  /** The digest at a tag, or undefined when the tag is not there. */
  async manifestDigest(repository: string, reference: string): Promise<string | undefined> {
    const url = `${this.origin}/v2/${repository}/manifests/${reference}`;
    const what = `HEAD ${repository}:${reference}`;
    const head = await this.send(repository, { method: 'HEAD', url, headers: { Accept: MANIFEST_ACCEPT } }, what);
    if (head.status === 404) return undefined;
    if (head.status !== 200) throw this.refused(what, head, repository);
    const digest = head.headers['docker-content-digest'];
    if (digest) return digest;
    // A registry that leaves the digest out of HEAD: hash what GET returns.
    const get = await this.send(repository, { method: 'GET', url, headers: { Accept: MANIFEST_ACCEPT } }, `GET ${repository}:${reference}`);
    if (get.status !== 200) throw this.refused(`GET ${repository}:${reference}`, get, repository);
    return sha256(get.body);
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const what = `HEAD blob ${digest} in ${repository}`;
    const response = await this.send(repository, { method: 'HEAD', url: `${this.origin}/v2/${repository}/blobs/${digest}` }, what);
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw this.refused(what, response, repository);
  }

  /** POST an upload session, then PUT the whole blob to it with its digest (spec "monolithic upload"). */
  async uploadBlob(repository: string, digest: string, data: Buffer): Promise<void> {
    const what = `upload of blob ${digest} to ${repository}`;
    const start = await this.send(repository, { method: 'POST', url: `${this.origin}/v2/${repository}/blobs/uploads/` }, what);
    if (start.status !== 202) throw this.refused(what, start, repository);
    const location = start.headers.location;
    if (!location) throw new SeedError('protocol', `${this.origin}: POST ${repository}/blobs/uploads/ answered 202 without a Location header`);
    const target = new URL(location, `${this.origin}/`);
    if (target.protocol === 'http:' && !isLoopback(target.hostname) && !this.options.endpoint.insecure) {
      throw new SeedError('protocol', `${this.origin} sent the upload to ${target.origin}, plain HTTP to a host that is not loopback; pass --insecure to allow it`);
    }
    const url = `${target.href}${target.search ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
    const put = await this.send(
      repository,
      { method: 'PUT', url, headers: { 'Content-Type': 'application/octet-stream' }, body: data },
      what,
      target.origin === this.origin,
    );
    if (put.status !== 201 && put.status !== 204) throw this.refused(what, put, repository);
  }

  /** PUT the manifest at the tag; returns the digest the registry reports, if any. */
  async putManifest(repository: string, tag: string, mediaType: string, body: Buffer): Promise<string | undefined> {
    const what = `PUT manifest ${repository}:${tag}`;
    const response = await this.send(
      repository,
      { method: 'PUT', url: `${this.origin}/v2/${repository}/manifests/${tag}`, headers: { 'Content-Type': mediaType }, body },
      what,
    );
    if (response.status !== 201 && response.status !== 200 && response.status !== 204) throw this.refused(what, response, repository);
    return response.headers['docker-content-digest'];
  }

  // --- authentication -------------------------------------------------------------------

  private learnChallenge(response: HttpResponse, what: string): void {
    const challenge = preferredChallenge(parseChallenges(response.headers['www-authenticate']));
    if (!challenge) {
      throw new SeedError('protocol', `${this.origin}: ${what} answered 401 without a Basic or Bearer challenge (WWW-Authenticate), so there is no way to log in`);
    }
    if (challenge.scheme === 'basic') {
      this.auth = { kind: 'basic' };
      return;
    }
    const realm = challenge.params.realm;
    if (!realm) throw new SeedError('protocol', `${this.origin}: the Bearer challenge names no realm (token service)`);
    this.auth = { kind: 'bearer', realm, service: challenge.params.service };
    this.tokens.clear();
  }

  private requireCredentials(what: string): Credentials {
    if (this.options.credentials) return this.options.credentials;
    throw new SeedError('auth', `the registry at ${this.origin} requires credentials (${what} answered 401): ${this.options.credentialHint}`);
  }

  private rejected(what: string, response: HttpResponse): SeedError {
    const user = this.options.credentials?.username;
    return new SeedError(
      'auth',
      `authentication failed: the registry at ${this.origin} did not accept the password of user "${user}" (${what}: ${describeResponse(response)}). Check the username and password: ${this.options.credentialHint}`,
    );
  }

  private refused(what: string, response: HttpResponse, repository: string): SeedError {
    const user = this.options.credentials?.username;
    const hint =
      response.status === 403
        ? user
          ? ` User "${user}" needs permission to push to ${repository} (zot accessControl: "create", and "update" to replace a tag).`
          : ` The registry lets anonymous users read only: pass credentials of a user allowed to push to ${repository}.`
        : response.status === 405
          ? ' The registry does not accept pushes here (read-only, or pushes disabled).'
          : response.status === 413
            ? ' The registry refuses something this large (size limit or quota).'
            : response.status >= 500
              ? " It is the registry's own failure: see its log."
              : '';
    return new SeedError('refused', `the registry at ${this.origin} refused the ${what}: ${describeResponse(response)}.${hint}`);
  }

  private async fetchToken(repository: string | undefined): Promise<string> {
    if (this.auth.kind !== 'bearer') throw new Error('fetchToken without a Bearer challenge');
    const key = repository ?? '';
    const cached = this.tokens.get(key);
    if (cached) return cached;
    let realm: URL;
    try {
      realm = new URL(this.auth.realm);
    } catch {
      throw new SeedError('protocol', `${this.origin}: the Bearer challenge's realm ${JSON.stringify(this.auth.realm)} is not a URL`);
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw new SeedError('protocol', `the token realm ${realm.href} is neither http nor https`);
    if (realm.protocol === 'http:' && !isLoopback(realm.hostname) && !this.options.endpoint.insecure) {
      throw new SeedError('protocol', `the registry's token service ${realm.origin} is plain HTTP to a host that is not loopback; credentials would travel unencrypted. Pass --insecure to allow it`);
    }
    if (this.auth.service) realm.searchParams.set('service', this.auth.service);
    if (repository) realm.searchParams.append('scope', `repository:${repository}:pull,push`);
    const headers: Record<string, string> = {};
    if (this.options.credentials) headers.Authorization = basic(this.options.credentials);
    const what = `token request to ${realm.origin}${realm.pathname}`;
    const response = await this.request({ method: 'GET', url: realm.href, headers });
    if (response.status === 401 || response.status === 403) {
      if (!this.options.credentials) throw this.requireCredentials(what);
      throw this.rejected(what, response);
    }
    if (response.status !== 200) throw new SeedError('refused', `the registry's token service refused the ${what}: ${describeResponse(response)}`);
    let token: unknown;
    try {
      const body = JSON.parse(response.body.toString('utf8')) as { token?: unknown; access_token?: unknown };
      token = body.token ?? body.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token === '') throw new SeedError('protocol', `the ${what} answered 200 without a token`);
    this.tokens.set(key, token);
    return token;
  }

  private async authorization(repository: string): Promise<string | undefined> {
    switch (this.auth.kind) {
      case 'anonymous':
        return undefined;
      case 'basic':
        return this.options.credentials ? basic(this.options.credentials) : undefined;
      case 'bearer':
        return `Bearer ${await this.fetchToken(repository)}`;
    }
  }

  /** A request for something in `repository`, with credentials; a 401 is answered once. */
  private async send(repository: string, request: Omit<HttpRequest, 'timeoutMs'>, what: string, sameOrigin = true): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      const authorization = sameOrigin ? await this.authorization(repository) : undefined;
      const headers = { ...request.headers, ...(authorization ? { Authorization: authorization } : {}) };
      const response = await this.request({ ...request, headers });
      if (response.status !== 401) return response;
      if (attempt > 0 || !sameOrigin) throw this.options.credentials ? this.rejected(what, response) : this.requireCredentials(what);
      const before = this.auth.kind;
      this.learnChallenge(response, what);
      if (!this.options.credentials && (this.auth.kind === 'basic' || before === 'basic')) throw this.requireCredentials(what);
      if (this.auth.kind === 'basic' && before === 'basic') throw this.rejected(what, response);
    }
  }

  private async request(request: Omit<HttpRequest, 'timeoutMs'>): Promise<HttpResponse> {
    try {
      return await this.options.transport({ ...request, timeoutMs: this.timeoutMs });
    } catch (err) {
      if (err instanceof ConnectionError) {
        throw new SeedError('unreachable', `lost the registry at ${this.origin} during ${request.method} ${new URL(request.url).pathname}: ${err.reason}. Check that it is still running, then run perch seed again (it skips what is already there)`);
      }
      throw err;
    }
  }
}

function basic(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}
