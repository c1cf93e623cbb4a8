/**
 * A full disk, on the bundled server (docs/operations.md "Full disk"): its storage root is a
 * small tmpfs mounted here, filled to a chosen free space by a file the test writes beside the
 * registry's folders. Then:
 *
 *   - pushes that do not fit (a monolithic POST ?digest=, a chunked PATCH, a PUT finishing an
 *     upload with its last bytes, a manifest PUT with the disk full to the last page) answer
 *     507 UNAVAILABLE saying so, never 500; no partial blob is visible, tmp/ stays empty, and
 *     uploads/ holds only the sessions still open, each at the size last acknowledged;
 *   - every image stored before pulls back whole;
 *   - /readyz stays 200 and says `"storage":"full"`, /health answers 503 naming the disk;
 *   - the filler is removed and the very same requests succeed, with no restart.
 *
 * And the two edges of an upload session: its first chunk refused (no torn session file may
 * stay), and its finish refused after every byte was stored, when the repository's link is
 * what does not fit (the session must stay whole, so the same PUT finishes it later).
 *
 * Needs root (mount). As another user it fails saying so, like the image and cluster suites:
 * never a silent skip.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, statfsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../helpers/oci-client';
import { startRegistry, type RunningRegistry } from '../helpers/registry';

const KiB = 1024;
const MiB = 1024 * KiB;
/** The tmpfs: small enough to fill in a moment, big enough for the images stored first. */
const TMPFS_SIZE = 8 * MiB;
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

function run(command: string, args: string[]): { ok: boolean; output: string } {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return { ok: !r.error && r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}`.trim() };
}

/** huge=never: space is taken page by page (4 KiB), so "full to the last page" is exact. */
function mountTmpfs(dir: string, size: number): string | undefined {
  const r = run('mount', ['-t', 'tmpfs', '-o', `size=${size},huge=never,mode=0755`, 'tmpfs', dir]);
  return r.ok ? undefined : `mount -t tmpfs failed: ${r.output}`;
}

/** Unmounts, waiting a little for a process that just exited to let go; lazily as a last resort. */
function unmount(dir: string): void {
  for (let attempt = 0; attempt < 10; attempt++) {
    if (run('umount', [dir]).ok) return;
    spawnSync('sleep', ['0.2']);
  }
  const lazy = run('umount', ['-l', dir]);
  if (!lazy.ok) console.warn(`could not unmount the test's tmpfs at ${dir}: ${lazy.output}`);
}

/** Why this machine cannot run the suite: not root, or no tmpfs mount. */
function environmentProblems(): string[] {
  if (process.platform !== 'linux') return [`the full-disk suite mounts a tmpfs, which needs Linux; this is ${process.platform}`];
  if (process.getuid?.() !== 0) return ["the full-disk suite must run as root: it mounts a small tmpfs as the registry's storage (run npm test as root, as CI does, or with sudo -E)"];
  const dir = mkdtempSync(join(tmpdir(), 'perch-full-disk-probe-'));
  try {
    const failed = mountTmpfs(dir, MiB);
    if (failed) return [`${failed} (a container without CAP_SYS_ADMIN cannot mount)`];
    unmount(dir);
    return [];
  } finally {
    rmdirSync(dir);
  }
}

// A failed beforeAll leaves its tests skipped; this test turns a machine that cannot run the
// suite into a failure with the reason, as test/image does.
it('runs on this machine: as root, able to mount a tmpfs', () => {
  expect(environmentProblems()).toEqual([]);
});

interface Blob {
  digest: string;
  bytes: Buffer;
}
interface Image {
  tag: string;
  digest: string;
  manifest: Buffer;
  blobs: Blob[];
}
interface Session {
  url: string;
  id: string;
}

function blobOf(bytes: Buffer): Blob {
  return { digest: sha256(bytes), bytes };
}

/** A config and layers of the given sizes, and the manifest naming them. */
function makeImage(tag: string, layerSizes: number[]): Image {
  const config = blobOf(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, tag, salt: randomBytes(8).toString('hex') })));
  const layers = layerSizes.map((size) => blobOf(randomBytes(size)));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.bytes.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l.digest, size: l.bytes.length })),
    }),
  );
  return { tag, digest: sha256(manifest), manifest, blobs: [config, ...layers] };
}

