/**
 * What the hostile-input properties run against, and what they check after every request.
 *
 * A target is the registry with a real FsStore whose root sits three folders deep in a
 * temporary folder of its own (`<parent>/outer/inner/root`), seeded through the HTTP API
 * with a few real images: blobs, manifests, tags, an index, a referrer with a subject, a
 * Docker manifest, a sha512 blob, and an upload session left open in another repository.
 * Two kinds: the registry in this process (test/helpers/in-process.ts) and the bundled server
 * as a child process (test/helpers/registry.ts), with the browse UI and metrics turned on so
 * their routes are there too.
 *
 * After each request: the answer is a 4xx with an OCI error body (HEAD: the status only), the
 * server logged no 5xx (a client that left early never sees one), the files under blobs/ and
 * repositories/ are byte for byte what they were, uploads/ and tmp/ hold only names the store
 * makes, and nothing appeared beside the root. After each property: the server still answers.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect } from 'vitest';
import { createLogger } from '../../registry-image/src/log';
import { FsStore } from '../../registry-image/src/storage/fs-store';
import { allowAll, startInProcess, testConfig } from '../helpers/in-process';
import { pushBlob, pushImage } from '../helpers/oci-client';
import { startRegistry } from '../helpers/registry';
import { tempDir } from '../helpers/temp-dir';
import { sha256, sha512 } from './arbitraries';
import { rawRequest, type RawRequest, type RawResponse } from './raw-http';

// ---- runs and seeds ----

/** FUZZ_SEED=<integer> replays a run; without it fast-check picks a seed and prints it on failure. */
export const FUZZ_SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
if (FUZZ_SEED !== undefined && !Number.isSafeInteger(FUZZ_SEED)) throw new Error(`FUZZ_SEED=${process.env.FUZZ_SEED} is not an integer`);

export function runOptions(numRuns: number): fc.Parameters<unknown> {
  // The time limit keeps a property inside vitest's 60 s test timeout on a loaded machine: it
  // then stops early with the runs it made, which is reported as a pass.
  return { numRuns, ...(FUZZ_SEED !== undefined ? { seed: FUZZ_SEED } : {}), interruptAfterTimeLimit: 45_000, markInterruptAsFailure: false };
}

// ---- what the seed pushed ----

export interface SeededBlob {
  repository: string;
  digest: string;
  bytes: Buffer;
}

