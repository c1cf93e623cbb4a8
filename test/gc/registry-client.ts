/**
 * What the GC and quota suites do over HTTP: push blobs, images (tagged or by digest), indexes
 * and referrers the way clients do, leave uploads unfinished, and pull things back whole
 * (every byte checked against its digest). Plus the bytes a store's folder holds on disk.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../helpers/oci-client';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const ACCEPT = `${OCI_MANIFEST}, ${OCI_INDEX}`;

export interface Blob {
  digest: string;
  bytes: Buffer;
}

export interface Pushed {
  repository: string;
  /** The tag, or the digest for a push by digest. */
  reference: string;
  digest: string;
  body: Buffer;
  mediaType: string;
  blobs: Blob[];
}

export function blobOf(bytes: Buffer): Blob {
  return { digest: sha256(bytes), bytes };
}

export function randomBlob(size: number): Blob {
  return blobOf(randomBytes(size));
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

async function fail(what: string, res: Response): Promise<never> {
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { errors?: Array<{ code?: string }> }).errors?.[0]?.code;
  } catch {
    code = undefined;
  }
  throw new HttpError(res.status, code, `${what}: ${res.status} ${text}`);
}

/** Monolithic push (POST ?digest=), 201 expected. */
export async function pushBlob(base: string, repository: string, blob: Blob): Promise<void> {
  const res = await fetch(`${base}/v2/${repository}/blobs/uploads/?digest=${blob.digest}`, { method: 'POST', body: blob.bytes, headers: { 'Content-Type': 'application/octet-stream' } });
  if (res.status !== 201) await fail(`push blob ${blob.digest} to ${repository}`, res);
}

/** POST, PATCH, PUT: the chunked flow, 201 expected. */
export async function pushBlobChunked(base: string, repository: string, blob: Blob): Promise<void> {
  const start = await fetch(`${base}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) await fail(`start upload to ${repository}`, start);
  const location = new URL(start.headers.get('location')!, base);
  const patch = await fetch(location, { method: 'PATCH', body: blob.bytes, headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${blob.bytes.length - 1}` } });
  if (patch.status !== 202) await fail(`patch upload to ${repository}`, patch);
  const finish = new URL(patch.headers.get('location')!, base);
  finish.searchParams.set('digest', blob.digest);
  const put = await fetch(finish, { method: 'PUT' });
  if (put.status !== 201) await fail(`finish upload to ${repository}`, put);
}

/** HEAD /v2/<repo>/blobs/<digest>: whether the repository has the blob. */
export async function hasBlob(base: string, repository: string, digest: string): Promise<boolean> {
  const res = await fetch(`${base}/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
  if (res.status !== 200 && res.status !== 404) await fail(`HEAD blob ${digest} in ${repository}`, res);
  return res.status === 200;
}

/** Starts an upload and sends `bytes` of it, then leaves it: an abandoned upload session. */
export async function abandonUpload(base: string, repository: string, size: number): Promise<string> {
  const start = await fetch(`${base}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) await fail(`start upload to ${repository}`, start);
  const location = new URL(start.headers.get('location')!, base);
  const patch = await fetch(location, { method: 'PATCH', body: randomBytes(size), headers: { 'Content-Type': 'application/octet-stream' } });
  if (patch.status !== 202) await fail(`patch upload to ${repository}`, patch);
  return location.pathname;
}

export async function uploadStatus(base: string, uploadPath: string): Promise<number> {
  return (await fetch(`${base}${uploadPath}`)).status;
}

export async function putManifest(base: string, repository: string, reference: string, body: Buffer, mediaType: string): Promise<string> {
  const res = await fetch(`${base}/v2/${repository}/manifests/${reference}`, { method: 'PUT', body, headers: { 'Content-Type': mediaType } });
  if (res.status !== 201) await fail(`put manifest ${repository}:${reference}`, res);
  return res.headers.get('docker-content-digest')!;
}

export function imageManifest(config: Blob, layers: Blob[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.bytes.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.bytes.length })),
      ...extra,
    }),
  );
}

/**
 * Pushes config and layers (skipping those a HEAD finds, as clients do), then the manifest
 * under `tag`, or by digest when `tag` is undefined.
 */
export async function pushImage(base: string, repository: string, tag: string | undefined, layers: Blob[], extra: Record<string, unknown> = {}): Promise<Pushed> {
  const config = blobOf(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, salt: randomBytes(8).toString('hex') })));
  for (const blob of [config, ...layers]) if (!(await hasBlob(base, repository, blob.digest))) await pushBlob(base, repository, blob);
  const body = imageManifest(config, layers, extra);
  const digest = sha256(body);
  await putManifest(base, repository, tag ?? digest, body, OCI_MANIFEST);
  return { repository, reference: tag ?? digest, digest, body, mediaType: OCI_MANIFEST, blobs: [config, ...layers] };
}

