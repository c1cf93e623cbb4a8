/**
 * Three `perch serve` processes on one S3 bucket (SeaweedFS), as several Kubernetes replicas
 * behind a Service run: a client that sends each request to the next replica in turn pushes
 * chunked uploads whose chunks land on different replicas, pulls from one replica what another
 * just acknowledged, pushes while the replicas collect garbage (one at a time, by their lease),
 * and goes on when one replica is killed with -9 in the middle of a chunk. At the end every
 * acknowledged image is pulled from every replica still alive and verified byte for byte.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../helpers/oci-client';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { startSeaweed, type Seaweed } from '../helpers/seaweed';
import { randomImage, type Image } from '../reliability/crash-model';

const REPLICAS = 3;
const REPO = 'scale/app';

let seaweed: Seaweed;
let replicas: RunningRegistry[];
let storageDriver: Record<string, unknown>;

/** Each request to the next live replica. */
let turn = 0;
function next(): RunningRegistry {
  const live = replicas.filter((r) => r.process.exitCode === null && r.process.signalCode === null);
  return live[turn++ % live.length];
}
const absolute = (replica: RunningRegistry, location: string) => new URL(location, replica.url).toString();

async function startReplica(): Promise<RunningRegistry> {
  return startRegistry({
    config: {
      storage: { storageDriver, gc: true, gcDelay: '8s', gcInterval: '2s' },
      log: { level: 'debug' },
    },
  });
}

/** A chunked upload, each request (POST, each PATCH, PUT) on the next replica. */
async function chunkedPush(repo: string, bytes: Buffer, chunks: number): Promise<string> {
  const digest = sha256(bytes);
  let r = next();
  let res = await fetch(`${r.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  expect(res.status).toBe(202);
  let location = res.headers.get('location')!;
  const size = Math.ceil(bytes.length / chunks);
  for (let offset = 0; offset < bytes.length; offset += size) {
    const chunk = bytes.subarray(offset, Math.min(bytes.length, offset + size));
    r = next();
    res = await fetch(absolute(r, location), {
      method: 'PATCH',
      body: new Uint8Array(chunk),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + chunk.length - 1}`, 'Content-Length': String(chunk.length) },
    });
    expect(res.status, `PATCH at ${offset} on ${r.host}: ${await res.clone().text()}`).toBe(202);
    location = res.headers.get('location')!;
  }
  r = next();
  const sep = location.includes('?') ? '&' : '?';
  res = await fetch(`${absolute(r, location)}${sep}digest=${digest}`, { method: 'PUT' });
  expect(res.status, `finishing PUT on ${r.host}: ${await res.clone().text()}`).toBe(201);
  return digest;
}

async function monolithicPush(repo: string, bytes: Buffer): Promise<void> {
  const r = next();
  const res = await fetch(`${r.url}/v2/${repo}/blobs/uploads/?digest=${sha256(bytes)}`, { method: 'POST', body: new Uint8Array(bytes) });
  expect(res.status, `monolithic push on ${r.host}`).toBe(201);
}