export interface Seeded {
  repositories: string[];
  /** repository -> its tags, sorted. */
  tags: Record<string, string[]>;
  /** Every digest the seed stored (blobs and manifests), for upper-casing and such. */
  digests: string[];
  blobs: SeededBlob[];
  /** In seed/image: a tag, the manifest it points at, and its body. */
  image: { repository: string; tag: string; digest: string; manifest: Buffer; mediaType: string };
  /** A config blob seed/image holds, and a layer only seed/other holds. */
  heldBlob: { digest: string; size: number };
  foreignBlob: { digest: string; size: number };
  /** The subject the referrer names (the image above). */
  subject: string;
  /** An upload session of seed/other with some bytes in it. */
  otherSession: { repository: string; id: string; location: string };
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

async function putManifest(base: string, repository: string, reference: string, body: Buffer, contentType: string): Promise<string> {
  const res = await fetch(`${base}/v2/${repository}/manifests/${reference}`, { method: 'PUT', body: new Uint8Array(body), headers: { 'Content-Type': contentType } });
  if (res.status !== 201) throw new Error(`seed: PUT ${repository}:${reference} answered ${res.status} ${await res.text()}`);
  return sha256(body);
}

/** Pushes the seed through the API, as a client would. */
export async function seed(base: string): Promise<Seeded> {
  const image = await pushImage(base, 'seed/image', 'v1', [Buffer.from('layer one'), Buffer.from('layer two')]);
  const image2 = await pushImage(base, 'seed/image', 'v2', [Buffer.from('layer three')]);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: image.digest, size: image.manifest.length, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: OCI_MANIFEST, digest: image2.digest, size: image2.manifest.length, platform: { os: 'linux', architecture: 'arm64' } },
      ],
    }),
  );
  const indexDigest = await putManifest(base, 'seed/image', 'multi', index, OCI_INDEX);
  // A referrer pushed by digest, untagged: it reaches the store only through its subject.
  const empty = Buffer.from('{}');
  const emptyDigest = await pushBlob(base, 'seed/image', empty);
  const referrer = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.signature',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyDigest, size: empty.length },
      layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyDigest, size: empty.length }],
      subject: { mediaType: OCI_MANIFEST, digest: image.digest, size: image.manifest.length },
    }),
  );
  const referrerDigest = await putManifest(base, 'seed/image', sha256(referrer), referrer, OCI_MANIFEST);
  // A sha512 blob, linked but in no manifest.
  const long = Buffer.from('a blob addressed by sha512');
  const longDigest = sha512(long);
  const res = await fetch(`${base}/v2/seed/image/blobs/uploads/?digest=${longDigest}`, { method: 'POST', body: new Uint8Array(long), headers: { 'Content-Type': 'application/octet-stream' } });
  if (res.status !== 201) throw new Error(`seed: sha512 blob answered ${res.status}`);

  const other = await pushImage(base, 'seed/other', 'latest', [Buffer.from('a layer only seed/other holds')]);
  // A Docker schema 2 manifest over the same blobs.
  const docker = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: other.blobs[0].digest, size: other.blobs[0].bytes.length },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: other.blobs[1].digest, size: other.blobs[1].bytes.length }],
    }),
  );
  const dockerDigest = await putManifest(base, 'seed/other', 'docker', docker, DOCKER_MANIFEST);
  const nested = await pushImage(base, 'seed/nested/deep.name_x-y', 'v1.0', [Buffer.from('nested layer')]);

  // An upload session of seed/other with bytes in it, left open.
  const started = await fetch(`${base}/v2/seed/other/blobs/uploads/`, { method: 'POST' });
  const location = started.headers.get('location')!;
  const patched = await fetch(`${base}${location}`, { method: 'PATCH', body: new Uint8Array(Buffer.from('partial')), headers: { 'Content-Type': 'application/octet-stream' } });
  if (patched.status !== 202) throw new Error(`seed: PATCH answered ${patched.status}`);

  const blobs: SeededBlob[] = [
    ...image.blobs.map((b) => ({ repository: 'seed/image', ...b })),
    ...image2.blobs.map((b) => ({ repository: 'seed/image', ...b })),
    { repository: 'seed/image', digest: emptyDigest, bytes: empty },
    { repository: 'seed/image', digest: longDigest, bytes: long },
    ...other.blobs.map((b) => ({ repository: 'seed/other', ...b })),
    ...nested.blobs.map((b) => ({ repository: 'seed/nested/deep.name_x-y', ...b })),
  ];
  return {
    repositories: ['seed/image', 'seed/nested/deep.name_x-y', 'seed/other'],
    tags: { 'seed/image': ['multi', 'v1', 'v2'], 'seed/other': ['docker', 'latest'], 'seed/nested/deep.name_x-y': ['v1.0'] },
    digests: [...new Set([...blobs.map((b) => b.digest), image.digest, image2.digest, indexDigest, referrerDigest, other.digest, dockerDigest, nested.digest])],
    blobs,
    image: { repository: 'seed/image', tag: 'v1', digest: image.digest, manifest: image.manifest, mediaType: OCI_MANIFEST },
    heldBlob: { digest: image.blobs[0].digest, size: image.blobs[0].bytes.length },
    foreignBlob: { digest: other.blobs[1].digest, size: other.blobs[1].bytes.length },
    subject: image.digest,
    otherSession: { repository: 'seed/other', id: location.split('/').pop()!, location },
  };
}

// ---- targets ----

export interface Target {
  label: 'in-process' | 'process';
  port: number;
  url: string;
  /** The storage root; `parent` holds it, three folders up, and must hold nothing else. */
  root: string;
  parent: string;
  seeded: Seeded;
  /** Log lines so far (JSON, one per line). */
  logs: string[];
  /** The stored data after the last request sendHostile sent (harness-owned). */
  stored?: Snapshot;
  /** What the storage root held once seeded (the store's folders, a serving process's claim file). */
  rootEntries: string[];
  /** Throws unless the server still runs and answers GET /v2/. */
  assertAlive(): Promise<void>;
  close(): Promise<void>;
}

function storageFolders(prefix: string): { parent: string; root: string } {
  const parent = tempDir(prefix);
  const root = join(parent, 'outer', 'inner', 'root');
  mkdirSync(root, { recursive: true });
  return { parent, root };
}

async function answersBase(url: string): Promise<void> {
  const res = await fetch(`${url}/v2/`);
  expect(res.status, 'GET /v2/ after the hostile requests').toBe(200);
}