interface HealthBody {
  status: string;
  checks: Array<Record<string, unknown>>;
}

/** A registry on its own small tmpfs, what the test looks at on that disk, and the API calls. */
class FullDiskRig {
  mount: string | undefined;
  registry!: RunningRegistry;

  get base(): string {
    return this.registry.url;
  }

  async start(): Promise<void> {
    const problems = environmentProblems();
    if (problems.length > 0) throw new Error(`cannot run the full-disk suite:\n- ${problems.join('\n- ')}`);
    const dir = mkdtempSync(join(tmpdir(), 'perch-full-disk-'));
    const failed = mountTmpfs(dir, TMPFS_SIZE);
    if (failed) {
      rmdirSync(dir);
      throw new Error(failed);
    }
    this.mount = dir;
    this.registry = await startRegistry({ dataDir: dir });
  }

  async stop(): Promise<void> {
    await this.registry?.stop();
    if (!this.mount) return;
    unmount(this.mount);
    if (!run('mountpoint', ['-q', this.mount]).ok) rmSync(this.mount, { recursive: true, force: true });
  }

  // ---- the disk ----

  path(...parts: string[]): string {
    return join(this.mount!, ...parts);
  }

  freeBytes(): number {
    const fs = statfsSync(this.mount!);
    return fs.bavail * fs.bsize;
  }

  /** Grows the filler (a file beside the registry's folders) until exactly `target` bytes are left. */
  fillTo(target: number): void {
    if (this.freeBytes() < target) throw new Error(`only ${this.freeBytes()} bytes free, cannot leave ${target}`);
    // Again while more is free than asked: the server may still be letting go of a file the
    // step before made (a page can come free between the measure and the write).
    for (let round = 0; round < 5 && this.freeBytes() > target; round++) {
      for (let left = this.freeBytes() - target; left > 0; left -= 4 * MiB) appendFileSync(this.path('full-disk-test-filler'), Buffer.alloc(Math.min(left, 4 * MiB)));
    }
    expect(this.freeBytes()).toBe(target);
  }

  /** Space returns: the filler goes. */
  unfill(): void {
    rmSync(this.path('full-disk-test-filler'), { force: true });
  }

  list(folder: string): string[] {
    return readdirSync(this.path(folder)).sort();
  }

  /** Records are symlinks whose target is their value: present even though they lead nowhere. */
  hasEntry(...parts: string[]): boolean {
    return lstatSync(this.path(...parts), { throwIfNoEntry: false }) !== undefined;
  }

  blobFile(digest: string): string {
    return this.path('blobs', 'sha256', digest.slice(7, 9), digest.slice(7));
  }

