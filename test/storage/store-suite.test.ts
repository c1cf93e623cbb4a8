/**
 * One storage suite, run against every backend (distribution's "testsuites" idea):
 * whatever passes here may sit under the HTTP handlers.
 */
import { appendFileSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { FsStore } from '../../registry-image/src/storage/fs-store';
import { MemoryStore } from '../../registry-image/src/storage/memory-store';
import { memoryBucket } from '../../registry-image/src/storage/object/memory-bucket';
import { ObjectStore } from '../../registry-image/src/storage/object/object-store';
import { bucketFor } from '../../registry-image/src/storage/open-store';
import { objectBackends } from '../helpers/object-backends';
import { StorageError, type Store } from '../../registry-image/src/storage/types';
import { sha256 } from '../helpers/oci-client';
import { tempDir } from '../helpers/temp-dir';

// The object stores run as real servers on loopback (SeaweedFS, fake-gcs-server, Azurite),
// started on first use; each test gets a fresh bucket.
const servers = objectBackends();
afterAll(() => servers.stop(), 30_000);

const backends: Array<[string, () => Store | Promise<Store>]> = [
  ['MemoryStore', () => new MemoryStore()],
  ['FsStore', () => new FsStore(tempDir('perch-store-'))],
  ['FsStore (durable)', () => new FsStore(tempDir('perch-store-'), { durable: true })],
  ['FsStore (fresh links remembered)', () => new FsStore(tempDir('perch-store-'), { freshLinkMs: 60_000 })],
  ['ObjectStore (memory bucket)', () => new ObjectStore(memoryBucket())],
  ['ObjectStore (s3: SeaweedFS)', async () => new ObjectStore(await bucketFor(await servers.driver('s3')))],
  ['ObjectStore (gcs: fake-gcs-server)', async () => new ObjectStore(await bucketFor(await servers.driver('gcs')))],
  ['ObjectStore (azure: Azurite)', async () => new ObjectStore(await bucketFor(await servers.driver('azure')))],
];

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

async function kind(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (err) {
    return err instanceof StorageError ? err.kind : String(err);
  }
}

async function upload(store: Store, repo: string, data: string): Promise<string> {
  const s = await store.startUpload(repo);
  await store.appendUpload(repo, s.id, 0, Readable.from([Buffer.from(data)]));
  const digest = sha256(data);
  await store.finishUpload(repo, s.id, digest);
  return digest;
}

describe.each(backends)('%s', { timeout: 60_000 }, (_name, make) => {
  it('uploads in chunks, verifies, and serves whole and ranged reads', async () => {
    const store = await make();
    await store.init();
    const s = await store.startUpload('a/b');
    expect(s.size).toBe(0);
    await store.appendUpload('a/b', s.id, 0, Readable.from([Buffer.from('hello ')]));
    const after = await store.appendUpload('a/b', s.id, 6, Readable.from([Buffer.from('world')]), 5);
    expect(after.size).toBe(11);
    expect((await store.getUpload('a/b', s.id)).size).toBe(11);
    const stat = await store.finishUpload('a/b', s.id, sha256('hello world'));
    expect(stat.size).toBe(11);
    expect(await text(await store.openBlob(sha256('hello world')))).toBe('hello world');
    expect(await text(await store.openBlob(sha256('hello world'), { range: { start: 6, end: 10 } }))).toBe('world');
    expect(await kind(store.openBlob(sha256('hello world'), { range: { start: 6, end: 11 } }))).toBe('RangeNotSatisfiable');
    // With the size the caller stat'ed, the same answers.
    expect(await text(await store.openBlob(sha256('hello world'), { size: 11 }))).toBe('hello world');
    expect(await text(await store.openBlob(sha256('hello world'), { range: { start: 0, end: 4 }, size: 11 }))).toBe('hello');
    expect(await kind(store.openBlob(sha256('hello world'), { range: { start: 6, end: 11 }, size: 11 }))).toBe('RangeNotSatisfiable');
    expect(await kind(store.getUpload('a/b', s.id))).toBe('UploadNotFound');
  });

  it('refuses a chunk at the wrong offset and a length mismatch, leaving the session as it was', async () => {
    const store = await make();
    await store.init();
    const s = await store.startUpload('r');
    await store.appendUpload('r', s.id, 0, Readable.from([Buffer.from('abc')]));
    expect(await kind(store.appendUpload('r', s.id, 1, Readable.from([Buffer.from('x')])))).toBe('RangeMismatch');
    expect(await kind(store.appendUpload('r', s.id, 3, Readable.from([Buffer.from('toolong')]), 2))).toBe('SizeMismatch');
    expect(await kind(store.appendUpload('r', s.id, 3, Readable.from([Buffer.from('a')]), 2))).toBe('SizeMismatch');
    expect((await store.getUpload('r', s.id)).size).toBe(3);
    await store.appendUpload('r', s.id, 3, Readable.from([Buffer.from('def')]));
    await store.finishUpload('r', s.id, sha256('abcdef'));
  });

  it('keeps the session and exposes nothing on a digest mismatch', async () => {
    const store = await make();
    await store.init();
    const s = await store.startUpload('r');
    await store.appendUpload('r', s.id, 0, Readable.from([Buffer.from('real')]));
    expect(await kind(store.finishUpload('r', s.id, sha256('fake')))).toBe('DigestMismatch');
    expect(await store.statBlob(sha256('fake'))).toBeNull();
    expect(await store.statBlob(sha256('real'))).toBeNull();
    await store.finishUpload('r', s.id, sha256('real'));
    expect(await store.statBlob(sha256('real'))).not.toBeNull();
  });

  it('verifies sha512 digests', async () => {
    const store = await make();
    await store.init();
    const s = await store.startUpload('r');
    await store.appendUpload('r', s.id, 0, Readable.from([Buffer.from('five-twelve')]));
    const { createHash } = await import('node:crypto');
    const d = `sha512:${createHash('sha512').update('five-twelve').digest('hex')}`;
    await store.finishUpload('r', s.id, d);
    expect((await store.repositoryBlob('r', d))?.size).toBe(11);
  });

  it('deduplicates across repositories but shows each repository only its own blobs', async () => {
    const store = await make();
    await store.init();
    const d = await upload(store, 'one', 'shared');
    expect(await store.repositoryBlob('two', d)).toBeNull();
    await upload(store, 'two', 'shared');
    expect(await store.repositoryBlob('two', d)).not.toBeNull();
    const all: string[] = [];
    for await (const b of store.listBlobs()) all.push(b.digest);
    expect(all.filter((x) => x === d)).toHaveLength(1);
    expect(await store.unlinkBlob('one', d)).toBe(true);
    expect(await store.repositoryBlob('one', d)).toBeNull();
    expect(await store.repositoryBlob('two', d)).not.toBeNull();
    await store.linkBlob('three', d);
    expect(await store.listRepositoryBlobs('three')).toEqual([d]);
    // A manifest PUT refreshes what it references through the repository's own link.
    expect(await store.touchRepositoryBlob('three', d)).toBe(true);
    expect(await store.touchRepositoryBlob('one', d)).toBe(false);
    expect(await store.touchRepositoryBlob('three', sha256('never pushed'))).toBe(false);
  });

  it('re-setting a tag moves it and its time; re-putting a manifest with another media type updates it', async () => {
    const store = await make();
    await store.init();
    const first = Buffer.from('{"schemaVersion":2,"n":1}');
    const second = Buffer.from('{"schemaVersion":2,"n":2}');
    const oci = 'application/vnd.oci.image.manifest.v1+json';
    await store.putManifest('app', { digest: sha256(first), mediaType: oci, body: first });
    await store.putManifest('app', { digest: sha256(second), mediaType: oci, body: second });
    await store.setTag('app', 'v1', sha256(first));
    const before = await store.tagInfo('app', 'v1');
    expect(before?.digest).toBe(sha256(first));
    await new Promise((r) => setTimeout(r, 20));
    await store.setTag('app', 'v1', sha256(second));
    const after = await store.tagInfo('app', 'v1');
    expect(after?.digest).toBe(sha256(second));
    expect(after!.modifiedMs).toBeGreaterThan(before!.modifiedMs);
    expect(await store.tagInfo('app', 'nope')).toBeNull();
    await store.putManifest('app', { digest: sha256(first), mediaType: oci, body: first });
    expect((await store.getManifest('app', sha256(first)))?.mediaType).toBe(oci);
    await store.putManifest('app', { digest: sha256(first), mediaType: 'application/vnd.docker.distribution.manifest.v2+json', body: first });
    expect((await store.getManifest('app', sha256(first)))?.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
  });

  it('stores manifests, tags and referrers; deleting a manifest removes its tags and referrer entry', async () => {
    const store = await make();
    await store.init();
    const body = Buffer.from('{"schemaVersion":2}');
    const digest = sha256(body);
    const subject = sha256('subject');
    await store.putManifest('app', { digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', body }, { digest: subject, descriptor: { mediaType: 'm', digest, size: body.length, artifactType: 'x' } });
    await store.setTag('app', 'v1', digest);
    await store.setTag('app', 'latest', digest);
    expect(await store.resolveTag('app', 'v1')).toBe(digest);
    expect(await store.listTags('app')).toEqual(['latest', 'v1']);
    expect((await store.getManifest('app', digest))?.body).toEqual(body);
    expect(await store.getManifest('other', digest)).toBeNull();
    expect((await store.listReferrers('app', subject)).map((r) => r.digest)).toEqual([digest]);
    expect(await store.listManifests('app')).toEqual([digest]);
    expect(await store.listRepositories()).toEqual(['app']);
    expect(await store.repositoryExists('app')).toBe(true);
    expect(await store.deleteTag('app', 'latest')).toBe(true);
    expect(await store.deleteTag('app', 'latest')).toBe(false);
    expect(await store.deleteManifest('app', digest)).toBe(true);
    expect(await store.listTags('app')).toEqual([]);
    expect(await store.listReferrers('app', subject)).toEqual([]);
    expect(await store.deleteManifest('app', digest)).toBe(false);
  });

  it('cancels uploads and lists open ones', async () => {
    const store = await make();
    await store.init();
    const a = await store.startUpload('r');
    const b = await store.startUpload('r');
    await store.cancelUpload('r', a.id);
    const open: string[] = [];
    for await (const u of store.listUploads()) open.push(u.id);
    expect(open).toEqual([b.id]);
    expect(await kind(store.cancelUpload('r', a.id))).toBe('UploadNotFound');
  });

  it('deletes blob content (garbage collection)', async () => {
    const store = await make();
    await store.init();
    const d = await upload(store, 'r', 'garbage');
    expect(await store.deleteBlob(d)).toBe(true);
    expect(await store.statBlob(d)).toBeNull();
    expect(await store.deleteBlob(d)).toBe(false);
  });
});

describe('FsStore specifics', () => {
  describe('freshLinkMs: a link made for a blob written moments ago is known without a utimes', () => {
    const HOUR_AGO = new Date(Date.now() - 3_600_000);
    const blobMtime = (root: string, digest: string) => statSync(join(root, 'blobs/sha256', digest.slice(7, 9), digest.slice(7))).mtimeMs;

    it('answers for a fresh link from memory, and forgets it when the link or the blob goes', async () => {
      const root = tempDir('perch-store-');
      const store = new FsStore(root, { freshLinkMs: 60_000 });
      await store.init();
      const d = await upload(store, 'r', 'fresh layer');
      // Aged behind the store's back: the answer comes from memory, so the mtime stays old.
      utimesSync(join(root, 'blobs/sha256', d.slice(7, 9), d.slice(7)), HOUR_AGO, HOUR_AGO);
      expect(await store.touchRepositoryBlob('r', d)).toBe(true);
      expect(blobMtime(root, d)).toBe(HOUR_AGO.getTime());
      expect(await store.touchRepositoryBlob('other', d)).toBe(false);
      expect(await store.unlinkBlob('r', d)).toBe(true);
      expect(await store.touchRepositoryBlob('r', d)).toBe(false);
      await upload(store, 'r', 'fresh layer');
      expect(await store.touchRepositoryBlob('r', d)).toBe(true);
      expect(await store.deleteBlob(d)).toBe(true);
      expect(await store.touchRepositoryBlob('r', d)).toBe(false);
    });

    it('refreshes a blob whose bytes were written before the window, and always with freshLinkMs 0', async () => {
      const root = tempDir('perch-store-');
      const first = new FsStore(root, { freshLinkMs: 60_000 });
      await first.init();
      const s = await first.startUpload('r');
      await first.appendUpload('r', s.id, 0, Readable.from([Buffer.from('written an hour ago')]));
      utimesSync(join(root, 'uploads', s.id), HOUR_AGO, HOUR_AGO);
      // A restart: the session's last write is read from the data file's mtime.
      const store = new FsStore(root, { freshLinkMs: 60_000 });
      await store.init();
      const d = sha256('written an hour ago');
      await store.finishUpload('r', s.id, d);
      expect(blobMtime(root, d)).toBe(HOUR_AGO.getTime()); // a rename keeps the mtime
      expect(await store.touchRepositoryBlob('r', d)).toBe(true);
      expect(blobMtime(root, d)).toBeGreaterThan(HOUR_AGO.getTime());

      const never = new FsStore(tempDir('perch-store-'));
      await never.init();
      const e = await upload(never, 'r', 'no memory');
      utimesSync(join(never.paths.root, 'blobs/sha256', e.slice(7, 9), e.slice(7)), HOUR_AGO, HOUR_AGO);
      expect(await never.touchRepositoryBlob('r', e)).toBe(true);
      expect(blobMtime(never.paths.root, e)).toBeGreaterThan(HOUR_AGO.getTime());
    });
  });

  it('an upload survives a restart (a new store on the same folder) and finishes there', async () => {
    const root = tempDir('perch-store-');
    const first = new FsStore(root);
    await first.init();
    const s = await first.startUpload('r');
    await first.appendUpload('r', s.id, 0, Readable.from([Buffer.from('before ')]));
    const second = new FsStore(root);
    await second.init();
    expect((await second.getUpload('r', s.id)).size).toBe(7);
    await second.appendUpload('r', s.id, 7, Readable.from([Buffer.from('after')]));
    await second.finishUpload('r', s.id, sha256('before after'));
    expect(await text(await second.openBlob(sha256('before after')))).toBe('before after');
  });

  describe('after a kill in the middle of a chunk, the session is what was acknowledged', () => {
    /** Two acknowledged chunks, then the start of a third that a kill -9 cut short: its bytes are in the file, no answer went out. */
    async function killedMidChunk(root: string) {
      const first = new FsStore(root);
      await first.init();
      const s = await first.startUpload('r');
      await first.appendUpload('r', s.id, 0, Readable.from([Buffer.from('one ')]));
      await first.appendUpload('r', s.id, 4, Readable.from([Buffer.from('two ')]));
      appendFileSync(join(root, 'uploads', s.id), 'thr');
      const restarted = new FsStore(root);
      await restarted.init();
      return { id: s.id, restarted };
    }

    it('cuts the unacknowledged tail, so the client asking for its offset continues from there', async () => {
      const root = tempDir('perch-store-');
      const { id, restarted } = await killedMidChunk(root);
      expect((await restarted.getUpload('r', id)).size).toBe(8);
      expect(statSync(join(root, 'uploads', id)).size).toBe(8);
      await restarted.appendUpload('r', id, 8, Readable.from([Buffer.from('three')]));
      await restarted.finishUpload('r', id, sha256('one two three'));
      expect(await text(await restarted.openBlob(sha256('one two three')))).toBe('one two three');
    });

    it('takes the resend of the last acknowledged chunk (its answer may have been lost), and refuses any other offset', async () => {
      const root = tempDir('perch-store-');
      const { id, restarted } = await killedMidChunk(root);
      expect((await restarted.getUpload('r', id)).resendFrom).toBe(4);
      await expect(restarted.appendUpload('r', id, 0, Readable.from([Buffer.from('one ')]))).rejects.toMatchObject({ kind: 'RangeMismatch' });
      await restarted.appendUpload('r', id, 4, Readable.from([Buffer.from('two ')]));
      // Once a chunk is taken, the session is this process's own again: no second resend.
      expect((await restarted.getUpload('r', id)).resendFrom).toBeUndefined();
      await expect(restarted.appendUpload('r', id, 4, Readable.from([Buffer.from('two ')]))).rejects.toMatchObject({ kind: 'RangeMismatch' });
      await restarted.appendUpload('r', id, 8, Readable.from([Buffer.from('three')]));
      await restarted.finishUpload('r', id, sha256('one two three'));
      expect(readdirSync(join(root, 'uploads'))).toEqual([]);
    });

    it('a session written by an older perch (no ack record) keeps the bytes its file holds', async () => {
      const root = tempDir('perch-store-');
      const { id } = await killedMidChunk(root);
      writeFileSync(join(root, 'uploads', `${id}.json`), JSON.stringify({ repository: 'r', startedMs: Date.now() }));
      rmSync(join(root, 'uploads', `${id}.ack`));
      const reopened = new FsStore(root);
      await reopened.init();
      expect((await reopened.getUpload('r', id)).size).toBe(11);
    });
  });

  it('a failed stream leaves no partial bytes in the session', async () => {
    const store = new FsStore(tempDir('perch-store-'));
    await store.init();
    const s = await store.startUpload('r');
    const broken = new Readable({
      read() {
        this.push(Buffer.from('partial'));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(store.appendUpload('r', s.id, 0, broken)).rejects.toThrow('client went away');
    expect((await store.getUpload('r', s.id)).size).toBe(0);
  });

  it('keeps tags and manifest links as symlink records, and reads a store that holds them as files', async () => {
    const root = tempDir('perch-store-');
    const store = new FsStore(root);
    await store.init();
    const body = Buffer.from('{"schemaVersion":2}');
    const digest = sha256(body);
    const hex = digest.slice('sha256:'.length);
    await store.putManifest('app', { digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', body });
    await store.setTag('app', 'v1', digest);
    const tagPath = join(root, 'repositories/app/_tags/v1');
    expect(lstatSync(tagPath).isSymbolicLink()).toBe(true);
    expect(readlinkSync(tagPath)).toBe(digest);
    // The layout before records were symlinks: plain files with the same contents.
    const linkPath = join(root, 'repositories/app/_manifests/sha256', hex);
    rmSync(tagPath);
    rmSync(linkPath);
    writeFileSync(tagPath, `${digest}\n`);
    writeFileSync(linkPath, JSON.stringify({ mediaType: 'application/vnd.oci.image.manifest.v1+json' }));
    const reopened = new FsStore(root);
    await reopened.init();
    expect(await reopened.resolveTag('app', 'v1')).toBe(digest);
    expect((await reopened.tagInfo('app', 'v1'))?.digest).toBe(digest);
    expect((await reopened.getManifest('app', digest))?.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    // Setting the tag again replaces the old file with a record.
    await reopened.setTag('app', 'v1', digest);
    expect(readlinkSync(tagPath)).toBe(digest);
  });

  it('a repository emptied of manifests, tags and blobs leaves no folder and is no longer listed', async () => {
    const root = tempDir('perch-store-');
    const store = new FsStore(root);
    await store.init();
    const layer = await upload(store, 'team/app', 'layer');
    await upload(store, 'team', 'parent layer');
    const body = Buffer.from('{"schemaVersion":2,"app":true}');
    const digest = sha256(body);
    const subject = sha256('subject');
    await store.putManifest('team/app', { digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', body }, { digest: subject, descriptor: { mediaType: 'm', digest, size: body.length } });
    await store.setTag('team/app', 'v1', digest);
    expect(await store.listRepositories()).toEqual(['team', 'team/app']);
    await store.deleteTag('team/app', 'v1');
    await store.deleteManifest('team/app', digest);
    expect(await store.listRepositories()).toEqual(['team', 'team/app']); // still holds its layer
    await store.unlinkBlob('team/app', layer);
    expect(await store.listRepositories()).toEqual(['team']);
    expect(readdirSync(join(root, 'repositories/team'))).toEqual(['_layers']);
    // Pushing to it again brings its folders back.
    await store.linkBlob('team/app', layer);
    expect(await store.listRepositories()).toEqual(['team', 'team/app']);
    await store.unlinkBlob('team/app', layer);
    await store.unlinkBlob('team', sha256('parent layer'));
    expect(await store.listRepositories()).toEqual([]);
    expect(readdirSync(join(root, 'repositories'))).toEqual([]);
  });

  it('init() removes upload bytes a crash left without a session, once older than the upload TTL', async () => {
    const root = tempDir('perch-store-');
    const first = new FsStore(root);
    await first.init();
    const chunked = await first.startUpload('r');
    await first.appendUpload('r', chunked.id, 0, Readable.from([Buffer.from('resumable')]));
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(join(root, 'uploads', chunked.id), old, old);
    // What a kill during a monolithic push leaves: bytes, no session file.
    const orphanOld = '0b0e7a51-0000-4000-8000-000000000001';
    const orphanNew = '0b0e7a51-0000-4000-8000-000000000002';
    writeFileSync(join(root, 'uploads', orphanOld), 'half a blob');
    utimesSync(join(root, 'uploads', orphanOld), old, old);
    writeFileSync(join(root, 'uploads', orphanNew), 'maybe still being written');
    const restarted = new FsStore(root, { orphanUploadMs: 3600_000 });
    await restarted.init();
    expect(readdirSync(join(root, 'uploads')).sort()).toEqual([chunked.id, `${chunked.id}.ack`, `${chunked.id}.json`, orphanNew].sort());
    expect((await restarted.getUpload('r', chunked.id)).size).toBe('resumable'.length);
  });

  it('a finish whose rename fails leaves no link behind, and the same session finishes once it can', async () => {
    const root = tempDir('perch-store-');
    const store = new FsStore(root);
    await store.init();
    const digest = sha256('blocked');
    const hex = digest.slice('sha256:'.length);
    mkdirSync(join(root, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(root, 'blobs', 'sha256', hex.slice(0, 2)), 'a file where the folder goes');
    const s = await store.startUpload('r');
    await store.appendUpload('r', s.id, 0, Readable.from([Buffer.from('blocked')]));
    await expect(store.finishUpload('r', s.id, digest)).rejects.toThrow();
    expect(await store.listRepositoryBlobs('r')).toEqual([]);
    expect(await store.listRepositories()).toEqual([]);
    rmSync(join(root, 'blobs', 'sha256', hex.slice(0, 2)));
    expect((await store.finishUpload('r', s.id, digest)).size).toBe(7);
    expect(await text(await store.openBlob(digest))).toBe('blocked');
    expect(await store.listRepositoryBlobs('r')).toEqual([digest]);
  });

  it('init() clears half-written temporary files', async () => {
    const root = tempDir('perch-store-');
    const store = new FsStore(root);
    await store.init();
    writeFileSync(join(root, 'tmp', 'leftover'), 'half');
    await new FsStore(root).init();
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });

  it('writes blobs under blobs/<alg>/<xx>/<hex> and nowhere a name can reach outside the root', async () => {
    const root = tempDir('perch-store-');
    const store = new FsStore(root);
    await store.init();
    const d = await upload(store, 'r', 'where');
    const hex = d.slice('sha256:'.length);
    expect(statSync(join(root, 'blobs', 'sha256', hex.slice(0, 2), hex)).size).toBe(5);
    await expect(store.repositoryBlob('../../etc', d)).rejects.toThrow('invalid repository name');
    await expect(store.resolveTag('r', '../x')).rejects.toThrow('invalid tag');
  });
});

describe('ObjectStore specifics', () => {
  it('freshLinkMs: a link this replica made moments ago is known without asking the bucket, and forgotten when it goes', async () => {
    const bucket = memoryBucket();
    const store = new ObjectStore(bucket, { freshLinkMs: 60_000 });
    await store.init();
    const d = await upload(store, 'r', 'fresh layer');
    // Removed behind this replica's back (as no GC honouring gcDelay could): memory answers.
    await bucket.delete(`repositories/r/_layers/sha256/${d.slice(7)}`);
    expect(await store.touchRepositoryBlob('r', d)).toBe(true);
    expect(await store.touchRepositoryBlob('other', d)).toBe(false);
    await store.unlinkBlob('r', d);
    expect(await store.touchRepositoryBlob('r', d)).toBe(false);
    // Without the option every answer comes from the bucket.
    const plain = new ObjectStore(bucket);
    await plain.linkBlob('p', d);
    await bucket.delete(`repositories/p/_layers/sha256/${d.slice(7)}`);
    expect(await plain.touchRepositoryBlob('p', d)).toBe(false);
  });

  it('a finish on another replica (no running hash there) reads the chunks back and verifies them', async () => {
    const bucket = memoryBucket();
    const a = new ObjectStore(bucket);
    const b = new ObjectStore(bucket);
    const s = await a.startUpload('r');
    await a.appendUpload('r', s.id, 0, Readable.from([Buffer.from('one ')]));
    await b.appendUpload('r', s.id, 4, Readable.from([Buffer.from('two ')]));
    await a.appendUpload('r', s.id, 8, Readable.from([Buffer.from('three')]));
    expect(await kind(b.finishUpload('r', s.id, sha256('one two four')))).toBe('DigestMismatch');
    await b.finishUpload('r', s.id, sha256('one two three'));
    expect(await text(await a.openBlob(sha256('one two three'), { range: { start: 2, end: 9 } }))).toBe('e two th');
  });

  it('a cancel on one replica wins over a finish another replica then attempts from what it remembers', async () => {
    const bucket = memoryBucket();
    const a = new ObjectStore(bucket);
    const b = new ObjectStore(bucket);
    const s = await a.startUpload('r');
    await a.appendUpload('r', s.id, 0, Readable.from([Buffer.from('doomed')]));
    await b.cancelUpload('r', s.id);
    expect(await kind(a.finishUpload('r', s.id, sha256('doomed')))).toBe('UploadNotFound');
    expect(await a.statBlob(sha256('doomed'))).toBeNull();
    expect(await collectKeys(bucket, '')).toEqual([]);
  });

  it('two replicas finishing the same content keep one record; a cancel after a half-done finish keeps the adopted chunks', async () => {
    const bucket = memoryBucket();
    const a = new ObjectStore(bucket);
    const b = new ObjectStore(bucket);
    const [sa, sb] = [await a.startUpload('r'), await b.startUpload('q')];
    await a.appendUpload('r', sa.id, 0, Readable.from([Buffer.from('same')]));
    await b.appendUpload('q', sb.id, 0, Readable.from([Buffer.from('same')]));
    await Promise.all([a.finishUpload('r', sa.id, sha256('same')), b.finishUpload('q', sb.id, sha256('same'))]);
    const data: string[] = [];
    for await (const o of bucket.list('data/')) data.push(o.key);
    expect(data).toHaveLength(1);
    expect(await text(await b.openBlob(sha256('same')))).toBe('same');
    expect(await a.repositoryBlob('q', sha256('same'))).not.toBeNull();
    // A session marked adopted whose record names its chunks (a finish killed before its last step).
    const s = await a.startUpload('r');
    await a.appendUpload('r', s.id, 0, Readable.from([Buffer.from('adopted')]));
    const [chunk] = (await collectKeys(bucket, `data/${s.id}/`));
    await bucket.write(`uploads/${s.id}`, Buffer.from(JSON.stringify({ repository: 'r', startedMs: Date.now(), adopted: sha256('adopted') })));
    await bucket.write(`blobs/sha256/${sha256('adopted').slice(7)}`, Buffer.from(JSON.stringify({ size: 7, parts: [{ key: chunk, size: 7 }] })), { metadata: { size: '7', touched: String(Date.now()) } });
    await a.cancelUpload('r', s.id);
    expect(await text(await a.openBlob(sha256('adopted')))).toBe('adopted');
  });
});

async function collectKeys(bucket: ReturnType<typeof memoryBucket>, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of bucket.list(prefix)) keys.push(o.key);
  return keys;
}