export async function inProcessTarget(): Promise<Target> {
  const { parent, root } = storageFolders('perch-fuzz-in-process-');
  const logs: string[] = [];
  // Info level: the access log line of every request carries its status, 5xx included.
  const log = createLogger('info', (line) => logs.push(line));
  const registry = await startInProcess(new FsStore(root), allowAll, testConfig(root), {}, log);
  const seeded = await seed(registry.url);
  return {
    rootEntries: readdirSync(root).sort(),
    label: 'in-process',
    port: Number(new URL(registry.url).port),
    url: registry.url,
    root,
    parent,
    seeded,
    logs,
    assertAlive: () => answersBase(registry.url),
    close: () => registry.close(),
  };
}

export async function processTarget(): Promise<Target> {
  const { parent, root } = storageFolders('perch-fuzz-process-');
  const running = await startRegistry({
    dataDir: root,
    config: { extensions: { ui: { enable: true }, metrics: { enable: true, prometheus: { path: '/metrics' } } } },
  });
  const seeded = await seed(running.url);
  return {
    rootEntries: readdirSync(root).sort(),
    label: 'process',
    port: running.port,
    url: running.url,
    root,
    parent,
    seeded,
    logs: running.logs,
    async assertAlive() {
      expect(running.process.exitCode, `the server exited; last log lines:\n${running.logs.slice(-20).join('\n')}`).toBeNull();
      expect(running.process.signalCode).toBeNull();
      await answersBase(running.url);
    },
    close: async () => {
      await running.stop();
    },
  };
}

// ---- what must not change ----

export type Snapshot = Record<string, string>;

const hashes = new Map<string, { stamp: string; hash: string }>();

/** The sha256 of a file, read again only when its inode, size, mtime or ctime changed (any write changes ctime). */
function fileHash(path: string): string {
  const st = lstatSync(path, { bigint: true });
  const stamp = `${st.ino} ${st.size} ${st.mtimeNs} ${st.ctimeNs}`;
  const known = hashes.get(path);
  if (known?.stamp === stamp) return known.hash;
  const hash = createHash('sha256').update(readFileSync(path)).digest('hex');
  hashes.set(path, { stamp, hash });
  return hash;
}

/**
 * Every entry under blobs/ and repositories/: folders, symlinks with their targets (tags and
 * manifest links are symlink records), files with the sha256 of their bytes. Synchronous: a
 * walk of a few hundred entries costs less than the thread-pool trips of doing it async.
 */
export async function snapshot(root: string): Promise<Snapshot> {
  const out: Snapshot = {};
  const walk = (dir: string, rel: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const key = `${rel}/${entry.name}`;
      if (entry.isSymbolicLink()) out[key] = `link ${readlinkSync(path)}`;
      else if (entry.isDirectory()) {
        out[key] = 'dir';
        walk(path, key);
      } else if (entry.isFile()) out[key] = `file ${fileHash(path)}`;
      else out[key] = 'other';
    }
  };
  for (const top of ['blobs', 'repositories']) walk(join(root, top), top);
  return out;
}

/** Names the store itself gives files in uploads/ and tmp/: a session id (and its suffixes), a temporary id. */
const STORE_MADE = /^\.?(?:readyz-)?[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}(?:\.[a-z]+)?$/;

/** Nothing outside the root, nothing but store-made names in its scratch folders. */
export async function assertContained(target: Target): Promise<void> {
  const beside: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const key = rel ? `${rel}/${entry.name}` : entry.name;
      if (join(dir, entry.name) === target.root) continue;
      beside.push(key);
      if (entry.isDirectory()) walk(join(dir, entry.name), key);
    }
  };
  walk(target.parent, '');
  expect(beside.sort(), `files beside the storage root in ${target.parent}`).toEqual(['outer', 'outer/inner']);
  expect(readdirSync(target.root).sort(), 'the storage root').toEqual(target.rootEntries);
  for (const scratch of ['uploads', 'tmp']) {
    const odd = readdirSync(join(target.root, scratch)).filter((name) => !STORE_MADE.test(name));
    expect(odd, `names in ${scratch}/ the store does not make`).toEqual([]);
  }
}

// ---- the answer ----

/** The spec's error codes ("Error Codes") and the 4xx ones perch adds in http/errors.ts (NOT_FOUND, TAG_INVALID, distribution's PAGINATION_NUMBER_INVALID). */
export const OCI_CODES = new Set([
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
  'NOT_FOUND',
  'PAGINATION_NUMBER_INVALID',
  'TAG_INVALID',
]);

