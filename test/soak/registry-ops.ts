/**
 * Registry requests as clients make them, each checking the answer in full: pushes (HEAD each
 * blob, upload what is missing, monolithically, in chunks or by mount, then the manifest) and
 * pulls (manifest, then every blob, hashed). Any answer that is neither right nor a refusal the
 * caller said to expect throws a SoakError naming the request and what came back.
 */
import { createHash } from 'node:crypto';
import { errorCode, type Reply, type RequestOptions, type SoakClient } from './http';
import { blobBytes, blobsOf, MANIFEST_TYPE, type BlobSpec, type ImageSpec } from './images';
import type { Rng } from './rng';

const KiB = 1024;
const MANIFEST_ACCEPT = [MANIFEST_TYPE, 'application/vnd.oci.image.index.v1+json'].join(', ');

export class SoakError extends Error {}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function describe(opts: RequestOptions, reply: Reply): string {
  const body = reply.body.length ? ` ${reply.body.toString('utf8', 0, Math.min(reply.body.length, 200)).replace(/\s+/g, ' ')}` : '';
  return `${opts.method} ${new URL(opts.url, 'http://x').pathname}: ${reply.status}${body}`;
}

/** A request whose status must be one of `want`. */
export async function expectStatus(client: SoakClient, want: number | readonly number[], opts: RequestOptions): Promise<Reply> {
  const reply = await client.request(opts);
  const wanted = typeof want === 'number' ? [want] : want;
  if (!wanted.includes(reply.status)) throw new SoakError(`${client.who}: expected ${wanted.join(' or ')}, got ${describe(opts, reply)}`);
  return reply;
}

/** A request that must be refused with `status` and OCI error `code` (the body of a HEAD has none). */
export async function expectRefusal(client: SoakClient, status: number, code: string | undefined, opts: RequestOptions): Promise<Reply> {
  const reply = await expectStatus(client, status, opts);
  if (code !== undefined && opts.method !== 'HEAD' && errorCode(reply) !== code) throw new SoakError(`${client.who}: expected ${status} ${code}, got ${describe(opts, reply)}`);
  if (status === 401 && !reply.headers['www-authenticate']) throw new SoakError(`${client.who}: 401 without WWW-Authenticate: ${describe(opts, reply)}`);
  return reply;
}

