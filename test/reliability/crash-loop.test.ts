/**
 * DESIGN.md's crash model under a mixed workload, on the bundled server: kill -9 at random
 * moments while workers push (monolithic and chunked), pull, move tags, delete by tag and by
 * digest, chunked uploads are left open, and the server's own GC runs every half second.
 * After every restart on the same data folder:
 *   - every file in the blob store hashes to its own name (no partial blob under a digest);
 *   - every tag points at a manifest it may point at (crash-model.ts), which pulls whole with
 *     verified digests;
 *   - every open chunked upload resumes at the offset the server acknowledged, whether the
 *     client asks for it (GET) or resends from its own count (PATCH with Content-Range), and
 *     finishes under the digest of the client's bytes.
 * Any 5xx, unexpected status or failed request while the server was up is an error too.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from '../helpers/oci-client';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { tempDir } from '../helpers/temp-dir';
import { randomImage, TagModel, type Image, type OpenUpload } from './crash-model';

const KILLS = 24;
const WORKERS = 3;
const TAGS = ['a', 'b', 'c', 'd'];
const CHUNK = 64 * 1024;
/** The chunks of uploads left open: big enough that a kill lands inside one. */
const OPEN_CHUNK = 256 * 1024;
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

let current: RunningRegistry | undefined;
afterAll(async () => {
  await current?.stop('SIGKILL');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];

/** One life of the server: requests made while it is up, and the errors they found. */
class Life {
  killed = false;
  readonly errors: string[];
  constructor(
    readonly base: string,
    errors: string[],
  ) {
    this.errors = errors;
  }

  /** A request; null once the server is gone (a failure before the kill is an error). */
  async call(path: string, init: RequestInit = {}): Promise<Response | null> {
    try {
      return await fetch(new URL(path, this.base), init);
    } catch (err) {
      if (!this.killed) this.errors.push(`${init.method ?? 'GET'} ${path}: ${(err as Error).message}`);
      return null;
    }
  }

  /** The answer must be `status`; anything else while the server is up is an error. */
  async expect(path: string, init: RequestInit, status: number): Promise<Response | null> {
    const res = await this.call(path, init);
    if (!res) return null;
    if (res.status !== status) {
      this.errors.push(`${init.method ?? 'GET'} ${path}: ${res.status} ${await res.text()}, expected ${status}`);
      return null;
    }
    return res;
  }
}

async function pushBlobs(life: Life, repo: string, blobs: Buffer[], chunked: boolean): Promise<boolean> {
  for (const blob of blobs) {
    const digest = sha256(blob);
    if (!chunked) {
      if (!(await life.expect(`/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: blob }, 201))) return false;
      continue;
    }
    const start = await life.expect(`/v2/${repo}/blobs/uploads/`, { method: 'POST' }, 202);
    if (!start) return false;
    let location = start.headers.get('location')!;
    for (let offset = 0; offset < blob.length; offset += CHUNK) {
      const part = blob.subarray(offset, offset + CHUNK);
      const res = await life.expect(location, { method: 'PATCH', body: part, headers: { 'Content-Range': `${offset}-${offset + part.length - 1}` } }, 202);
      if (!res) return false;
      location = res.headers.get('location')!;
    }
    const sep = location.includes('?') ? '&' : '?';
    if (!(await life.expect(`${location}${sep}digest=${digest}`, { method: 'PUT' }, 201))) return false;
  }
  return true;
}

async function putManifest(life: Life, model: TagModel, repo: string, tag: string, image: Image): Promise<void> {
  model.maybe(tag, image);
  const res = await life.expect(`/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: image.manifest, headers: { 'Content-Type': MANIFEST_TYPE } }, 201);
  if (res) model.settle(tag, image);
}

/** Pulls the manifest under `ref` and every blob it names; false when something does not match. */
async function pullWhole(life: Life, repo: string, image: Image, ref = image.digest): Promise<boolean> {
  const res = await life.expect(`/v2/${repo}/manifests/${ref}`, {}, 200);
  if (!res) return false;
  const body = Buffer.from(await res.arrayBuffer());
  if (sha256(body) !== image.digest) {
    life.errors.push(`${repo}:${ref} pulled ${sha256(body)}, expected ${image.digest}`);
    return false;
  }
  for (const blob of image.blobs) {
    const b = await life.expect(`/v2/${repo}/blobs/${blob.digest}`, {}, 200);
    if (!b) return false;
    const got = sha256(Buffer.from(await b.arrayBuffer()));
    if (got !== blob.digest) {
      life.errors.push(`${repo} blob ${blob.digest} reads as ${got}`);
      return false;
    }
  }
  return true;
}

/** One worker's repository: a random sequence of pushes, moves, deletes and pulls until the kill. */
async function work(life: Life, repo: string, model: TagModel, counts: Record<string, number>): Promise<void> {
  for (let i = 0; !life.killed; i++) {
    const tag = pick(TAGS);
    const certain = model.certain();
    const op = pick(['push', 'push-chunked', 'move', 'delete-tag', 'delete-digest', 'pull', 'pull']);
    counts[op] = (counts[op] ?? 0) + 1;
    if (op === 'push' || op === 'push-chunked') {
      const { image, config, layers } = randomImage(`${repo}-${i}-${Math.random()}`);
      if (!(await pushBlobs(life, repo, [config, ...layers], op === 'push-chunked'))) return;
      await putManifest(life, model, repo, tag, image);
    } else if (op === 'move' && certain.length) {
      await putManifest(life, model, repo, tag, pick(certain)[1]);
    } else if (op === 'delete-tag' && certain.length) {
      const [victim] = pick(certain);
      model.maybe(victim, null);
      if (await life.expect(`/v2/${repo}/manifests/${victim}`, { method: 'DELETE' }, 202)) model.settle(victim, null);
    } else if (op === 'delete-digest' && certain.length) {
      const [, image] = pick(certain);
      model.dropDigest(image.digest);
      if (await life.expect(`/v2/${repo}/manifests/${image.digest}`, { method: 'DELETE' }, 202)) {
        for (const [tag2, states] of model.entries()) if ([...states].some((s) => s?.digest === image.digest)) model.settle(tag2, null);
      }
    } else if (op === 'pull' && certain.length) {
      const [t, image] = pick(certain);
      await pullWhole(life, repo, image, t);
    }
  }
}

/** A chunk sent as a slow network sends it: 16 KiB at a time, so a kill often lands inside it. */
function trickle(part: Buffer): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    async pull(controller) {
      if (offset >= part.length) return controller.close();
      await sleep(3);
      controller.enqueue(part.subarray(offset, (offset += 16 * 1024)));
    },
  });
}

/** Starts chunked uploads and sends their chunks slowly, leaving them open for the next restart. */
async function openUploads(life: Life, open: OpenUpload[]): Promise<void> {
  while (!life.killed) {
    const start = await life.expect('/v2/crash/uploads/blobs/uploads/', { method: 'POST' }, 202);
    if (!start) return;
    const upload: OpenUpload = { repo: 'crash/uploads', location: start.headers.get('location')!, bytes: randomBytes(300 * 1024 + Math.floor(Math.random() * 1500 * 1024)), acknowledged: 0 };
    open.push(upload);
    while (upload.acknowledged < upload.bytes.length) {
      const part = upload.bytes.subarray(upload.acknowledged, upload.acknowledged + OPEN_CHUNK);
      upload.unanswered = part.length;
      const res = await life.call(upload.location, { method: 'PATCH', body: trickle(part), duplex: 'half', headers: { 'Content-Range': `${upload.acknowledged}-${upload.acknowledged + part.length - 1}` } } as RequestInit);
      if (!res) return;
      if (res.status !== 202) {
        life.errors.push(`PATCH ${upload.location}: ${res.status} ${await res.text()}`);
        return;
      }
      upload.acknowledged += part.length;
      upload.unanswered = undefined;
      await sleep(Math.random() * 30);
    }
  }
}

/** Resumes an upload left open by the kill, one way or the other, and finishes it; true when it stored the client's bytes. */
async function resume(life: Life, upload: OpenUpload, how: 'ask' | 'resend'): Promise<boolean> {
  const { location, bytes } = upload;
  let from = upload.acknowledged;
  if (how === 'ask') {
    const status = await life.call(location);
    if (!status) return false;
    if (status.status === 404 && upload.acknowledged === 0) return false; // nothing acknowledged: the session may be gone
    if (status.status !== 204) {
      life.errors.push(`GET ${location} after restart: ${status.status} ${await status.text()}`);
      return false;
    }
    const range = /^0-(\d+)$/.exec(status.headers.get('range') ?? '');
    const offset = range && !(range[1] === '0' && upload.acknowledged === 0) ? Number(range[1]) + 1 : 0;
    const allowed = [upload.acknowledged, upload.acknowledged + (upload.unanswered ?? 0)];
    if (!allowed.includes(offset)) {
      life.errors.push(`upload ${location} resumed at ${offset}, but the client was acknowledged ${upload.acknowledged} (+${upload.unanswered ?? 0} unanswered)`);
      return false;
    }
    from = offset;
  }
  if (from < bytes.length) {
    const res = await life.call(location, { method: 'PATCH', body: bytes.subarray(from), headers: { 'Content-Range': `${from}-${bytes.length - 1}` } });
    if (!res) return false;
    if (res.status === 404 && upload.acknowledged === 0) return false;
    if (res.status !== 202) {
      life.errors.push(`${how} PATCH ${location} from ${from}: ${res.status} ${await res.text()}`);
      return false;
    }
  }
  const digest = sha256(bytes);
  if (!(await life.expect(`${location}?digest=${digest}`, { method: 'PUT' }, 201))) return false;
  const blob = await life.expect(`/v2/${upload.repo}/blobs/${digest}`, {}, 200);
  if (!blob) return false;
  const got = sha256(Buffer.from(await blob.arrayBuffer()));
  if (got !== digest) life.errors.push(`resumed upload stored ${got}, the client sent ${digest}`);
  return got === digest;
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every blob file hashes to its name; returns how many there are. */
async function checkBlobFiles(dataDir: string, errors: string[]): Promise<number> {
  const shaDir = join(dataDir, 'blobs', 'sha256');
  if (!existsSync(shaDir)) return 0;
  let files = 0;
  for (const prefix of readdirSync(shaDir)) {
    for (const hex of readdirSync(join(shaDir, prefix))) {
      const actual = await hashFile(join(shaDir, prefix, hex));
      if (actual !== hex) errors.push(`blobs/sha256/${prefix}/${hex} holds bytes hashing to ${actual}`);
      files++;
    }
  }
  return files;
}

describe('kill -9 loop under a mixed workload', () => {
  it(`after each of ${KILLS} kills, everything acknowledged is there whole and every open upload resumes where it was acknowledged`, async () => {
    const dataDir = tempDir('perch-crash-');
    const errors: string[] = [];
    const models = Array.from({ length: WORKERS }, () => new TagModel());
    const counts: Record<string, number> = {};
    const resumed = { ask: 0, resend: 0, cutMidChunk: 0 };
    let open: OpenUpload[] = [];
    let gcRuns = 0;
    for (let round = 0; round <= KILLS; round++) {
      await checkBlobFiles(dataDir, errors);
      current = await startRegistry({ dataDir, config: { log: { level: 'info' }, storage: { gc: true, gcDelay: '3s', gcInterval: '500ms' } } });
      const life = new Life(current.url, errors);
      // What the last life left: tags where they may be, whole; open uploads resumable.
      for (const [w, model] of models.entries()) {
        for (const [tag, states] of model.entries()) {
          const res = await life.call(`/v2/crash/w${w}/manifests/${tag}`);
          if (!res) continue;
          if (res.status === 404 && states.has(null)) {
            model.settle(tag, null);
            continue;
          }
          const digest = res.status === 200 ? sha256(Buffer.from(await res.arrayBuffer())) : `status ${res.status}`;
          const image = [...states].find((s) => s?.digest === digest);
          if (!image) {
            errors.push(`round ${round}: crash/w${w}:${tag} is ${digest}, expected one of ${[...states].map((s) => s?.digest ?? 'absent').join(', ')}`);
            continue;
          }
          model.settle(tag, image);
          await pullWhole(life, `crash/w${w}`, image, tag);
        }
      }
      for (const [i, upload] of open.entries()) {
        const how = i % 2 === 0 ? 'ask' : 'resend';
        if (await resume(life, upload, how)) {
          resumed[how]++;
          if (upload.unanswered !== undefined) resumed.cutMidChunk++;
        }
      }
      open = [];
      expect(errors, `after restart ${round}`).toEqual([]);
      if (round === KILLS) break;
      const running = [...models.map((model, w) => work(life, `crash/w${w}`, model, counts)), openUploads(life, open)];
      await sleep(400 + Math.random() * 1600);
      life.killed = true;
      gcRuns += current.logs.filter((l) => l.includes('"gc finished"')).length;
      await current.stop('SIGKILL');
      await Promise.all(running);
      expect(errors, `during life ${round}`).toEqual([]);
    }
    await current!.stop();
    const files = await checkBlobFiles(dataDir, errors);
    expect(errors).toEqual([]);
    console.log(`[crash-loop] ${KILLS} kills; operations ${JSON.stringify(counts)}; uploads resumed by asking ${resumed.ask}, by resending ${resumed.resend} (${resumed.cutMidChunk} cut mid-chunk); gc runs ${gcRuns}; ${files} blob files`);
    // The loop did what it says: each kind of operation and resumption happened, and GC ran.
    for (const op of ['push', 'push-chunked', 'move', 'delete-tag', 'delete-digest', 'pull']) expect(counts[op] ?? 0, op).toBeGreaterThan(0);
    expect(resumed.ask).toBeGreaterThan(0);
    expect(resumed.resend).toBeGreaterThan(0);
    expect(gcRuns).toBeGreaterThan(0);
  }, 300_000);
});