export interface Expectation {
  /** Statuses that are right for this request; any 4xx when absent. */
  status?: readonly number[];
  /** Error codes that are right for this request; any of OCI_CODES when absent. */
  codes?: readonly string[];
}

export function describeRequest(request: RawRequest): string {
  const headers = (request.headers ?? []).map(([n, v]) => `${n}: ${JSON.stringify(v.length > 100 ? `${v.slice(0, 100)}...` : v)}`).join(', ');
  const path = request.path.length > 300 ? `${request.path.slice(0, 300)}... (${request.path.length} characters)` : request.path;
  return `${request.method} ${path}${headers ? ` [${headers}]` : ''}${request.body ? ` with ${request.body.length} bytes` : ''}`;
}

/** A refusal: 4xx, an OCI error body unless HEAD, the status and code `expected` allows. */
export function assertRefused(request: RawRequest, res: RawResponse, expected: Expectation = {}): void {
  const what = describeRequest(request);
  const body = res.body.toString('utf8');
  expect(res.status, `${what} answered ${res.status} ${body.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${what} answered ${res.status} ${body.slice(0, 300)}`).toBeLessThan(500);
  if (expected.status) expect(expected.status, `${what} answered ${res.status} ${body.slice(0, 300)}`).toContain(res.status);
  if (request.method === 'HEAD') return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error(`${what} answered ${res.status} without a JSON body: ${JSON.stringify(res.raw.toString('latin1').slice(0, 300))}`);
  }
  expect(res.headers['content-type'], `${what}: Content-Type of the error`).toMatch(/^application\/json/);
  const errors = (parsed as { errors?: unknown }).errors;
  expect(Array.isArray(errors) && errors.length > 0, `${what}: body ${body.slice(0, 300)} is not {"errors":[...]}`).toBe(true);
  for (const e of errors as Array<Record<string, unknown>>) {
    expect(typeof e.code, `${what}: error ${JSON.stringify(e)}`).toBe('string');
    expect(typeof e.message, `${what}: error ${JSON.stringify(e)}`).toBe('string');
    expect(OCI_CODES.has(e.code as string), `${what}: code ${String(e.code)} is not an OCI error code`).toBe(true);
    if (expected.codes) expect(expected.codes, `${what} answered ${res.status} ${body.slice(0, 300)}`).toContain(e.code);
  }
}

/** Access-log and error lines since `from` that report a 5xx (or a request that failed). */
export function serverFailures(logs: string[], from: number): string[] {
  return logs.slice(from).filter((line) => {
    if (line.includes('"request failed"')) return true;
    const m = /"status":(\d+)/.exec(line);
    return m !== null && Number(m[1]) >= 500 && line.includes('"message":"request"');
  });
}

/** Waits for the server's access-log line of the last request (the process writes it through a pipe). */
async function settleLogs(target: Target, from: number): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!target.logs.slice(from).some((line) => line.includes('"message":"request"')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

export interface HostileOptions extends Expectation {
  /** Checks the answer instead of assertRefused (for the few requests a correct registry serves). */
  check?: (res: RawResponse) => void;
  /**
   * False for requests Node's parser refuses: no route runs, so there is no access-log line
   * to wait for; the check waits a moment instead, for a handler failing after the answer.
   */
  routed?: boolean;
}

/**
 * Sends `request` and checks the answer, the log, the stored bytes and the folders around
 * them. The stored bytes are compared with what they were after the previous request (the
 * properties' own set-up, upload sessions, touches only uploads/), so a request that changes
 * them fails alone and the shrunk counterexample is that request. Returns the response.
 */
export async function sendHostile(target: Target, request: RawRequest, options: HostileOptions = {}): Promise<RawResponse> {
  const before = target.stored ?? (await snapshot(target.root));
  const logMark = target.logs.length;
  const res = await rawRequest(target.port, request);
  if (options.routed === false) await new Promise((resolve) => setTimeout(resolve, 30));
  else await settleLogs(target, logMark);
  // Taken before anything is judged: a failing request's changes are the next one's baseline.
  const after = (target.stored = await snapshot(target.root));
  (options.check ?? ((r: RawResponse) => assertRefused(request, r, options)))(res);
  expect(serverFailures(target.logs, logMark), `${describeRequest(request)}: the server logged a failure`).toEqual([]);
  expect(after, `${describeRequest(request)} changed stored data`).toEqual(before);
  await assertContained(target);
  return res;
}
