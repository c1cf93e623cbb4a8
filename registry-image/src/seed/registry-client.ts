/**
 * The seed command's registry steps: just what pushing a chart takes (distribution spec
 * "Pushing blobs" POST-then-PUT, "Pushing manifests", HEAD checks), each judged in seed's
 * words. Logging in and sending (Basic and Bearer challenges, tokens per scope, the one retry
 * after a 401, credentials only to the registry's own origin and its token realm) is the
 * client library's Session; seed only words its messages with its own flags (SEED_WORDING)
 * and turns the library's RegistryError into a SeedError (errors.ts).
 */
import type { RegistryEndpoint } from '../client/registry-endpoint';
import type { HttpResponse, Transport } from '../client/http-transport';
import { RegistryError } from '../client/errors';
import { Session, type SessionWording } from '../client/session';
import { describeResponse } from '../client/oci-errors';
import { seedErrorFrom, SeedError } from './errors';
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

export type PingResult = { ready: true } | { ready: false; reason: string };

/** Manifest types a HEAD by tag accepts: the ones a registry may hold at a chart's tag. */
const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

/** Statuses that mean "not ready yet" while waiting for the registry (a proxy or a starting pod). */
const TRANSIENT = new Set([429, 500, 502, 503, 504]);

function seedWording(credentialHint: string): SessionWording {
  return {
    credentials: credentialHint,
    recheck: credentialHint,
    insecure: '--insecure',
    untrustedCertificate: 'point NODE_EXTRA_CA_CERTS at the CA certificate that signed it, or pass --insecure to skip verification',
    plainHttp: (address) => `use --registry ${address}`,
    unreachable: 'check that it is still running, then run perch seed again (it skips what is already there)',
  };
}

export class RegistryClient {
  private readonly session: Session;

  constructor(options: RegistryClientOptions) {
    this.session = new Session(options.endpoint, options.credentials, options.transport, options.requestTimeoutMs ?? 30_000, seedWording(options.credentialHint));
  }

  private get origin(): string {
    return this.session.origin;
  }

  /** One GET /v2/ without credentials: learns how the registry wants them. */
  async ping(timeoutMs?: number): Promise<PingResult> {
    let response: HttpResponse;
    try {
      response = await this.session.ping(timeoutMs);
    } catch (err) {
      // Nothing answering may be a registry still starting; a certificate or protocol mismatch is not fixed by waiting.
      if (err instanceof RegistryError && err.kind === 'unreachable') {
        const cause = err.cause as { reason?: string } | undefined;
        return { ready: false, reason: cause?.reason ?? err.message };
      }
      throw seedErrors(err);
    }
    if (response.status === 200 || response.status === 401) return { ready: true };
    if (TRANSIENT.has(response.status)) return { ready: false, reason: `GET /v2/ answered ${describeResponse(response)}` };
    throw new SeedError(
      'protocol',
      `${this.origin} does not answer as an OCI registry (GET /v2/ answered ${describeResponse(response)}); check --registry`,
    );
  }

  /** With a challenge, checks the credentials once, so a wrong password stops seed before any push. */
  async checkCredentials(): Promise<void> {
    await this.session.login().catch(rethrow);
  }

  /** The digest at a tag, or undefined when the tag is not there. */
  async manifestDigest(repository: string, reference: string): Promise<string | undefined> {
    const url = `${this.origin}/v2/${repository}/manifests/${reference}`;
    const what = `HEAD ${repository}:${reference}`;
    const head = await this.send(repository, { method: 'HEAD', url, headers: { Accept: MANIFEST_ACCEPT }, what });
    if (head.status === 404) return undefined;
    if (head.status !== 200) throw this.refused(what, head, repository);
    const digest = head.headers['docker-content-digest'];
    if (digest) return digest;
    // A registry that leaves the digest out of HEAD: hash what GET returns.
    const getWhat = `GET ${repository}:${reference}`;
    const get = await this.send(repository, { method: 'GET', url, headers: { Accept: MANIFEST_ACCEPT }, what: getWhat });
    if (get.status !== 200) throw this.refused(getWhat, get, repository);
    return sha256(get.body);
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const what = `HEAD blob ${digest} in ${repository}`;
    const response = await this.send(repository, { method: 'HEAD', url: `${this.origin}/v2/${repository}/blobs/${digest}`, what });
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw this.refused(what, response, repository);
  }

  /** POST an upload session, then PUT the whole blob to it with its digest (spec "monolithic upload"). */
  async uploadBlob(repository: string, digest: string, data: Buffer): Promise<void> {
    const what = `upload of blob ${digest} to ${repository}`;
    const start = await this.send(repository, { method: 'POST', url: `${this.origin}/v2/${repository}/blobs/uploads/`, what });
    if (start.status !== 202) throw this.refused(what, start, repository);
    const location = start.headers.location;
    if (!location) throw new SeedError('protocol', `${this.origin}: POST ${repository}/blobs/uploads/ answered 202 without a Location header`);
    let target: URL;
    try {
      target = this.session.resolve(location, 'upload');
    } catch (err) {
      throw seedErrors(err);
    }
    const url = `${target.href}${target.search ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
    const put = await this.send(repository, { method: 'PUT', url, headers: { 'Content-Type': 'application/octet-stream' }, body: data, what });
    if (put.status !== 201 && put.status !== 204) throw this.refused(what, put, repository);
  }

  /** PUT the manifest at the tag; returns the digest the registry reports, if any. */
  async putManifest(repository: string, tag: string, mediaType: string, body: Buffer): Promise<string | undefined> {
    const what = `PUT manifest ${repository}:${tag}`;
    const response = await this.send(repository, { method: 'PUT', url: `${this.origin}/v2/${repository}/manifests/${tag}`, headers: { 'Content-Type': mediaType }, body, what });
    if (response.status !== 201 && response.status !== 200 && response.status !== 204) throw this.refused(what, response, repository);
    return response.headers['docker-content-digest'];
  }

  /** Everything seed does in a repository needs pull and push: one token per chart repository. */
  private send(repository: string, request: Parameters<Session['send']>[0]): Promise<HttpResponse> {
    return this.session.send(request, { repository, actions: 'pull,push' }).catch(rethrow);
  }

  private refused(what: string, response: HttpResponse, repository: string): SeedError {
    const who = this.session.who;
    const hint =
      response.status === 403
        ? who !== 'anonymous'
          ? ` ${who[0].toUpperCase()}${who.slice(1)} needs permission to push to ${repository} (zot accessControl: "create", and "update" to replace a tag).`
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
}

function seedErrors(err: unknown): unknown {
  return err instanceof RegistryError ? seedErrorFrom(err) : err;
}

function rethrow(err: unknown): never {
  throw seedErrors(err);
}