/** An index of `children` (already pushed to `repository`) under `tag`. */
export async function pushIndex(base: string, repository: string, tag: string | undefined, children: Pushed[]): Promise<Pushed> {
  const body = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: children.map((c, i) => ({ mediaType: c.mediaType, digest: c.digest, size: c.body.length, platform: { architecture: `arch${i}`, os: 'linux' } })),
    }),
  );
  const digest = sha256(body);
  await putManifest(base, repository, tag ?? digest, body, OCI_INDEX);
  return { repository, reference: tag ?? digest, digest, body, mediaType: OCI_INDEX, blobs: [] };
}

/** An untagged artifact whose subject is `subject` (a signature, an SBOM). */
export async function pushReferrer(base: string, repository: string, subject: Pushed, artifactType = 'application/vnd.example.signature'): Promise<Pushed> {
  return pushImage(base, repository, undefined, [randomBlob(64)], {
    artifactType,
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.body.length },
  });
}

export async function referrerDigests(base: string, repository: string, subject: string): Promise<string[]> {
  const res = await fetch(`${base}/v2/${repository}/referrers/${subject}`);
  if (res.status !== 200) await fail(`referrers of ${subject}`, res);
  return ((await res.json()) as { manifests: Array<{ digest: string }> }).manifests.map((m) => m.digest);
}

export async function manifestStatus(base: string, repository: string, reference: string): Promise<number> {
  const res = await fetch(`${base}/v2/${repository}/manifests/${reference}`, { headers: { Accept: ACCEPT } });
  await res.arrayBuffer();
  return res.status;
}

export async function blobStatus(base: string, repository: string, digest: string): Promise<number> {
  const res = await fetch(`${base}/v2/${repository}/blobs/${digest}`);
  await res.arrayBuffer();
  return res.status;
}

/**
 * Pulls `pushed` by its reference and every blob (and child manifest) it names, checking each
 * against its digest. Throws naming the first thing that is missing or wrong.
 */
export async function pullWhole(base: string, pushed: Pushed): Promise<void> {
  const res = await fetch(`${base}/v2/${pushed.repository}/manifests/${pushed.reference}`, { headers: { Accept: ACCEPT } });
  if (res.status !== 200) await fail(`pull ${pushed.repository}:${pushed.reference}`, res);
  const body = Buffer.from(await res.arrayBuffer());
  if (sha256(body) !== pushed.digest) throw new Error(`${pushed.repository}:${pushed.reference} has digest ${sha256(body)}, pushed ${pushed.digest}`);
  const manifest = JSON.parse(body.toString('utf8')) as { config?: { digest: string }; layers?: Array<{ digest: string }>; manifests?: Array<{ digest: string }> };
  for (const d of [manifest.config?.digest, ...(manifest.layers ?? []).map((l) => l.digest)].filter((d): d is string => !!d)) {
    const blob = await fetch(`${base}/v2/${pushed.repository}/blobs/${d}`);
    if (blob.status !== 200) await fail(`pull blob ${d} of ${pushed.repository}:${pushed.reference}`, blob);
    const bytes = Buffer.from(await blob.arrayBuffer());
    if (sha256(bytes) !== d) throw new Error(`blob ${d} of ${pushed.repository} came back as ${sha256(bytes)}`);
  }
  for (const child of manifest.manifests ?? []) {
    const childRes = await fetch(`${base}/v2/${pushed.repository}/manifests/${child.digest}`, { headers: { Accept: ACCEPT } });
    if (childRes.status !== 200) await fail(`pull child ${child.digest} of ${pushed.repository}:${pushed.reference}`, childRes);
    const childBody = Buffer.from(await childRes.arrayBuffer());
    await pullWhole(base, { repository: pushed.repository, reference: child.digest, digest: sha256(childBody), body: childBody, mediaType: OCI_MANIFEST, blobs: [] });
  }
}

/** Bytes of content on disk: stored blobs and upload data (FsStore layout, storage/paths.ts). */
export async function contentBytesOnDisk(root: string): Promise<number> {
  // The layout of storage/paths.ts: blobs/..., and uploads/<id> beside its <id>.json.
  return (await folderBytes(join(root, 'blobs'))) + (await folderBytes(join(root, 'uploads'), (name) => !name.endsWith('.json')));
}

async function folderBytes(dir: string, counts: (name: string) => boolean = () => true): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += await folderBytes(path, counts);
    else if (e.isFile() && counts(e.name)) total += (await fs.stat(path)).size;
  }
  return total;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