function header(reply: Reply, name: string): string | undefined {
  const value = reply.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Runs every promise to its end (no request left running behind an error), then throws the first error. */
export async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

// --- push ------------------------------------------------------------------------------------

export interface PushContext {
  rng: Rng;
  /** Repositories a mount may name as its source (seeded ones), and the base layers each surely holds. */
  mountSources(exclude: string): Array<{ repo: string; surely: ReadonlySet<string> }>;
  /** Counts an expected refusal or fallback by kind. */
  expected(what: string): void;
  /** gcDelay less a margin: how long an acknowledged blob or HEAD keeps its content safe from GC. */
  graceMs: number;
}

/** The absolute upload URL a POST or PATCH answered with (plus `digest` for the closing PUT). */
export function uploadLocation(client: SoakClient, reply: Reply, what: string, digest?: string): string {
  const location = header(reply, 'location');
  if (!location) throw new SoakError(`${client.who}: ${what} answered ${reply.status} without a Location`);
  const url = client.resolve(location);
  if (digest) url.searchParams.set('digest', digest);
  return url.href;
}

function checkBlobCreated(client: SoakClient, reply: Reply, blob: BlobSpec, what: string): void {
  if (header(reply, 'docker-content-digest') !== blob.digest) throw new SoakError(`${client.who}: ${what} of ${blob.digest} answered Docker-Content-Digest ${header(reply, 'docker-content-digest')}`);
}

async function uploadChunked(ctx: PushContext, client: SoakClient, repo: string, blob: BlobSpec, data: Buffer): Promise<void> {
  const start = await expectStatus(client, 202, { method: 'POST', url: `/v2/${repo}/blobs/uploads/` });
  let location = uploadLocation(client, start, 'POST upload');
  const chunk = ctx.rng.pick([64 * KiB + 1, 256 * KiB, 1024 * KiB]);
  const lastInPut = ctx.rng.chance(0.5);
  let offset = 0;
  while (offset < data.length) {
    const end = Math.min(data.length, offset + chunk);
    if (lastInPut && end === data.length) break;
    const reply = await expectStatus(client, 202, {
      method: 'PATCH',
      url: location,
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${end - 1}` },
      body: data.subarray(offset, end),
    });
    if (header(reply, 'range') !== `0-${end - 1}`) throw new SoakError(`${client.who}: PATCH of bytes ${offset}-${end - 1} answered Range ${header(reply, 'range')}`);
    location = uploadLocation(client, reply, 'PATCH');
    offset = end;
  }
  const rest = data.subarray(offset);
  const url = new URL(location);
  url.searchParams.set('digest', blob.digest);
  const done = await expectStatus(client, 201, {
    method: 'PUT',
    url: url.href,
    headers: rest.length ? { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${data.length - 1}` } : {},
    body: rest.length ? rest : undefined,
  });
  checkBlobCreated(client, done, blob, 'chunked upload');
}

/** Uploads a blob the repository does not hold, the way some client would. */
async function uploadBlob(ctx: PushContext, client: SoakClient, repo: string, blob: BlobSpec): Promise<void> {
  const sources = blob.base ? ctx.mountSources(repo) : [];
  if (sources.length && ctx.rng.chance(0.5)) {
    // crane and oras mount layers another repository holds; the registry may answer 202 (a
    // plain upload session) instead, unless the source surely holds the blob.
    const source = ctx.rng.pick(sources);
    const reply = await expectStatus(client, [201, 202], { method: 'POST', url: `/v2/${repo}/blobs/uploads/?mount=${blob.digest}&from=${source.repo}` });
    if (reply.status === 201) return checkBlobCreated(client, reply, blob, 'mount');
    if (source.surely.has(blob.digest)) throw new SoakError(`${client.who}: mount of ${blob.digest} from ${source.repo}, whose pinned image holds it, answered 202`);
    ctx.expected('mount answered 202 (source no longer holds the blob): uploaded instead');
    const done = await expectStatus(client, 201, {
      method: 'PUT',
      url: uploadLocation(client, reply, 'POST mount', blob.digest),
      headers: { 'Content-Type': 'application/octet-stream' },
      body: blobBytes(blob),
    });
    return checkBlobCreated(client, done, blob, 'upload after mount');
  }
  const data = blobBytes(blob);
  const style = data.length < 64 * KiB ? ctx.rng.pick(['post', 'post-put']) : ctx.rng.weighted([['post', 3], ['post-put', 3], ['chunked', 4]] as const);
  if (style === 'chunked') return uploadChunked(ctx, client, repo, blob, data);
  if (style === 'post') {
    const done = await expectStatus(client, 201, {
      method: 'POST',
      url: `/v2/${repo}/blobs/uploads/?digest=${blob.digest}`,
      headers: { 'Content-Type': 'application/octet-stream' },
      body: data,
    });
    return checkBlobCreated(client, done, blob, 'monolithic POST');
  }
  const start = await expectStatus(client, 202, { method: 'POST', url: `/v2/${repo}/blobs/uploads/` });
  const done = await expectStatus(client, 201, {
    method: 'PUT',
    url: uploadLocation(client, start, 'POST upload', blob.digest),
    headers: { 'Content-Type': 'application/octet-stream' },
    body: data,
  });
  checkBlobCreated(client, done, blob, 'monolithic PUT');
}

/**
 * HEAD the blob; upload it when the repository does not hold it. Returns the client time
 * before the HEAD: the blob was refreshed (HEAD) or written (upload) after it, so GC leaves it
 * alone for gcDelay from then.
 */
async function ensureBlob(ctx: PushContext, client: SoakClient, repo: string, blob: BlobSpec): Promise<number> {
  const before = Date.now();
  const head = await expectStatus(client, [200, 404], { method: 'HEAD', url: `/v2/${repo}/blobs/${blob.digest}` });
  if (head.status === 200) {
    if (Number(header(head, 'content-length')) !== blob.size) throw new SoakError(`${client.who}: HEAD ${repo} blob ${blob.digest} says ${header(head, 'content-length')} bytes, it has ${blob.size}`);
    return before;
  }
  await uploadBlob(ctx, client, repo, blob);
  return before;
}

/**
 * Pushes `image` to `repo` under `reference` (a tag, or its digest): its blobs in parallel,
 * then the manifest. Returns the client time at which the manifest PUT was sent, or null when
 * the registry answered MANIFEST_BLOB_UNKNOWN because the push took longer than gcDelay (its
 * blobs may then be collected, as docs/gc.md says; a faster push getting that is an error).
 */
export async function pushImage(ctx: PushContext, client: SoakClient, repo: string, image: ImageSpec, reference: string): Promise<number | null> {
  const refreshed = await settleAll(blobsOf(image).map((b) => ensureBlob(ctx, client, repo, b)));
  const oldest = Math.min(...refreshed);
  const sent = Date.now();
  const opts: RequestOptions = { method: 'PUT', url: `/v2/${repo}/manifests/${reference}`, headers: { 'Content-Type': MANIFEST_TYPE }, body: image.manifest };
  const reply = await client.request(opts);
  if (reply.status === 201) {
    if (header(reply, 'docker-content-digest') !== image.digest) throw new SoakError(`${client.who}: manifest PUT answered Docker-Content-Digest ${header(reply, 'docker-content-digest')}, not ${image.digest}`);
    return sent;
  }
  if (errorCode(reply) === 'MANIFEST_BLOB_UNKNOWN' && Date.now() - oldest >= ctx.graceMs) {
    ctx.expected('manifest PUT after gcDelay: MANIFEST_BLOB_UNKNOWN');
    return null;
  }
  throw new SoakError(`${client.who}: expected 201, got ${describe(opts, reply)} (blobs refreshed ${Date.now() - oldest} ms before)`);
}

// --- pull ------------------------------------------------------------------------------------

/** Asked when a pull meets a 404: 'maybe' when the manifest may have been collected, 'must' when it has to be there. */
export type Presence = () => 'must' | 'maybe';

function checkManifestReply(client: SoakClient, reply: Reply, image: ImageSpec, what: string): void {
  if (header(reply, 'docker-content-digest') !== image.digest) throw new SoakError(`${client.who}: ${what} answered Docker-Content-Digest ${header(reply, 'docker-content-digest')}, expected ${image.digest}`);
  if (header(reply, 'content-type') !== MANIFEST_TYPE) throw new SoakError(`${client.who}: ${what} answered Content-Type ${header(reply, 'content-type')}`);
  if (reply.body.length && (sha256(reply.body) !== image.digest || !reply.body.equals(image.manifest))) throw new SoakError(`${client.who}: ${what}: body hashes to ${sha256(reply.body)}, expected ${image.digest}`);
}

/**
 * Pulls a manifest by `reference` and every blob it names, checking each digest. Returns false
 * when the manifest was gone and `presence` said it may be (nothing else is pulled then).
 */
export async function pullImage(ctx: PushContext, client: SoakClient, repo: string, reference: string, image: ImageSpec, presence: Presence): Promise<boolean> {
  const url = `/v2/${repo}/manifests/${reference}`;
  const gone = (reply: Reply, code: string, what: string): boolean => {
    if (reply.status !== 404 || (reply.body.length > 0 && errorCode(reply) !== code)) return false;
    if (presence() === 'must') throw new SoakError(`${client.who}: ${what} ${repo} ${reference}: 404 ${errorCode(reply) ?? ''}, but it must still be there`);
    ctx.expected(`pull of an untagged manifest collected by GC: 404 ${code}`);
    return true;
  };
  if (ctx.rng.chance(0.3)) {
    const head = await expectStatus(client, [200, 404], { method: 'HEAD', url, headers: { Accept: MANIFEST_ACCEPT } });
    if (head.status === 404) {
      if (gone(head, 'MANIFEST_UNKNOWN', 'HEAD manifest')) return false;
    } else {
      checkManifestReply(client, head, image, `HEAD ${url}`);
      if (Number(header(head, 'content-length')) !== image.manifest.length) throw new SoakError(`${client.who}: HEAD ${url}: Content-Length ${header(head, 'content-length')}`);
    }
  }
  const reply = await expectStatus(client, [200, 404], { method: 'GET', url, headers: { Accept: MANIFEST_ACCEPT } });
  if (reply.status === 404) {
    if (gone(reply, 'MANIFEST_UNKNOWN', 'GET manifest')) return false;
    throw new SoakError(`${client.who}: GET ${url}: 404 ${errorCode(reply)}`);
  }
  checkManifestReply(client, reply, image, `GET ${url}`);
  const results = await settleAll(
    blobsOf(image).map(async (blob) => {
      const blobUrl = `/v2/${repo}/blobs/${blob.digest}`;
      // A resumed download asks for a range; check those bytes against the content.
      if (blob.size > 64 * KiB && ctx.rng.chance(0.1)) {
        const from = ctx.rng.int(0, blob.size - 1);
        const to = Math.min(blob.size - 1, from + ctx.rng.int(0, 256 * KiB));
        const part = await expectStatus(client, [206, 404], { method: 'GET', url: blobUrl, headers: { Range: `bytes=${from}-${to}` } });
        if (part.status === 404) {
          if (gone(part, 'BLOB_UNKNOWN', 'GET blob range')) return 'gone';
          throw new SoakError(`${client.who}: GET ${blobUrl} bytes=${from}-${to}: 404 ${errorCode(part)}`);
        }
        if (!part.body.equals(blobBytes(blob).subarray(from, to + 1))) throw new SoakError(`${client.who}: GET ${blobUrl} bytes=${from}-${to}: wrong bytes (${part.body.length} received)`);
        return 'ok';
      }
      const got = await expectStatus(client, [200, 404], { method: 'GET', url: blobUrl });
      if (got.status === 404) {
        if (gone(got, 'BLOB_UNKNOWN', 'GET blob')) return 'gone';
        throw new SoakError(`${client.who}: GET ${blobUrl}: 404 ${errorCode(got)}`);
      }
      if (got.body.length !== blob.size || sha256(got.body) !== blob.digest) throw new SoakError(`${client.who}: GET ${blobUrl}: ${got.body.length} bytes hashing to ${sha256(got.body)}, expected ${blob.size} bytes`);
      return 'ok';
    }),
  );
  return !results.includes('gone');
}