  async expectNoSpace(res: Response): Promise<void> {
    const text = await res.text();
    expect(res.status, text).toBe(507);
    const body = JSON.parse(text) as { errors: Array<{ code: string; message: string }> };
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].code).toBe('UNAVAILABLE');
    expect(body.errors[0].message).toMatch(/^no space left on the registry's storage: nothing of this request was kept/);
    expect(body.errors[0].message).toContain('free space or grow the volume');
    expect(body.errors[0].message).not.toContain(this.mount!); // no server path in an answer
  }

  // ---- the registry API ----

  monolithic(repo: string, blob: Blob): Promise<Response> {
    return fetch(`${this.base}/v2/${repo}/blobs/uploads/?digest=${blob.digest}`, { method: 'POST', body: new Uint8Array(blob.bytes), headers: { 'Content-Type': 'application/octet-stream' } });
  }

  async startSession(repo: string): Promise<Session> {
    const res = await fetch(`${this.base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    expect(res.status).toBe(202);
    return { url: new URL(res.headers.get('location')!, this.base).toString(), id: res.headers.get('docker-upload-uuid')! };
  }

  patch(session: Session, bytes: Buffer, offset: number): Promise<Response> {
    return fetch(session.url, { method: 'PATCH', body: new Uint8Array(bytes), headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + bytes.length - 1}` } });
  }

  /** PUT ?digest=, with the last bytes as its body when given. */
  finish(session: Session, digest: string, last?: Buffer): Promise<Response> {
    const body = last ? { body: new Uint8Array(last), headers: { 'Content-Type': 'application/octet-stream' } } : {};
    return fetch(`${session.url}${session.url.includes('?') ? '&' : '?'}digest=${digest}`, { method: 'PUT', ...body });
  }

  /** The Range a session's GET reports: `0-<last byte>`, or `0-0` for none (as distribution answers). */
  async sessionRange(session: Session): Promise<string | null> {
    const res = await fetch(session.url);
    expect(res.status).toBe(204);
    return res.headers.get('range');
  }

  putManifest(repo: string, image: Image): Promise<Response> {
    return fetch(`${this.base}/v2/${repo}/manifests/${image.tag}`, { method: 'PUT', body: new Uint8Array(image.manifest), headers: { 'Content-Type': MANIFEST_TYPE } });
  }

  async pushWhole(repo: string, image: Image, how: 'monolithic' | 'chunked'): Promise<void> {
    for (const blob of image.blobs) {
      if (how === 'monolithic') {
        expect((await this.monolithic(repo, blob)).status).toBe(201);
        continue;
      }
      const session = await this.startSession(repo);
      const chunk = 96 * KiB;
      let offset = 0;
      for (; offset + chunk < blob.bytes.length; offset += chunk) expect((await this.patch(session, blob.bytes.subarray(offset, offset + chunk), offset)).status).toBe(202);
      // The last chunk rides on the PUT that finishes the upload.
      expect((await this.finish(session, blob.digest, blob.bytes.subarray(offset))).status).toBe(201);
    }
    const res = await this.putManifest(repo, image);
    expect(res.status, await res.text()).toBe(201);
  }

  async expectBlob(repo: string, blob: Blob): Promise<void> {
    const got = await fetch(`${this.base}/v2/${repo}/blobs/${blob.digest}`);
    expect(got.status).toBe(200);
    expect(sha256(Buffer.from(await got.arrayBuffer()))).toBe(blob.digest);
  }

  async blobStatus(repo: string, digest: string): Promise<number> {
    return (await fetch(`${this.base}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' })).status;
  }

  /** Pulls the image by tag and checks every digest. */
  async expectWhole(repo: string, image: Image): Promise<void> {
    const res = await fetch(`${this.base}/v2/${repo}/manifests/${image.tag}`, { headers: { Accept: MANIFEST_TYPE } });
    expect(res.status).toBe(200);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(image.digest);
    expect(res.headers.get('docker-content-digest')).toBe(image.digest);
    for (const blob of image.blobs) await this.expectBlob(repo, blob);
  }

  async health(): Promise<{ status: number; body: HealthBody }> {
    const res = await fetch(`${this.base}/health`);
    return { status: res.status, body: (await res.json()) as HealthBody };
  }
}

const check = (body: HealthBody, name: string) => body.checks.find((c) => c.name === name)!;

describe('a full disk: pushes that do not fit are refused whole, reads go on, and pushes work again once space returns', () => {
  const rig = new FullDiskRig();
  const REPO = 'full/disk';
  const started = Date.now();
  beforeAll(() => rig.start());
  afterAll(async () => {
    await rig.stop();
    console.log(`[full-disk suite] pushes refused and resumed: ${((Date.now() - started) / 1000).toFixed(1)}s`);
  });

  const stored: Image[] = [];
  // The requests refused while the disk is full, sent again once space returns.
  const bigLayer = blobOf(randomBytes(MiB));
  const chunked = blobOf(randomBytes(MiB));
  const finishedByPut = blobOf(randomBytes(MiB));
  const lastImage = makeImage('last', [16 * KiB]);
  let chunkedSession: Session;
  let putSession: Session;
  const chunkedAcked = 256 * KiB;
  const putAcked = 64 * KiB;

  it('stores images while they fit (monolithic and chunked pushes)', async () => {
    for (const [i, how] of (['monolithic', 'chunked', 'monolithic'] as const).entries()) {
      const image = makeImage(`before-${i}`, [384 * KiB, 320 * KiB + i]);
      await rig.pushWhole(REPO, image, how);
      stored.push(image);
    }
    for (const image of stored) await rig.expectWhole(REPO, image);
    expect(rig.freeBytes()).toBeGreaterThan(4 * MiB);
  });

  it('a monolithic POST ?digest= that does not fit: 507, no blob, nothing left in uploads/ or tmp/, the space given back', async () => {
    rig.fillTo(512 * KiB);
    await rig.expectNoSpace(await rig.monolithic(REPO, bigLayer));
    expect(await rig.blobStatus(REPO, bigLayer.digest)).toBe(404);
    expect(existsSync(rig.blobFile(bigLayer.digest))).toBe(false);
    expect(rig.list('uploads')).toEqual([]);
    expect(rig.list('tmp')).toEqual([]);
    expect(rig.freeBytes()).toBe(512 * KiB);
  });

  it('a chunked PATCH that does not fit: 507; the session keeps the bytes acknowledged before and reports them', async () => {
    chunkedSession = await rig.startSession(REPO);
    const first = await rig.patch(chunkedSession, chunked.bytes.subarray(0, chunkedAcked), 0);
    expect(first.status).toBe(202);
    expect(first.headers.get('range')).toBe(`0-${chunkedAcked - 1}`);
    const refused = await rig.patch(chunkedSession, chunked.bytes.subarray(chunkedAcked), chunkedAcked);
    // The refusal says where the session is, as a 202 would: the client resumes from there.
    expect(refused.headers.get('range')).toBe(`0-${chunkedAcked - 1}`);
    expect(refused.headers.get('location')).toBe(new URL(chunkedSession.url).pathname);
    await rig.expectNoSpace(refused);
    expect(await rig.sessionRange(chunkedSession)).toBe(`0-${chunkedAcked - 1}`);
    expect(statSync(rig.path('uploads', chunkedSession.id)).size).toBe(chunkedAcked);
    expect(existsSync(rig.blobFile(chunked.digest))).toBe(false);
  });

  it('a PUT finishing an upload with its last bytes that do not fit: 507; the session stays where it was', async () => {
    putSession = await rig.startSession(REPO);
    expect((await rig.patch(putSession, finishedByPut.bytes.subarray(0, putAcked), 0)).status).toBe(202);
    await rig.expectNoSpace(await rig.finish(putSession, finishedByPut.digest, finishedByPut.bytes.subarray(putAcked)));
    expect(await rig.sessionRange(putSession)).toBe(`0-${putAcked - 1}`);
    expect(statSync(rig.path('uploads', putSession.id)).size).toBe(putAcked);
    expect(await rig.blobStatus(REPO, finishedByPut.digest)).toBe(404);
    expect(existsSync(rig.blobFile(finishedByPut.digest))).toBe(false);
    // Only the two open sessions' own files: their bytes, and what says whose they are.
    const sessions = [chunkedSession.id, putSession.id];
    for (const name of rig.list('uploads')) expect(sessions.some((id) => name === id || name.startsWith(`${id}.`)), name).toBe(true);
    expect(rig.list('tmp')).toEqual([]);
  });

  it('a manifest PUT with the disk full to the last page: 507, no manifest, no tag, nothing in tmp/', async () => {
    // Its blobs fit; then not one page is left for the manifest.
    for (const blob of lastImage.blobs) expect((await rig.monolithic(REPO, blob)).status).toBe(201);
    rig.fillTo(0);
    await rig.expectNoSpace(await rig.putManifest(REPO, lastImage));
    for (const reference of [lastImage.tag, lastImage.digest]) {
      expect((await fetch(`${rig.base}/v2/${REPO}/manifests/${reference}`, { method: 'HEAD', headers: { Accept: MANIFEST_TYPE } })).status).toBe(404);
    }
    const tags = (await (await fetch(`${rig.base}/v2/${REPO}/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).not.toContain(lastImage.tag);
    // The manifest's link record fits where its body did not (a short symlink takes no page);
    // it must not stay behind.
    expect(rig.hasEntry('repositories', REPO, '_manifests', 'sha256', lastImage.digest.slice(7))).toBe(false);
    expect(rig.hasEntry('repositories', REPO, '_tags', lastImage.tag)).toBe(false);
    expect(existsSync(rig.blobFile(lastImage.digest))).toBe(false);
    expect(rig.list('tmp')).toEqual([]);
    // Even a few bytes find no room now.
    await rig.expectNoSpace(await rig.monolithic(REPO, blobOf(Buffer.from('tiny'))));
    expect(rig.list('tmp')).toEqual([]);
  });

  it('no answer was a 500, and the log says why each refused push failed', async () => {
    // The five refusals above; log lines reach the pipe a moment after their answers.
    const answers = () => rig.registry.logs.filter((l) => l.includes('"message":"request"'));
    await expect.poll(() => answers().filter((l) => l.includes('"status":507')).length).toBe(5);
    expect(answers().filter((l) => l.includes('"status":500'))).toEqual([]);
    const failures = rig.registry.logs.filter((l) => l.includes('"message":"request failed"'));
    expect(failures).toHaveLength(5);
    for (const line of failures) expect(line).toContain('ENOSPC: no space left on device');
  });

  it('everything stored before pulls back whole while the disk is full', async () => {
    for (const image of stored) await rig.expectWhole(REPO, image);
    const tags = (await (await fetch(`${rig.base}/v2/${REPO}/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).toEqual(stored.map((i) => i.tag).sort());
  });

  it('/readyz stays ready and says the storage is full; /health answers 503 naming the disk; /livez is untouched', async () => {
    const ready = await fetch(`${rig.base}/readyz`);
    expect(ready.status).toBe(200);
    const readyBody = (await ready.json()) as { status: string; storage?: string; warnings?: string[] };
    expect(readyBody).toMatchObject({ status: 'ok', storage: 'full' });
    expect(readyBody.warnings).toEqual([expect.stringMatching(/^storage is full .*: pushes are refused \(507 Insufficient Storage\) until space is freed; pulls are served$/)]);
    expect((await fetch(`${rig.base}/livez`)).status).toBe(200);

    const { status, body } = await rig.health();
    expect(status).toBe(503);
    expect(body.status).toBe('fail');
    expect(check(body, 'disk')).toMatchObject({ status: 'fail', full: true, freeBytes: 0 });
    expect(check(body, 'disk').message).toMatch(/^full: a push was refused for lack of space at .* and nothing has been stored since/);
    expect(check(body, 'storage')).toMatchObject({ status: 'fail', message: expect.stringMatching(/^storage is full \(ENOSPC\)/) });
    expect(rig.list('tmp')).toEqual([]); // the probes' files do not stay either
  });

  it('space returns: the same pushes succeed, with no restart, and the uploads resume where they were', async () => {
    const pid = rig.registry.process.pid;
    rig.unfill();
    // Room again, but nothing stored since the refusals: /health still says a push was refused.
    const before = await rig.health();
    expect(check(before.body, 'disk')).toMatchObject({ status: 'fail', full: true });
    expect(check(before.body, 'storage').status).toBe('ok');
    expect(await (await fetch(`${rig.base}/readyz`)).json()).toEqual({ status: 'ok' });

    expect((await rig.monolithic(REPO, bigLayer)).status).toBe(201);

    expect(await rig.sessionRange(chunkedSession)).toBe(`0-${chunkedAcked - 1}`);
    const rest = await rig.patch(chunkedSession, chunked.bytes.subarray(chunkedAcked), chunkedAcked);
    expect(rest.status).toBe(202);
    expect(rest.headers.get('range')).toBe(`0-${chunked.bytes.length - 1}`);
    expect((await rig.finish(chunkedSession, chunked.digest)).status).toBe(201);

    expect((await rig.finish(putSession, finishedByPut.digest, finishedByPut.bytes.subarray(putAcked))).status).toBe(201);

    const manifest = await rig.putManifest(REPO, lastImage);
    expect(manifest.status, await manifest.text()).toBe(201);
    await rig.expectWhole(REPO, lastImage);
    for (const blob of [bigLayer, chunked, finishedByPut]) await rig.expectBlob(REPO, blob);
    for (const image of stored) await rig.expectWhole(REPO, image);

    // One process, started once.
    expect(rig.registry.process.pid).toBe(pid);
    expect(rig.registry.process.exitCode).toBeNull();
    expect(rig.registry.logs.filter((l) => l.includes('"message":"listening"'))).toHaveLength(1);
    expect(rig.list('uploads')).toEqual([]);
    expect(rig.list('tmp')).toEqual([]);

    const after = await rig.health();
    expect(after.status).toBe(200);
    expect(check(after.body, 'disk')).toMatchObject({ status: 'ok' });
    expect(check(after.body, 'disk').full).toBeUndefined();
    expect(check(after.body, 'storage').status).toBe('ok');
  });
});

// FsStore's upload methods (storage/fs-store.ts) must not leave a torn info file when the
// first chunk is refused (persist), and must make the repository's link before they move the
// session's bytes into the blob store (finishUpload): a link that does not fit then leaves the
// session as it was.
describe('upload sessions that meet a full disk at their first byte or at their finish', () => {
  const rig = new FullDiskRig();
  beforeAll(() => rig.start());
  afterAll(() => rig.stop());
  // Each test starts with room, whatever the one before left.
  afterEach(() => rig.unfill());

  it('the first PATCH of a new session: 507; the session holds 0 bytes, leaves no torn session file, and takes the chunk once space returns', async () => {
    const repo = 'first/byte';
    const blob = blobOf(randomBytes(5000));
    const session = await rig.startSession(repo);
    rig.fillTo(0);
    await rig.expectNoSpace(await rig.patch(session, blob.bytes, 0));
    expect(await rig.sessionRange(session)).toBe('0-0');
    // Whatever stays of the session is whole: a session file that does not parse would lose
    // the session at the next start and stay on disk for good.
    for (const name of rig.list('uploads').filter((n) => n.endsWith('.json'))) {
      expect(() => JSON.parse(readFileSync(rig.path('uploads', name), 'utf8')), `uploads/${name}`).not.toThrow();
    }
    for (const name of rig.list('uploads').filter((n) => n === session.id)) expect(statSync(rig.path('uploads', name)).size).toBe(0);
    rig.unfill();
    const res = await rig.patch(session, blob.bytes, 0);
    expect(res.status).toBe(202);
    expect(res.headers.get('range')).toBe(`0-${blob.bytes.length - 1}`);
    expect((await rig.finish(session, blob.digest)).status).toBe(201);
    await rig.expectBlob(repo, blob);
  });

  it('a PUT finishing an upload whose bytes are all stored, with no room left for the repository\'s link: 507; the session stays whole and finishes once space returns', async () => {
    // 14 levels deep, the layer link's relative target passes 128 bytes, past what tmpfs keeps
    // inside the inode: the symlink then needs a page. On ext4 every layer link does (its
    // limit is 60 bytes), so there this is how a finish meets a disk that is exactly full.
    const repo = Array.from({ length: 14 }, (_, i) => `d${i}`).join('/');
    const blob = blobOf(randomBytes(100 * KiB));
    const session = await rig.startSession(repo);
    expect((await rig.patch(session, blob.bytes, 0)).status).toBe(202);
    rig.fillTo(0);
    await rig.expectNoSpace(await rig.finish(session, blob.digest));
    expect(await rig.blobStatus(repo, blob.digest)).toBe(404);
    expect(await rig.sessionRange(session)).toBe(`0-${blob.bytes.length - 1}`);
    expect(statSync(rig.path('uploads', session.id)).size).toBe(blob.bytes.length);
    rig.unfill();
    const done = await rig.finish(session, blob.digest);
    expect(done.status, await done.text()).toBe(201);
    await rig.expectBlob(repo, blob);
    expect(rig.list('uploads')).toEqual([]);
    expect(rig.list('tmp')).toEqual([]);
  });
});
