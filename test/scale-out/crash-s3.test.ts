/**
 * The crash model on S3 (SeaweedFS), as crash-loop.test.ts checks it on the filesystem: kill -9
 * at random moments while workers push images (monolithic and chunked blobs, manifests, tags)
 * and the server's GC runs; after each restart on the same bucket:
 *   - every manifest whose PUT was acknowledged (201) pulls whole, with every blob verified;
 *   - every blob record in the bucket reads back as bytes hashing to its digest: nothing is
 *     visible under a digest its bytes do not have, whatever the kill interrupted.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ObjectStore } from '../../registry-image/src/storage/object/object-store';
import { s3Bucket } from '../../registry-image/src/storage/object/s3-bucket';
import { sha256 } from '../helpers/oci-client';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { startSeaweed, type Seaweed } from '../helpers/seaweed';
import { randomImage, type Image } from '../reliability/crash-model';

const KILLS = 10;
const WORKERS = 3;
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

let seaweed: Seaweed | undefined;
let current: RunningRegistry | undefined;
afterAll(async () => {
  await current?.stop('SIGKILL');
  await seaweed?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One request; null when the server is gone (expected once it is killed). */
async function call(base: string, path: string, init: RequestInit = {}): Promise<Response | null> {
  try {
    return await fetch(new URL(path, base), init);
  } catch {
    return null;
  }
}

/** Pushes one image, chunked or not; resolves with it once the manifest PUT got 201, else null. */
async function pushImage(base: string, repo: string, tag: string, salt: string, errors: string[]): Promise<Image | null> {
  const { image, config, layers } = randomImage(salt);
  for (const [i, blob] of [config, ...layers].entries()) {
    const digest = sha256(blob);
    if (i % 2 === 0) {
      const res = await call(base, `/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: new Uint8Array(blob) });
      if (!res) return null;
      if (res.status !== 201) errors.push(`monolithic push: ${res.status} ${await res.text()}`);
      continue;
    }
    const start = await call(base, `/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    if (!start) return null;
    let location = start.headers.get('location')!;
    const half = Math.floor(blob.length / 2);
    for (const [from, to] of [[0, half], [half, blob.length]]) {
      const res = await call(base, location, { method: 'PATCH', body: new Uint8Array(blob.subarray(from, to)), headers: { 'Content-Range': `${from}-${to - 1}`, 'Content-Type': 'application/octet-stream' } });
      if (!res) return null;
      if (res.status !== 202) errors.push(`PATCH: ${res.status} ${await res.text()}`);
      location = res.headers.get('location') ?? location;
    }
    const done = await call(base, `${location}${location.includes('?') ? '&' : '?'}digest=${digest}`, { method: 'PUT' });
    if (!done) return null;
    if (done.status !== 201) errors.push(`finishing PUT: ${done.status} ${await done.text()}`);
  }
  const res = await call(base, `/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: new Uint8Array(image.manifest), headers: { 'Content-Type': MANIFEST_TYPE } });
  if (!res) return null;
  if (res.status !== 201) {
    errors.push(`manifest PUT: ${res.status} ${await res.text()}`);
    return null;
  }
  return image;
}

async function pullVerified(base: string, repo: string, tag: string, image: Image): Promise<string | null> {
  const m = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { headers: { Accept: MANIFEST_TYPE } });
  if (m.status !== 200) return `${repo}:${tag}: ${m.status}`;
  if (sha256(Buffer.from(await m.arrayBuffer())) !== image.digest) return `${repo}:${tag}: another manifest`;
  for (const blob of image.blobs) {
    const b = await fetch(`${base}/v2/${repo}/blobs/${blob.digest}`);
    if (b.status !== 200) return `${repo}:${tag} blob ${blob.digest}: ${b.status}`;
    if (sha256(Buffer.from(await b.arrayBuffer())) !== blob.digest) return `${repo}:${tag} blob ${blob.digest}: wrong bytes`;
  }
  return null;
}

describe('kill -9 on S3', () => {
  it(`keeps every acknowledged push and never shows a blob under a digest its bytes lack (${KILLS} kills)`, async () => {
    seaweed = await startSeaweed();
    const driver = seaweed.driver(await seaweed.createBucket(), 'crash');
    const storageDriver = { name: 's3', bucket: driver.bucket, regionendpoint: driver.regionEndpoint, rootdirectory: 'crash', forcepathstyle: true, secure: false, accesskey: 'k', secretkey: 's' };
    const errors: string[] = [];
    const acknowledged = new Map<string, Image>(); // "repo:tag" -> image (each tag pushed once)
    let n = 0;
    let records = 0;
    for (let life = 0; life < KILLS; life++) {
      current = await startRegistry({ config: { storage: { storageDriver, gc: true, gcDelay: '3s', gcInterval: '500ms' } } });
      const base = current.url;
      // Everything acknowledged in earlier lives is still there.
      for (const [ref, image] of acknowledged) {
        const [repo, tag] = ref.split(':');
        const problem = await pullVerified(base, repo, tag, image);
        if (problem) errors.push(`after restart ${life}: ${problem}`);
      }
      let alive = true;
      const workers = Array.from({ length: WORKERS }, async (_, w) => {
        while (alive) {
          const repo = `crash/w${w}`;
          const tag = `t${n++}`;
          const image = await pushImage(base, repo, tag, `${life}-${tag}-${randomBytes(4).toString('hex')}`, errors);
          // A 201 that arrived as the kill came counts too: it was acknowledged.
          if (image) acknowledged.set(`${repo}:${tag}`, image);
        }
      });
      await sleep(800 + Math.random() * 1500);
      alive = false;
      current.process.kill('SIGKILL');
      await Promise.all(workers);
      await current.stop('SIGKILL');
      // Every blob record reads back as bytes hashing to its digest.
      const store = new ObjectStore(s3Bucket(driver));
      records = 0;
      for await (const blob of store.listBlobs()) {
        const [algorithm] = blob.digest.split(':');
        const hash = createHash(algorithm);
        for await (const chunk of await store.openBlob(blob.digest)) hash.update(chunk as Buffer);
        if (`${algorithm}:${hash.digest('hex')}` !== blob.digest) errors.push(`blob record ${blob.digest} holds other bytes`);
        records++;
      }
    }
    current = await startRegistry({ config: { storage: { storageDriver } } });
    for (const [ref, image] of acknowledged) {
      const [repo, tag] = ref.split(':');
      const problem = await pullVerified(current.url, repo, tag, image);
      if (problem) errors.push(`at the end: ${problem}`);
    }
    console.log(`[crash-s3] ${KILLS} kills; ${acknowledged.size} images acknowledged and pulled whole; ${records} blob records verified`);
    expect(errors).toEqual([]);
    expect(acknowledged.size).toBeGreaterThan(KILLS);
  }, 300_000);
});
