/**
 * The filesystem store: content-addressed blobs shared by every repository, per-repository
 * link files, tags as small files replaced by rename. The on-disk tree is drawn in paths.ts.
 *
 * Crash model (DESIGN.md): an upload streams into uploads/<id> while it is hashed; only
 * a verified upload is renamed to blobs/<alg>/.., so no partial blob is ever visible under a
 * digest. Links, manifests and tags are written before the request is acknowledged, each by
 * write-then-rename or by creating a symlink. A kill at any point leaves either the old
 * or the new state plus, at worst, an unreferenced blob that garbage collection removes.
 * With `durable` (storage.commit) every step is fsynced before it is acknowledged.
 *
 * An upload session's size is what its last acknowledged request ended at, kept in a record
 * beside its bytes (uploads/<id>.ack) and set before the answer is sent. A kill in the middle of
 * a chunk leaves part of it in the data file; on reading the session back the tail past the
 * record is cut, so the client's next chunk, from the offset it asks for or from its own count,
 * continues exactly where the server said it was.
 */
import { randomUUID, type Hash } from 'node:crypto';
import { close, createReadStream, createWriteStream, fstat, open, promises as fs } from 'node:fs';
import { promisify } from 'node:util';
import { dirname, join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { newHash, parseDigest } from '../oci/digest';
import { isNotFound, writeFileAtomic, fsyncPath, fsyncDir, withParent } from './atomic-file';
import { StorePaths, UPLOAD_ID } from './paths';
import { pump } from './body-pump';
import { readRecord, readRecordWithTime, setRecord } from './symlink-record';
import {
  StorageError,
  type AppendOptions,
  type BlobStat,
  type ByteRange,
  type ReferrerDescriptor,
  type Store,
  type StoredManifest,
  type TagInfo,
  type UploadSession,
} from './types';

const openFile = promisify(open);
const fstatFile = promisify(fstat);
const closeFile = promisify(close);

/**
 * File stream buffers: big enough that a MiB-sized layer moves in a few read/write calls (each
 * one a trip through libuv's thread pool), small enough that a hundred concurrent transfers
 * stay well inside the memory budget.
 */
const FILE_BUFFER = 1024 * 1024;

interface ManifestLink {
  mediaType: string;
  subject?: string;
}

/** The sha256 state of an upload that this process has seen every byte of. */
interface HashState {
  hash: Hash;
  bytes: number;
}

export interface FsStoreOptions {
  /** fsync before every acknowledgement (zot's storage.commit). */
  durable?: boolean;
  /**
   * init() removes upload data left without its session file for longer than this (perch's
   * uploadTTL): bytes of a session finished in one request (a monolithic push) that a crash
   * interrupted. Such a session lived only in the crashed process's memory, so nothing can
   * resume it; the age spares one that another process on the same root is still writing.
   */
  orphanUploadMs?: number;
  /**
   * How long a layer link this store made counts as fresh (see recentLinks); 0, the default,
   * never. Must stay well below storage.gcDelay: `perch serve` passes half of it, at most a
   * minute.
   */
  freshLinkMs?: number;
}

/**
 * Past this many remembered links, the ones older than freshLinkMs are dropped; the next
 * sweep waits until the count has doubled, so sweeps cost O(1) per link however busy.
 */
const RECENT_LINKS_PRUNE_AT = 4096;

export class FsStore implements Store {
  readonly paths: StorePaths;
  private readonly durable: boolean;
  private readonly orphanUploadMs: number | undefined;
  private readonly freshLinkMs: number;
  /**
   * Layer links this store made (by finish or mount) whose blob was written or refreshed
   * in the last freshLinkMs, as repository -> digest -> when the blob was. Such a blob is
   * younger than freshLinkMs, far inside GC's grace period (storage.gcDelay), and no
   * collector honouring that period can have removed the link or the blob since; this
   * process forgets the entry when it unlinks or deletes either. touchRepositoryBlob answers
   * for these without its utimes: the manifest PUT that follows a push right away (the usual
   * case) saves a thread-pool trip per blob.
   */
  private readonly recentLinks = new Map<string, Map<string, number>>();
  private recentLinkCount = 0;
  private nextLinkSweepAt = RECENT_LINKS_PRUNE_AT;
  private readonly hashes = new Map<string, HashState>();
  private readonly sessions = new Map<string, UploadSession>();
  /** Sessions whose info file is on disk (see startUpload). */
  private readonly persisted = new Set<string>();
  /** One append or finish at a time per upload session. */
  private readonly busy = new Set<string>();

  constructor(root: string, options: FsStoreOptions = {}) {
    this.paths = new StorePaths(root);
    this.durable = options.durable ?? false;
    this.orphanUploadMs = options.orphanUploadMs;
    this.freshLinkMs = options.freshLinkMs ?? 0;
  }

  async init(): Promise<void> {
    for (const dir of [this.paths.blobsDir, this.paths.uploadsDir, this.paths.repositoriesDir]) await fs.mkdir(dir, { recursive: true });
    // Files in tmp/ were never renamed into place: a crash interrupted them.
    await fs.rm(this.paths.tmpDir, { recursive: true, force: true });
    await fs.mkdir(this.paths.tmpDir, { recursive: true });
    if (this.orphanUploadMs !== undefined) await this.removeOrphanUploads(Date.now() - this.orphanUploadMs);
  }

  /** Upload data files (and ack records) with no session file beside them, last written before `cutoffMs`. */
  private async removeOrphanUploads(cutoffMs: number): Promise<void> {
    const names = new Set(await readdirOrEmpty(this.paths.uploadsDir));
    for (const name of names) {
      const id = name.endsWith('.ack') ? name.slice(0, -'.ack'.length) : name;
      if (!UPLOAD_ID.test(id) || names.has(`${id}.json`)) continue;
      const path = name === id ? this.paths.uploadData(id) : this.paths.uploadAck(id);
      try {
        if ((await fs.lstat(path)).mtimeMs < cutoffMs) await fs.unlink(path);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  async checkWritable(): Promise<void> {
    const probe = join(this.paths.tmpDir, `.readyz-${randomUUID()}`);
    try {
      await fs.writeFile(probe, 'ok');
    } finally {
      // Also when the write failed: a full disk makes the file, then refuses its bytes.
      await fs.rm(probe, { force: true }).catch(() => {});
    }
  }

  // ---- blobs ----

  async statBlob(digest: string): Promise<BlobStat | null> {
    try {
      const st = await fs.stat(this.paths.blob(digest));
      return { digest, size: st.size, modifiedMs: st.mtimeMs };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async openBlob(digest: string, options: { range?: ByteRange; size?: number } = {}): Promise<Readable> {
    // Open first: a blob removed since the caller's stat is a clean NotFound, not a broken stream.
    // A numeric descriptor, not a FileHandle: its stream reads with plain callbacks, which cost
    // less per read than FileHandle's promises.
    let fd: number;
    try {
      fd = await openFile(this.paths.blob(digest), 'r');
    } catch (err) {
      if (isNotFound(err)) throw new StorageError('NotFound', `blob ${digest} not found`);
      throw err;
    }
    try {
      const size = options.size ?? (await fstatFile(fd)).size;
      const { start, end } = options.range ?? { start: 0, end: size - 1 };
      if (options.range && (start > end || end >= size)) throw new StorageError('RangeNotSatisfiable', `range ${start}-${end} outside ${size} bytes`);
      if (size === 0) {
        await closeFile(fd);
        return Readable.from([]);
      }
      // With its end known the stream stops without a last read to find end-of-file.
      return createReadStream('', { fd, start, end, highWaterMark: FILE_BUFFER });
    } catch (err) {
      await closeFile(fd).catch(() => {});
      throw err;
    }
  }

  async touchBlob(digest: string): Promise<boolean> {
    return this.touchPath(this.paths.blob(digest));
  }

  private async touchPath(path: string): Promise<boolean> {
    const now = new Date();
    try {
      await fs.utimes(path, now, now);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      // Setting times needs ownership: a blob another user wrote (a volume carried over from
      // another image) exists but keeps its age, so GC's grace is not refreshed for it.
      if ((err as NodeJS.ErrnoException).code === 'EPERM') return true;
      throw err;
    }
  }

  async deleteBlob(digest: string): Promise<boolean> {
    for (const links of this.recentLinks.values()) if (links.delete(digest)) this.recentLinkCount--;
    return unlinkIfPresent(this.paths.blob(digest));
  }

  async *listBlobs(): AsyncIterable<BlobStat> {
    for (const algorithm of await readdirOrEmpty(this.paths.blobsDir)) {
      for (const prefix of await readdirOrEmpty(join(this.paths.blobsDir, algorithm))) {
        for (const hex of await readdirOrEmpty(join(this.paths.blobsDir, algorithm, prefix))) {
          const digest = `${algorithm}:${hex}`;
          if (!parseDigest(digest)) continue;
          const st = await this.statBlob(digest);
          if (st) yield st;
        }
      }
    }
  }

  // ---- repository membership ----

  /** One stat through the link: it answers "does the repository hold it" and "how big is it". */
  async repositoryBlob(repository: string, digest: string): Promise<BlobStat | null> {
    try {
      const st = await fs.stat(this.paths.layerLink(repository, digest));
      return { digest, size: st.size, modifiedMs: st.mtimeMs };
    } catch (err) {
      if (isNotFound(err)) return null; // no link, or a link whose blob garbage collection took
      throw err;
    }
  }

  /** utimes follows the link: one call refreshes the blob and proves the repository holds it. */
  async touchRepositoryBlob(repository: string, digest: string): Promise<boolean> {
    const linkedMs = this.recentLinks.get(repository)?.get(digest);
    if (linkedMs !== undefined && Date.now() - linkedMs < this.freshLinkMs) return true;
    return this.touchPath(this.paths.layerLink(repository, digest));
  }

  /**
   * Notes a layer link made (or found) for a blob last written or refreshed at `blobMs` (a
   * finished upload keeps the mtime of its last write, which may be long ago).
   */
  private rememberLink(repository: string, digest: string, blobMs: number): void {
    const now = Date.now();
    if (this.freshLinkMs <= 0 || now - blobMs >= this.freshLinkMs) return;
    if (this.recentLinkCount >= this.nextLinkSweepAt) {
      this.pruneRecentLinks(now);
      this.nextLinkSweepAt = Math.max(RECENT_LINKS_PRUNE_AT, 2 * this.recentLinkCount);
    }
    let links = this.recentLinks.get(repository);
    if (!links) this.recentLinks.set(repository, (links = new Map()));
    if (!links.has(digest)) this.recentLinkCount++;
    links.set(digest, blobMs);
  }

  private pruneRecentLinks(now: number): void {
    for (const [repository, links] of this.recentLinks) {
      for (const [digest, blobMs] of links) {
        if (now - blobMs < this.freshLinkMs) continue;
        links.delete(digest);
        this.recentLinkCount--;
      }
      if (links.size === 0) this.recentLinks.delete(repository);
    }
  }

  async linkBlob(repository: string, digest: string): Promise<void> {
    const touchedMs = Date.now();
    if (!(await this.touchBlob(digest))) throw new StorageError('NotFound', `blob ${digest} not found`);
    await this.writeLayerLink(repository, digest);
    this.rememberLink(repository, digest, touchedMs);
  }

  /**
   * A layer link is a relative symlink to the blob: one syscall to create, and one stat through
   * it finds the blob. Relative, so the storage root can be mounted anywhere. True when it made
   * the link, false when the repository had it already.
   */
  private async writeLayerLink(repository: string, digest: string): Promise<boolean> {
    const link = this.paths.layerLink(repository, digest);
    const target = relative(dirname(link), this.paths.blob(digest));
    try {
      await withParent(link, () => fs.symlink(target, link));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    if (this.durable) await fsyncDir(dirname(link));
    return true;
  }

  async unlinkBlob(repository: string, digest: string): Promise<boolean> {
    if (this.recentLinks.get(repository)?.delete(digest)) this.recentLinkCount--;
    return this.removeFromRepository(this.paths.layerLink(repository, digest));
  }

  async listRepositoryBlobs(repository: string): Promise<string[]> {
    return listDigests(this.paths.layersDir(repository));
  }

  // ---- uploads ----

  /**
   * A new session lives in memory until its first byte arrives; the info file is written then,
   * beside the first chunk. A restart before that forgets a session that holds nothing, and the
   * client's next request for it gets BLOB_UPLOAD_UNKNOWN and starts again: no byte is lost,
   * and the common POST-then-PUT push pays no disk round trip for its POST.
   */
  async startUpload(repository: string): Promise<UploadSession> {
    const id = randomUUID();
    const now = Date.now();
    this.hashes.set(id, { hash: newHash('sha256'), bytes: 0 });
    const session = { repository, id, size: 0, startedMs: now, updatedMs: now };
    this.sessions.set(id, session);
    return { ...session };
  }

  /** Writes the session's info file once. In place: a torn one only loses a session on restart. */
  private async persist(session: UploadSession): Promise<void> {
    if (this.persisted.has(session.id)) return;
    // `acks`: this session's size is its ack record (a session from an older perch has none).
    const info = JSON.stringify({ repository: session.repository, startedMs: session.startedMs, acks: 1 });
    if (this.durable) await writeFileAtomic(this.paths.uploadInfo(session.id), info, this.paths.tmpDir, true);
    else {
      await fs.writeFile(this.paths.uploadInfo(session.id), info).catch(async (err) => {
        // A file made but refused its bytes (a full disk) would be an unreadable session for good.
        await fs.rm(this.paths.uploadInfo(session.id), { force: true }).catch(() => {});
        throw err;
      });
    }
    this.persisted.add(session.id);
  }

  /**
   * Sessions this process started or has read, so the requests of one upload do not reread
   * info.json and stat the data file each time. After a restart the disk answers (and refills
   * the map); the data file appears with the first byte, so a missing one means 0 bytes.
   */
  async getUpload(repository: string, id: string): Promise<UploadSession> {
    const cached = this.sessions.get(id);
    if (cached) {
      if (cached.repository !== repository) throw new StorageError('UploadNotFound', `upload ${id} not found in ${repository}`);
      return { ...cached };
    }
    let info: { repository: string; startedMs: number; acks?: number };
    try {
      info = JSON.parse(await fs.readFile(this.paths.uploadInfo(id), 'utf8'));
    } catch (err) {
      if (isNotFound(err) || err instanceof SyntaxError || (err as Error).message?.startsWith('invalid upload id')) {
        throw new StorageError('UploadNotFound', `upload ${id} not found`);
      }
      throw err;
    }
    if (info.repository !== repository) throw new StorageError('UploadNotFound', `upload ${id} not found in ${repository}`);
    let size = 0;
    let updatedMs = info.startedMs;
    try {
      const st = await fs.stat(this.paths.uploadData(id));
      size = st.size;
      updatedMs = st.mtimeMs;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const session: UploadSession = { repository, id, size, startedMs: info.startedMs, updatedMs };
    if (info.acks) {
      const ack = await this.readAck(id);
      if (size > ack.acknowledged) {
        // A chunk the crash cut short: its bytes were never acknowledged.
        await fs.truncate(this.paths.uploadData(id), ack.acknowledged);
        size = session.size = ack.acknowledged;
      }
      // Fewer bytes than acknowledged (a power loss without storage.commit): the file is the truth.
      if (ack.previous < size) session.resendFrom = ack.previous;
    }
    this.sessions.set(id, session);
    this.persisted.add(id);
    return { ...session };
  }

  /** The session's ack record; none yet means nothing was acknowledged. */
  private async readAck(id: string): Promise<{ acknowledged: number; previous: number }> {
    const record = await readRecord(this.paths.uploadAck(id));
    const m = record === null ? null : /^(\d+) (\d+)$/.exec(record);
    return m ? { acknowledged: Number(m[1]), previous: Number(m[2]) } : { acknowledged: 0, previous: 0 };
  }

  async appendUpload(repository: string, id: string, offset: number, data: Readable, expectedLength?: number, options: AppendOptions = {}): Promise<UploadSession> {
    return this.exclusive(id, async () => {
      let session = await this.getUpload(repository, id);
      if (offset !== session.size) {
        if (offset !== session.resendFrom) throw new StorageError('RangeMismatch', `upload is at ${session.size} bytes, chunk starts at ${offset}`);
        // The resend of the last chunk before a restart: it replaces that chunk, which is
        // un-acknowledged first (a crash in between then cuts the file back to the same place).
        await setRecord(this.paths.uploadAck(id), `${offset} ${offset}`, this.paths.tmpDir, this.durable);
        await fs.truncate(this.paths.uploadData(id), offset);
        this.hashes.delete(id);
        session = { repository, id, size: offset, startedMs: session.startedMs, updatedMs: Date.now() };
        this.sessions.set(id, session);
      }
      const known = this.hashes.get(id);
      // The running hash is fed in place; if this chunk fails it no longer matches the file and
      // is dropped (the finish then rehashes the file from disk, a rare and correct fallback).
      const state = known && known.bytes === session.size ? known : undefined;
      const dataPath = this.paths.uploadData(id);
      let received = 0;
      try {
        // A session finished in this same request is never resumed: it needs no info file.
        // Both settle before anything is judged: the truncate below must not race the writes.
        const [persisted, pumped] = await Promise.allSettled([
          options.final ? undefined : this.persist(session),
          pump(data, {
            maxBytes: expectedLength,
            onChunk: state && ((chunk) => state.hash.update(chunk)),
            sink: createWriteStream(dataPath, { flags: 'a', highWaterMark: FILE_BUFFER }),
          }),
        ]);
        if (pumped.status === 'rejected') throw pumped.reason;
        if (persisted.status === 'rejected') throw persisted.reason;
        received = pumped.value;
        if (expectedLength !== undefined && received !== expectedLength) {
          throw new StorageError('SizeMismatch', `expected ${expectedLength} bytes, received ${received}`);
        }
        if (!options.final) {
          // Acknowledged from here: the answer goes out once the record says so. A record that
          // cannot be written (no inode left) fails the chunk like a broken stream.
          if (this.durable) await fsyncPath(dataPath);
          await setRecord(this.paths.uploadAck(id), `${session.size + received} ${session.size}`, this.paths.tmpDir, this.durable);
        }
      } catch (err) {
        // Leave the session as it was: drop whatever part of this chunk reached the disk.
        this.hashes.delete(id);
        await fs.truncate(dataPath, session.size).catch(() => {});
        if (isNotFound(err)) {
          // The session's folder is gone (purged by a `perch gc` in another process).
          this.forget(id);
          throw new StorageError('UploadNotFound', `upload ${id} not found`);
        }
        throw err;
      }
      if (state) state.bytes += received;
      else this.hashes.delete(id); // rehashed from disk when the upload finishes
      const updated: UploadSession = { repository, id, size: session.size + received, startedMs: session.startedMs, updatedMs: Date.now() };
      this.sessions.set(id, updated);
      return { ...updated };
    });
  }

  async finishUpload(repository: string, id: string, digest: string): Promise<BlobStat> {
    return this.exclusive(id, async () => {
      const session = await this.getUpload(repository, id);
      const parsed = parseDigest(digest);
      if (!parsed) throw new StorageError('DigestMismatch', `invalid digest ${digest}`);
      const dataPath = this.paths.uploadData(id);
      if (session.size === 0) await fs.writeFile(dataPath, '', { flag: 'a' }); // the empty blob
      const known = this.hashes.get(id);
      // A hash can be finalised once: the state is dropped, and a finish retried after a digest
      // mismatch rehashes the file.
      this.hashes.delete(id);
      let actual: string;
      if (parsed.algorithm === 'sha256' && known && known.bytes === session.size) {
        actual = known.hash.digest('hex');
      } else {
        actual = await hashFile(dataPath, parsed.algorithm);
      }
      if (actual !== parsed.hex) throw new StorageError('DigestMismatch', `upload hashes to ${parsed.algorithm}:${actual}, not ${digest}`);
      const target = this.paths.blob(digest);
      if (this.durable) await fsyncPath(dataPath);
      // Rename even when the content is stored already (deduplication): the bytes are the same,
      // readers keep the inode they opened, and the fresh mtime restarts GC's grace period.
      // The repository's link first: until the rename lands it dangles, and a dangling link
      // reads as "not in the repository" (repositoryBlob). A link that cannot be written (a full
      // disk) then fails the finish with the session's bytes still there, to finish once it can.
      const linked = await this.writeLayerLink(repository, digest);
      try {
        await withParent(target, () => fs.rename(dataPath, target));
        if (this.durable) await fsyncDir(dirname(target));
      } catch (err) {
        if (linked) await this.unlinkBlob(repository, digest);
        throw err;
      }
      // The link is new or was there already; either way the blob now holds this session's
      // bytes, with the mtime of their last write.
      this.rememberLink(repository, digest, session.updatedMs);
      if (this.persisted.has(id)) await this.removeSessionFiles(id);
      this.forget(id);
      return { digest, size: session.size, modifiedMs: Date.now() };
    });
  }

  async cancelUpload(repository: string, id: string): Promise<void> {
    await this.getUpload(repository, id);
    await unlinkIfPresent(this.paths.uploadData(id));
    if (this.persisted.has(id)) await this.removeSessionFiles(id);
    this.forget(id);
  }

  /** The ack record first: a session file left alone by a crash then reads as 0 bytes, never as bytes that are gone. */
  private async removeSessionFiles(id: string): Promise<void> {
    await unlinkIfPresent(this.paths.uploadAck(id));
    await unlinkIfPresent(this.paths.uploadInfo(id));
  }

  private forget(id: string): void {
    this.hashes.delete(id);
    this.sessions.delete(id);
    this.persisted.delete(id);
  }

  async *listUploads(): AsyncIterable<UploadSession> {
    // Sessions that have not received a byte yet exist only here (startUpload).
    for (const session of [...this.sessions.values()]) if (!this.persisted.has(session.id)) yield { ...session };
    for (const name of await readdirOrEmpty(this.paths.uploadsDir)) {
      if (!name.endsWith('.json')) continue;
      const id = name.slice(0, -'.json'.length);
      try {
        const info = JSON.parse(await fs.readFile(this.paths.uploadInfo(id), 'utf8'));
        yield await this.getUpload(info.repository, id);
      } catch {
        // A session whose info never made it to disk: garbage collection's business.
      }
    }
  }

  private async exclusive<T>(id: string, work: () => Promise<T>): Promise<T> {
    if (this.busy.has(id)) throw new StorageError('RangeMismatch', `upload ${id} is receiving another request`);
    this.busy.add(id);
    try {
      return await work();
    } finally {
      this.busy.delete(id);
    }
  }

  // ---- manifests and tags ----

  async putManifest(repository: string, manifest: StoredManifest, subject?: { digest: string; descriptor: ReferrerDescriptor }): Promise<void> {
    // The three writes are independent: a link whose blob is missing reads as "no manifest",
    // and a referrer entry is only listed for a manifest that reads back. The caller sets the
    // tag after this returns, so a tag never points at a manifest that is not whole.
    // The blob is written even when it is stored already: the same bytes, a fresh mtime for
    // GC's grace, and for the usual new manifest one call fewer than touch-then-write.
    const link: ManifestLink = { mediaType: manifest.mediaType, ...(subject ? { subject: subject.digest } : {}) };
    const linkPath = this.paths.manifestLink(repository, manifest.digest);
    const referrerPath = subject && this.paths.referrer(repository, subject.digest, manifest.digest);
    const [body, referrer, linked] = await Promise.allSettled([
      writeFileAtomic(this.paths.blob(manifest.digest), manifest.body, this.paths.tmpDir, this.durable),
      referrerPath && writeFileAtomic(referrerPath, JSON.stringify(subject.descriptor), this.paths.tmpDir, this.durable),
      setRecord(linkPath, JSON.stringify(link), this.paths.tmpDir, this.durable, { unlessSame: true }),
    ]);
    const failed = [body, referrer, linked].find((r) => r.status === 'rejected');
    if (!failed) return;
    // A refused write (a full disk) leaves the repository as it was: the link and referrer entry
    // this call made go again. Left, they would stay for good: a link whose body is missing
    // reads as "no manifest", and garbage collection never removes a manifest it cannot read.
    if (linked.status === 'fulfilled' && linked.value) {
      await this.removeFromRepository(linkPath).catch(() => false);
      if (referrerPath && referrer.status === 'fulfilled') await this.removeFromRepository(referrerPath).catch(() => false);
    }
    throw failed.reason;
  }

  async getManifest(repository: string, digest: string): Promise<StoredManifest | null> {
    // Link and content read side by side: a GET waits for one disk trip instead of two.
    const [link, body] = await Promise.all([
      this.readManifestLink(repository, digest),
      fs.readFile(this.paths.blob(digest)).catch((err) => {
        if (isNotFound(err)) return null;
        throw err;
      }),
    ]);
    return link && body ? { digest, mediaType: link.mediaType, body } : null;
  }

  private async readManifestLink(repository: string, digest: string): Promise<ManifestLink | null> {
    const record = await readRecord(this.paths.manifestLink(repository, digest));
    return record === null ? null : (JSON.parse(record) as ManifestLink);
  }

  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    const link = await this.readManifestLink(repository, digest);
    if (!link) return false;
    for (const tag of await this.listTags(repository)) {
      if ((await this.resolveTag(repository, tag)) === digest) await this.deleteTag(repository, tag);
    }
    if (link.subject) await this.removeFromRepository(this.paths.referrer(repository, link.subject, digest));
    await this.removeFromRepository(this.paths.manifestLink(repository, digest));
    return true;
  }

  async listManifests(repository: string): Promise<string[]> {
    return listDigests(this.paths.manifestsDir(repository));
  }

  async setTag(repository: string, tag: string, digest: string): Promise<void> {
    await setRecord(this.paths.tag(repository, tag), digest, this.paths.tmpDir, this.durable);
  }

  async resolveTag(repository: string, tag: string): Promise<string | null> {
    return readRecord(this.paths.tag(repository, tag));
  }

  /** The tag's mtime is when it was last set: setTag replaces it by rename. */
  async tagInfo(repository: string, tag: string): Promise<TagInfo | null> {
    const record = await readRecordWithTime(this.paths.tag(repository, tag));
    return record && { digest: record.value, modifiedMs: record.modifiedMs };
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    return this.removeFromRepository(this.paths.tag(repository, tag));
  }

  async listTags(repository: string): Promise<string[]> {
    return (await readdirOrEmpty(this.paths.tagsDir(repository))).sort();
  }

  async listReferrers(repository: string, digest: string): Promise<ReferrerDescriptor[]> {
    const dir = this.paths.referrersDir(repository, digest);
    const out: ReferrerDescriptor[] = [];
    for (const name of (await readdirOrEmpty(dir)).sort()) {
      try {
        out.push(JSON.parse(await fs.readFile(join(dir, name), 'utf8')));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return out;
  }

  /**
   * Removes a link, record or referrer entry of a repository, then every folder above it that
   * this left empty, up to the repositories folder: a repository whose last manifest, tag and
   * blob are gone (deleted, or collected) leaves no folder behind and drops out of _catalog.
   * A writer that finds its folder gone makes it again (withParent, writeFileAtomic).
   */
  private async removeFromRepository(path: string): Promise<boolean> {
    if (!(await unlinkIfPresent(path))) return false;
    for (let dir = dirname(path); dir.startsWith(`${this.paths.repositoriesDir}/`); dir = dirname(dir)) {
      try {
        await fs.rmdir(dir);
      } catch {
        break; // not empty (ENOTEMPTY, EEXIST), or gone already: the folders above stay too
      }
    }
    return true;
  }

  async listRepositories(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, prefix: string) => {
      const entries = await readdirOrEmpty(dir);
      if (entries.includes('_manifests') || entries.includes('_layers')) out.push(prefix);
      for (const entry of entries) {
        if (!entry.startsWith('_')) await walk(join(dir, entry), prefix ? `${prefix}/${entry}` : entry);
      }
    };
    await walk(this.paths.repositoriesDir, '');
    return out.filter(Boolean).sort();
  }

  async repositoryExists(repository: string): Promise<boolean> {
    const entries = await readdirOrEmpty(this.paths.repository(repository));
    return entries.includes('_manifests') || entries.includes('_layers');
  }
}

/** unlink, where a file already gone is fine (fs.rm with force also lstats first); true when it removed one. */
async function unlinkIfPresent(path: string): Promise<boolean> {
  try {
    await fs.unlink(path);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

async function listDigests(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const algorithm of await readdirOrEmpty(dir)) {
    for (const hex of await readdirOrEmpty(join(dir, algorithm))) out.push(`${algorithm}:${hex}`);
  }
  return out.sort();
}

async function hashFile(path: string, algorithm: 'sha256' | 'sha512'): Promise<string> {
  const hash = newHash(algorithm);
  for await (const chunk of createReadStream(path, { highWaterMark: FILE_BUFFER })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
