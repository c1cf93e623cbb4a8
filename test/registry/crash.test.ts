/**
 * DESIGN.md's crash model, tested on the bundled server: kill -9 at random moments during
 * chunked PATCH and PUT traffic, restart on the same data folder, and check that every image
 * whose manifest PUT was acknowledged pulls back whole, and that every file in the blob store
 * hashes to its own name (no partial blob is ever visible under a digest).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { sha256 } from '../helpers/oci-client';

interface Acked {
  repo: string;
  tag: string;
  digest: string;
  blobs: string[];
}

const ROUNDS = 6;
let current: RunningRegistry | undefined;
afterAll(async () => {
  await current?.stop('SIGKILL');
});

/** Pushes one image with chunked uploads; resolves with what the registry acknowledged. */
async function pushChunked(base: string, repo: string, tag: string): Promise<Acked> {
  const layers = [randomBytes(256 * 1024 + Math.floor(Math.random() * 1024 * 1024)), randomBytes(64 * 1024)];
  const config = Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', salt: randomBytes(8).toString('hex') }));
  const digests: string[] = [];
  for (const blob of [config, ...layers]) {
    const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    if (start.status !== 202) throw new Error(`POST ${start.status}`);
    let location = start.headers.get('location')!;
    const chunk = 128 * 1024;
    for (let offset = 0; offset < blob.length; offset += chunk) {
      const part = blob.subarray(offset, offset + chunk);
      const res = await fetch(new URL(location, base), { method: 'PATCH', body: part, headers: { 'Content-Range': `${offset}-${offset + part.length - 1}`, 'Content-Type': 'application/octet-stream' } });
      if (res.status !== 202) throw new Error(`PATCH ${res.status}`);
      location = res.headers.get('location')!;
    }
    const digest = sha256(blob);
    const done = await fetch(new URL(`${location}?digest=${digest}`, base), { method: 'PUT' });
    if (done.status !== 201) throw new Error(`PUT blob ${done.status}`);
    digests.push(digest);
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digests[0], size: config.length },
    layers: layers.map((l, i) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digests[i + 1], size: l.length })),
  });
  const put = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
  if (put.status !== 201) throw new Error(`PUT manifest ${put.status}`);
  return { repo, tag, digest: sha256(manifest), blobs: digests };
}

async function verifyImage(base: string, image: Acked): Promise<void> {
  const res = await fetch(`${base}/v2/${image.repo}/manifests/${image.tag}`);
  expect(res.status, `${image.repo}:${image.tag}`).toBe(200);
  expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(image.digest);
  for (const blob of image.blobs) {
    const b = await fetch(`${base}/v2/${image.repo}/blobs/${blob}`);
    expect(b.status).toBe(200);
    expect(sha256(Buffer.from(await b.arrayBuffer()))).toBe(blob);
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('crash safety of the bundled server', () => {
  it(`loses nothing acknowledged across ${ROUNDS} kill -9s during uploads`, async () => {
    const acked: Acked[] = [];
    let dataDir: string | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      current = await startRegistry({ dataDir, config: { log: { level: 'warn' } } });
      dataDir = current.dataDir;
      // Everything acknowledged before this restart is still there, whole.
      for (const image of acked) await verifyImage(current.url, image);
      let stop = false;
      const workers = Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          try {
            acked.push(await pushChunked(current!.url, `crash/w${w}`, `r${round}-${i}`));
          } catch {
            return; // the server died under us: expected
          }
        }
      });
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
      await current.stop('SIGKILL');
      stop = true;
      await Promise.all(workers);
    }
    current = await startRegistry({ dataDir });
    for (const image of acked) await verifyImage(current.url, image);
    expect(acked.length).toBeGreaterThan(ROUNDS);
    // Every file in the blob store hashes to its name.
    const shaDir = join(dataDir!, 'blobs', 'sha256');
    let files = 0;
    for (const prefix of readdirSync(shaDir)) {
      for (const hex of readdirSync(join(shaDir, prefix))) {
        expect(await hashFile(join(shaDir, prefix, hex))).toBe(hex);
        files++;
      }
    }
    expect(files).toBeGreaterThanOrEqual(acked.length);
  }, 180_000);
});
