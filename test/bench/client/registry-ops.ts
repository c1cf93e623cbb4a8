/**
 * The registry operations the scenarios time, as the distribution spec describes them
 * ("Pushing blobs": POST then PUT, or POST, PATCH... then PUT; "Pushing manifests";
 * "Pulling"). No HEAD-before-push and no mount: every byte is sent, on every server alike.
 */
import { HttpClient, HttpError } from './http';
import { MANIFEST_TYPE, type Blob, type Image } from './content';

/** The upload URL from a POST/PATCH response, with `digest` added for the closing PUT. */
function uploadUrl(client: HttpClient, location: string | string[] | undefined, digest?: string): string {
  if (typeof location !== 'string') throw new HttpError('upload response has no Location header');
  const url = client.resolve(location);
  if (digest) url.searchParams.set('digest', digest);
  return url.href;
}

/** POST to open an upload session; resolves with its Location. */
export async function startUpload(client: HttpClient, repo: string): Promise<string> {
  const res = await client.expect(202, { method: 'POST', url: `/v2/${repo}/blobs/uploads/` });
  return uploadUrl(client, res.headers.location);
}

/** Monolithic upload: POST, then one PUT carrying the whole blob and its digest. */
export async function pushBlob(client: HttpClient, repo: string, blob: Blob): Promise<void> {
  const location = await startUpload(client, repo);
  await client.expect(201, {
    method: 'PUT',
    url: uploadUrl(client, location, blob.digest),
    headers: { 'Content-Type': 'application/octet-stream' },
    body: blob.data,
  });
}

/** Chunked upload: POST, one PATCH per chunk with its Content-Range, then a PUT with the digest. */
export async function pushBlobChunked(client: HttpClient, repo: string, blob: Blob, chunkSize: number): Promise<void> {
  let location = await startUpload(client, repo);
  for (let start = 0; start < blob.size; start += chunkSize) {
    const chunk = blob.data.subarray(start, Math.min(blob.size, start + chunkSize));
    const res = await client.expect(202, {
      method: 'PATCH',
      url: location,
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${start}-${start + chunk.length - 1}` },
      body: chunk,
    });
    location = uploadUrl(client, res.headers.location);
  }
  await client.expect(201, { method: 'PUT', url: uploadUrl(client, location, blob.digest) });
}

export async function putManifest(client: HttpClient, image: Image): Promise<void> {
  await client.expect(201, {
    method: 'PUT',
    url: `/v2/${image.repo}/manifests/${image.tag}`,
    headers: { 'Content-Type': MANIFEST_TYPE },
    body: image.manifest,
  });
}

export interface PushTimes {
  /** Whole image, first POST to manifest acknowledged (ms). */
  totalMs: number;
  /** The manifest PUT alone (ms). */
  manifestMs: number;
}

/** Pushes an image the way clients do: its blobs in parallel, then the manifest. */
export async function pushImage(client: HttpClient, image: Image): Promise<PushTimes> {
  const t0 = performance.now();
  await Promise.all([image.config, ...image.layers].map((b) => pushBlob(client, image.repo, b)));
  const t1 = performance.now();
  await putManifest(client, image);
  const t2 = performance.now();
  return { totalMs: t2 - t0, manifestMs: t2 - t1 };
}

export async function getManifest(client: HttpClient, image: Image): Promise<Buffer> {
  const res = await client.expect(200, {
    method: 'GET',
    url: `/v2/${image.repo}/manifests/${image.tag}`,
    headers: { Accept: MANIFEST_TYPE },
  });
  if (!res.body || res.body.length !== image.manifest.length) {
    throw new HttpError(`GET manifest ${image.repo}:${image.tag}: ${res.body?.length} bytes, pushed ${image.manifest.length}`);
  }
  return res.body;
}

/** Pulls a blob, counting its bytes; a short or long body is an error. */
export async function pullBlob(client: HttpClient, repo: string, blob: Blob): Promise<void> {
  const res = await client.expect(200, { method: 'GET', url: `/v2/${repo}/blobs/${blob.digest}`, collect: false });
  if (res.bytes !== blob.size) throw new HttpError(`GET blob ${blob.digest}: ${res.bytes} bytes, pushed ${blob.size}`);
}

export interface PullTimes {
  totalMs: number;
  manifestMs: number;
}

/** Pulls an image: manifest by tag, then its blobs in parallel. */
export async function pullImage(client: HttpClient, image: Image): Promise<PullTimes> {
  const t0 = performance.now();
  await getManifest(client, image);
  const t1 = performance.now();
  await Promise.all([image.config, ...image.layers].map((b) => pullBlob(client, image.repo, b)));
  return { totalMs: performance.now() - t0, manifestMs: t1 - t0 };
}