async function putManifest(repo: string, tag: string, image: Image): Promise<RunningRegistry> {
  const r = next();
  const res = await fetch(`${r.url}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: new Uint8Array(image.manifest), headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
  expect(res.status, `manifest PUT on ${r.host}: ${await res.clone().text()}`).toBe(201);
  return r;
}

/** Pulls the tag from `replica` and checks the manifest and every blob against the image. */
async function verifyPull(replica: RunningRegistry, repo: string, tag: string, image: Image): Promise<void> {
  const m = await fetch(`${replica.url}/v2/${repo}/manifests/${tag}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  expect(m.status, `${repo}:${tag} on ${replica.host}`).toBe(200);
  expect(sha256(Buffer.from(await m.arrayBuffer()))).toBe(image.digest);
  for (const blob of image.blobs) {
    const b = await fetch(`${replica.url}/v2/${repo}/blobs/${blob.digest}`);
    expect(b.status, `${blob.digest} of ${repo}:${tag} on ${replica.host}`).toBe(200);
    expect(sha256(Buffer.from(await b.arrayBuffer()))).toBe(blob.digest);
  }
}

describe('three replicas on one bucket', () => {
  beforeAll(async () => {
    seaweed = await startSeaweed();
    const driver = seaweed.driver(await seaweed.createBucket());
    storageDriver = { name: 's3', bucket: driver.bucket, region: 'us-east-1', regionendpoint: driver.regionEndpoint, rootdirectory: 'registry', forcepathstyle: true, secure: false, accesskey: 'k', secretkey: 's' };
    replicas = await Promise.all(Array.from({ length: REPLICAS }, startReplica));
  }, 90_000);
  afterAll(async () => {
    await Promise.all((replicas ?? []).map((r) => r.stop('SIGKILL')));
    await seaweed?.stop();
  });

  const acknowledged: Array<{ repo: string; tag: string; image: Image }> = [];

  it('continues a chunked upload on whichever replica gets the next chunk', async () => {
    const sizes = [3 * 1024 * 1024 + 17, 12 * 1024 * 1024 + 5, 64 * 1024];
    for (const [i, size] of sizes.entries()) {
      const bytes = randomBytes(size);
      const digest = await chunkedPush(REPO, bytes, 3 + i);
      // Pulled at once from every replica, whoever finished it.
      for (const r of replicas) {
        const res = await fetch(`${r.url}/v2/${REPO}/blobs/${digest}`);
        expect(res.status).toBe(200);
        expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(digest);
      }
    }
  }, 120_000);

  it('shows a tag pushed through one replica on every other one at once', async () => {
    for (let i = 0; i < 6; i++) {
      const { image, config, layers } = randomImage(`at-once-${i}`);
      for (const blob of [config, ...layers]) await monolithicPush(REPO, blob);
      const via = await putManifest(REPO, `v${i}`, image);
      acknowledged.push({ repo: REPO, tag: `v${i}`, image });
      for (const r of replicas.filter((x) => x !== via)) {
        const res = await fetch(`${r.url}/v2/${REPO}/manifests/v${i}`, { method: 'HEAD', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
        expect(res.status, `v${i} on ${r.host} right after the 201 from ${via.host}`).toBe(200);
        expect(res.headers.get('docker-content-digest')).toBe(image.digest);
      }
    }
  }, 120_000);

  it('keeps every acknowledged push while the replicas collect garbage, one at a time', async () => {
    // Garbage for the collectors: blobs no manifest references, and a manifest untagged.
    for (let i = 0; i < 10; i++) await monolithicPush('scale/garbage', randomBytes(2048));
    const started = Date.now();
    // 20 s of pushes: several GC rounds (every 2 s, grace 8 s) on all three replicas.
    let n = 0;
    while (Date.now() - started < 20_000) {
      const repo = `scale/team-${n % 3}`;
      const { image, config, layers } = randomImage(`under-gc-${n}`);
      for (const blob of [config, ...layers]) await monolithicPush(repo, blob);
      await putManifest(repo, `t${n}`, image);
      acknowledged.push({ repo, tag: `t${n}`, image });
      n++;
    }
    // The collectors ran, and never two at once: each run's span [end - duration, end].
    const runs = replicas.flatMap((r, i) =>
      r.logs
        .filter((l) => l.includes('"message":"gc finished"'))
        .map((l) => JSON.parse(l) as { time: string; duration_ms: number; blobsRemoved: number })
        .map((e) => ({ replica: i, end: Date.parse(e.time), start: Date.parse(e.time) - e.duration_ms, removed: e.blobsRemoved })),
    );
    expect(runs.length, 'GC runs in 20 s over three replicas').toBeGreaterThan(3);
    console.log(`[replicas] GC runs by replica: ${[0, 1, 2].map((i) => runs.filter((r) => r.replica === i).length).join(', ')}; ${acknowledged.length} images pushed`);
    expect(new Set(runs.map((r) => r.replica)).size, 'the lease passes between replicas').toBeGreaterThanOrEqual(2);
    runs.sort((a, b) => a.start - b.start);
    for (let i = 1; i < runs.length; i++) expect(runs[i].start, `GC run ${i} began before run ${i - 1} ended`).toBeGreaterThanOrEqual(runs[i - 1].end - 5);
    expect(runs.reduce((sum, r) => sum + r.removed, 0), 'the unreferenced blobs were collected').toBeGreaterThanOrEqual(10);
    for (const a of acknowledged) await verifyPull(replicas[acknowledged.indexOf(a) % REPLICAS], a.repo, a.tag, a.image);
  }, 120_000);

  it('loses nothing acknowledged when a replica is killed with -9 in the middle of a chunk', async () => {
    const victim = replicas[2];
    const bytes = randomBytes(48 * 1024 * 1024);
    const digest = sha256(bytes);
    // Start the session and send a first chunk through the victim, acknowledged.
    let res = await fetch(`${victim.url}/v2/${REPO}/blobs/uploads/`, { method: 'POST' });
    let location = res.headers.get('location')!;
    const first = 16 * 1024 * 1024;
    res = await fetch(absolute(victim, location), { method: 'PATCH', body: new Uint8Array(bytes.subarray(0, first)), headers: { 'Content-Range': `0-${first - 1}`, 'Content-Type': 'application/octet-stream' } });
    expect(res.status).toBe(202);
    location = res.headers.get('location')!;
    // The second chunk: the victim dies while its bytes arrive.
    const inFlight = fetch(absolute(victim, location), {
      method: 'PATCH',
      body: new Uint8Array(bytes.subarray(first)),
      headers: { 'Content-Range': `${first}-${bytes.length - 1}`, 'Content-Type': 'application/octet-stream' },
    }).then(
      (r) => r.status,
      () => 'no answer',
    );
    await new Promise((r) => setTimeout(r, 150));
    await victim.stop('SIGKILL');
    expect(await inFlight).toBe('no answer');
    // Another replica says where the session stands: what was acknowledged, nothing of the lost chunk.
    const survivor = next();
    res = await fetch(absolute(survivor, location));
    expect(res.status).toBe(204);
    const range = res.headers.get('range')!;
    const acked = Number(range.split('-')[1]) + 1;
    expect(acked).toBe(first);
    // The client resumes there on the survivors and finishes.
    res = await fetch(absolute(next(), location), { method: 'PATCH', body: new Uint8Array(bytes.subarray(acked)), headers: { 'Content-Range': `${acked}-${bytes.length - 1}`, 'Content-Type': 'application/octet-stream' } });
    expect(res.status).toBe(202);
    location = res.headers.get('location')!;
    res = await fetch(`${absolute(next(), location)}${location.includes('?') ? '&' : '?'}digest=${digest}`, { method: 'PUT' });
    expect(res.status, await res.clone().text()).toBe(201);
    // Everything acknowledged before, on both survivors, byte for byte.
    for (const r of replicas.filter((x) => x !== victim)) {
      const b = await fetch(`${r.url}/v2/${REPO}/blobs/${digest}`);
      expect(sha256(Buffer.from(await b.arrayBuffer()))).toBe(digest);
      for (const a of acknowledged) await verifyPull(r, a.repo, a.tag, a.image);
    }
    // A replacement replica (as Kubernetes would start) serves it all too.
    replicas[2] = await startReplica();
    for (const a of acknowledged) await verifyPull(replicas[2], a.repo, a.tag, a.image);
  }, 180_000);
});
