/**
 * The Store on an object store (S3, GCS, Azure Blob through a Bucket), shared by any number of
 * `perch serve` replicas: nothing lives only in one process except caches that a replica can
 * lose at any time. The key layout is in layout.ts; why each step is safe without the
 * filesystem's rename and link is in docs/storage.md ("Object storage"). In short:
 *
 * - An upload session is a record (uploads/<id>) plus one object per chunk received
 *   (data/<id>/<offset>), so any replica can continue it: its size is what the chunks add up
 *   to. A chunk is streamed to the bucket as it arrives (multipart, never whole in memory) and
 *   becomes visible only complete; a refused or cut-short chunk leaves nothing.
 * - A blob becomes visible under its digest when its record (blobs/<alg>/<hex>) is created,
 *   only after the chunks were hashed to that digest; the record names the chunk objects, so
 *   finishing never copies bytes. Records are created with create-if-absent: two replicas
 *   finishing the same content concurrently keep one record and the loser drops its chunks.
 * - The replica that received the chunks keeps their running hash in memory; a finish on
 *   another replica (or after a restart) reads the chunks back to hash them.
 * - Tags, links and manifest revisions are single objects, each replaced whole by one write.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { mapLimit } from '../../map-limit';
import { parseDigest } from '../../oci/digest';
import { StorageError, type AppendOptions, type BlobStat, type ByteRange, type Lease, type ReferrerDescriptor, type SharedStore, type StoredManifest, type TagInfo, type UploadSession } from '../types';
import { bucketLease } from './bucket-lease';
import { ObjectMissing, type Bucket, type ObjectInfo } from './bucket';
import * as key from './layout';
import { countedBody, partsStream, type Part } from './part-streams';

/** What a blob record holds: the bytes inline (manifests) or the chunk objects, in order. */
interface BlobRecord {
  size: number;
  inline?: string;
  parts?: Part[];
}

interface SessionRecord {
  /** The version of the record this was read as (not stored): adoption and cancel swap it. */
  etag?: string;
  /** Set by a cancel before it deletes the chunks: a finish can no longer adopt them. */
  cancelled?: boolean;
  repository: string;
  startedMs: number;
  /** Set just before the chunks become a blob's bytes: a cancel must then leave them. */
  adopted?: string;
}

/**
 * What a replica remembers of an upload session it started or wrote the last chunk of: the
 * record (which only a finish changes), where its chunks end, their keys, and the running
 * sha256 of their bytes. Lost on a restart, wrong once another replica took the next chunk:
 * then the bucket answers (appendUpload, finishUpload).
 */
interface SessionState {
  record: SessionRecord;
  size: number;
  keys: string[];
  hash?: Hash;
}

/** How many upload sessions a replica remembers (one per upload it is receiving). */
const SESSIONS_KEPT = 512;
/** How many blob records openBlob remembers (records never change; a deleted one is re-read). */
const RECORDS_KEPT = 4096;
/** Records holding a manifest inline are remembered up to this size (base64 characters). */
const INLINE_CACHED = 64 * 1024;
/** Parallel requests when a listing needs one per entry. */
const FAN_OUT = 16;

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const parse = <T>(body: Buffer): T => JSON.parse(body.toString()) as T;
const metadataFor = (size: number, touchedMs = Date.now()) => ({ size: String(size), touched: String(touchedMs) });

const mapLimited = <T, R>(items: T[], fn: (item: T) => Promise<R>) => mapLimit(items, FAN_OUT, fn);

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export class ObjectStore implements SharedStore {
  /** Upload sessions this replica started or wrote to last (see SessionState). */
  private readonly sessions = new Map<string, SessionState>();
  private readonly records = new Map<string, BlobRecord>();
  /** Repositories whose index entry this replica has written (or seen). */
  private readonly indexed = new Set<string>();
  /**
   * Links this replica made, as "repository digest" -> when it refreshed the blob's record.
   * Within freshLinkMs (far inside GC's grace period, storage.gcDelay) no collector honouring
   * that period, on any replica, can have removed the link or the record, so
   * touchRepositoryBlob answers for them without three requests: the manifest PUT that
   * follows a push (the usual case) checks its blobs from memory. As FsStore's recentLinks.
   */
  private readonly recentLinks = new Map<string, number>();

  constructor(
    readonly bucket: Bucket,
    private readonly options: { freshLinkMs?: number } = {},
  ) {}

  private rememberLink(repository: string, digest: string, touchedMs: number): void {
    if (!this.options.freshLinkMs) return;
    if (this.recentLinks.size >= RECORDS_KEPT) this.recentLinks.delete(this.recentLinks.keys().next().value!);
    this.recentLinks.set(`${repository} ${digest}`, touchedMs);
  }

  private freshLink(repository: string, digest: string): boolean {
    const touchedMs = this.recentLinks.get(`${repository} ${digest}`);
    return touchedMs !== undefined && Date.now() - touchedMs < (this.options.freshLinkMs ?? 0);
  }

  private forgetLinks(digest: string, repository?: string): void {
    for (const k of [...this.recentLinks.keys()]) if (k.endsWith(` ${digest}`) && (repository === undefined || k === `${repository} ${digest}`)) this.recentLinks.delete(k);
  }

  async init(): Promise<void> {
    await this.bucket.check();
  }

  async blobUrl(digest: string, seconds: number): Promise<string | null> {
    const record = await this.record(digest, true);
    // Only a blob whose bytes are one object (most are: one chunk) has one URL.
    if (!record || record.parts?.length !== 1) return null;
    return this.bucket.presignGet(record.parts[0].key, seconds);
  }

  gcLease(holder: string, ttlMs: number): Lease {
    return bucketLease(this.bucket, key.gcLeaseKey, holder, ttlMs);
  }

  async checkWritable(): Promise<void> {
    await this.bucket.check();
  }

  // ---- blobs ----

  private statFrom(digest: string, info: ObjectInfo): BlobStat {
    const size = Number(info.metadata.size);
    const touched = Number(info.metadata.touched);
    return { digest, size: Number.isFinite(size) ? size : 0, modifiedMs: Number.isFinite(touched) && touched > 0 ? touched : info.modifiedMs };
  }

  async statBlob(digest: string): Promise<BlobStat | null> {
    const info = await this.bucket.head(key.blobKey(digest));
    return info ? this.statFrom(digest, info) : null;
  }

  private async record(digest: string, fresh = false): Promise<BlobRecord | null> {
    if (!fresh) {
      const known = this.records.get(digest);
      if (known) return known;
    }
    return (await this.readRecord(digest))?.record ?? null;
  }

  /** The blob's record and stat in one read, remembered for openBlob. */
  private async readRecord(digest: string): Promise<{ record: BlobRecord; stat: BlobStat } | null> {
    const got = await this.bucket.read(key.blobKey(digest));
    if (!got) {
      this.records.delete(digest);
      return null;
    }
    const record = parse<BlobRecord>(got.body);
    // Not a big manifest kept inline: RECORDS_KEPT of those could fill the heap.
    if ((record.inline?.length ?? 0) <= INLINE_CACHED) {
      if (this.records.size >= RECORDS_KEPT) this.records.delete(this.records.keys().next().value!);
      this.records.set(digest, record);
    }
    return { record, stat: this.statFrom(digest, got.info) };
  }

  async openBlob(digest: string, options: { range?: ByteRange; size?: number } = {}): Promise<Readable> {
    for (const fresh of [false, true]) {
      const record = await this.record(digest, fresh);
      if (!record) break;
      const { start, end } = options.range ?? { start: 0, end: record.size - 1 };
      if (options.range && (start > end || end >= record.size)) throw new StorageError('RangeNotSatisfiable', `range ${start}-${end} outside ${record.size} bytes`);
      if (record.size === 0) return Readable.from([]);
      if (record.inline !== undefined) return Readable.from([Buffer.from(record.inline, 'base64').subarray(start, end + 1)]);
      try {
        return await partsStream(this.bucket, record.parts ?? [], start, end);
      } catch (err) {
        // A record remembered from before the blob was collected (and perhaps pushed again).
        if (!(err instanceof ObjectMissing)) throw err;
        this.records.delete(digest);
      }
    }
    throw new StorageError('NotFound', `blob ${digest} not found`);
  }

  async touchBlob(digest: string): Promise<boolean> {
    const info = await this.bucket.head(key.blobKey(digest));
    if (!info) return false;
    // Never creates: a record garbage collection removed after the head stays removed.
    return this.bucket.setMetadata(key.blobKey(digest), metadataFor(this.statFrom(digest, info).size));
  }

  async deleteBlob(digest: string): Promise<boolean> {
    const record = await this.record(digest, true);
    if (!record) return false;
    this.forgetLinks(digest);
    await this.bucket.delete(key.blobKey(digest));
    this.records.delete(digest);
    await this.bucket.deleteMany((record.parts ?? []).map((p) => p.key));
    return true;
  }

  async *listBlobs(): AsyncIterable<BlobStat> {
    let page: string[] = [];
    const flush = async () => {
      const stats = await mapLimited(page, (digest) => this.statBlob(digest));
      page = [];
      return stats.filter((s): s is BlobStat => s !== null);
    };
    for await (const info of this.bucket.list(key.blobPrefix)) {
      const digest = key.digestFromPath(info.key.slice(key.blobPrefix.length));
      if (digest) page.push(digest);
      if (page.length >= 256) yield* await flush();
    }
    yield* await flush();
  }

  // ---- repository links ----

  private async indexRepository(repository: string): Promise<void> {
    if (this.indexed.has(repository)) return;
    await this.bucket.write(key.repositoryIndexKey(repository), Buffer.alloc(0));
    this.indexed.add(repository);
  }

  async repositoryBlob(repository: string, digest: string): Promise<BlobStat | null> {
    // The record read whole (not only its head): a blob GET's openBlob then needs no request
    // for it. A link this replica made moments ago needs no look either (recentLinks).
    const [link, read] = await Promise.all([this.freshLink(repository, digest) || this.bucket.head(key.layerKey(repository, digest)), this.readRecord(digest)]);
    return link && read ? read.stat : null;
  }

  async touchRepositoryBlob(repository: string, digest: string): Promise<boolean> {
    if (this.freshLink(repository, digest)) return true;
    if (!(await this.bucket.head(key.layerKey(repository, digest)))) return false;
    return this.touchBlob(digest);
  }

  async linkBlob(repository: string, digest: string): Promise<void> {
    const touchedMs = Date.now();
    if (!(await this.touchBlob(digest))) throw new StorageError('NotFound', `blob ${digest} not found`);
    await this.link(repository, digest, touchedMs);
  }

  /** Links a blob whose record was refreshed (or made) at `touchedMs`. */
  private async link(repository: string, digest: string, touchedMs: number): Promise<void> {
    await this.indexRepository(repository);
    await this.bucket.write(key.layerKey(repository, digest), Buffer.alloc(0));
    this.rememberLink(repository, digest, touchedMs);
  }

  async unlinkBlob(repository: string, digest: string): Promise<boolean> {
    this.forgetLinks(digest, repository);
    return this.deleteIfThere(key.layerKey(repository, digest));
  }

  private async deleteIfThere(objectKey: string): Promise<boolean> {
    if (!(await this.bucket.head(objectKey))) return false;
    await this.bucket.delete(objectKey);
    return true;
  }

  private async digestsUnder(prefix: string): Promise<string[]> {
    const out: string[] = [];
    for await (const info of this.bucket.list(prefix)) {
      const digest = key.digestFromPath(info.key.slice(prefix.length));
      if (digest) out.push(digest);
    }
    return out.sort();
  }

  async listRepositoryBlobs(repository: string): Promise<string[]> {
    return this.digestsUnder(key.layersPrefix(repository));
  }

  // ---- upload sessions ----

  async startUpload(repository: string): Promise<UploadSession> {
    const id = randomUUID();
    const startedMs = Date.now();
    const record: SessionRecord = { repository, startedMs };
    record.etag = (await this.bucket.write(key.uploadKey(id), json(record))) ?? undefined;
    this.remember(id, { record, size: 0, keys: [] });
    return { repository, id, size: 0, startedMs, updatedMs: startedMs };
  }

  private async sessionRecord(repository: string, id: string, fresh = false): Promise<SessionRecord> {
    let record = fresh ? undefined : this.sessions.get(id)?.record;
    if (!record && /^[0-9a-f-]{36}$/.test(id)) {
      const got = await this.bucket.read(key.uploadKey(id));
      if (got) record = { ...parse<SessionRecord>(got.body), etag: got.info.etag };
    }
    if (!record || record.repository !== repository || record.cancelled) throw new StorageError('UploadNotFound', `upload ${id} not found`);
    return record;
  }

  /** The record as stored: without the etag it was read as. */
  private stored(record: SessionRecord): Buffer {
    const { etag: _etag, ...rest } = record;
    return json(rest);
  }

  /**
   * The session's chunks as the bucket lists them: from offset 0, at each offset the first
   * object (in key order) that starts there, as far as they run on from each other. `all`:
   * every chunk object, those of a duplicate request at an offset already taken included.
   */
  private async chunks(id: string): Promise<{ parts: Part[]; all: string[]; size: number; updatedMs: number }> {
    const parts: Part[] = [];
    const all: string[] = [];
    let size = 0;
    let updatedMs = 0;
    for await (const info of this.bucket.list(key.chunkPrefix(id))) {
      all.push(info.key);
      if (key.chunkOffset(info.key) !== size) continue;
      parts.push({ key: info.key, size: info.size });
      size += info.size;
      updatedMs = Math.max(updatedMs, info.modifiedMs);
    }
    return { parts, all, size, updatedMs };
  }

  private async session(repository: string, id: string) {
    const [record, chunks] = await Promise.all([this.sessionRecord(repository, id), this.chunks(id)]);
    const session: UploadSession = { repository, id, size: chunks.size, startedMs: record.startedMs, updatedMs: Math.max(record.startedMs, chunks.updatedMs) };
    return { record, parts: chunks.parts, all: chunks.all, session };
  }

  private remember(id: string, state: SessionState): void {
    this.sessions.delete(id);
    if (this.sessions.size >= SESSIONS_KEPT) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(id, state);
  }

  async getUpload(repository: string, id: string): Promise<UploadSession> {
    return (await this.session(repository, id)).session;
  }

  async appendUpload(repository: string, id: string, offset: number, data: Readable, expectedLength?: number, _options?: AppendOptions): Promise<UploadSession> {
    // The chunk this replica wrote last ends where this one starts: go on without asking the
    // bucket. Should another replica have written at this offset too (a duplicated request),
    // both objects exist under their own nonces and finishUpload sees the difference.
    const known = this.sessions.get(id);
    let state: SessionState;
    if (known && known.record.repository === repository && known.size === offset) state = known;
    else {
      const { record, parts, session } = await this.session(repository, id);
      if (offset !== session.size) throw new StorageError('RangeMismatch', `upload is at ${session.size} bytes, chunk starts at ${offset}`);
      const sameHash = known?.size === offset && known.keys.join() === parts.map((p) => p.key).join();
      state = { record, size: session.size, keys: parts.map((p) => p.key), hash: sameHash ? known.hash : undefined };
    }
    // The running sha256 goes on from this replica's, or starts with the session.
    const hash = state.hash ? state.hash.copy() : offset === 0 ? createHash('sha256') : undefined;
    const seen = { bytes: 0 };
    const body = countedBody(data, { exactBytes: expectedLength, hash, seen });
    // An empty chunk adds nothing: no object (a zero-length object would also be a part).
    const first = await firstChunk(body);
    const chunk = key.chunkKey(id, offset, randomUUID().slice(0, 8));
    if (first) await this.bucket.upload(chunk, first);
    const size = offset + seen.bytes;
    this.remember(id, { record: state.record, size, keys: first ? [...state.keys, chunk] : state.keys, hash });
    const now = Date.now();
    return { repository, id, size, startedMs: state.record.startedMs, updatedMs: now };
  }

  async finishUpload(repository: string, id: string, digest: string): Promise<BlobStat> {
    const { record, parts, all, session } = await this.session(repository, id);
    const actual = await this.hashOf(id, parts, session.size, digest);
    if (actual !== digest) {
      // Cancelled on another replica since this one remembered it: say so, not "wrong digest".
      await this.sessionRecord(repository, id, true);
      throw new StorageError('DigestMismatch', `upload hashes to ${actual}, not ${digest}`);
    }
    this.sessions.delete(id);
    const stat: BlobStat = { digest, size: session.size, modifiedMs: Date.now() };
    const touchedMs = stat.modifiedMs;
    const strays = all.filter((k) => !parts.some((p) => p.key === k));
    // Mark the chunks as the blob's before its record names them: a cancel of this session
    // (another replica's GC) then leaves them alone. Swapped against the version read, so a
    // cancel that came first wins and this finish stops.
    const adopted = await this.bucket.write(key.uploadKey(id), this.stored({ ...record, adopted: digest }), { ifMatch: record.etag });
    if (adopted === null) throw new StorageError('UploadNotFound', `upload ${id} was cancelled`);
    // Create-if-absent answers "already stored" too, so no look first: most finishes are new content.
    const create = () => this.bucket.write(key.blobKey(digest), json({ size: session.size, parts } satisfies BlobRecord), { metadata: metadataFor(session.size), ifNoneMatch: true });
    // Stored already (by an earlier push or another replica just now): refresh that record for
    // GC's grace instead. Should GC have removed it since the create was refused, create ours.
    if ((await create()) || (!(await this.touchBlob(digest)) && (await create()))) {
      await this.link(repository, digest, touchedMs);
      if (strays.length) await this.bucket.deleteMany(strays);
      await this.bucket.delete(key.uploadKey(id));
      return stat;
    }
    // Linked to the record that was there; our copy goes.
    await this.link(repository, digest, touchedMs);
    await this.bucket.deleteMany(all);
    await this.bucket.delete(key.uploadKey(id));
    return stat;
  }

  /**
   * The digest of the session's bytes, in `expected`'s algorithm: from this replica's running
   * hash when it covers exactly these chunk objects, else by reading them back.
   */
  private async hashOf(id: string, parts: Part[], size: number, expected: string): Promise<string> {
    const algorithm = parseDigest(expected)?.algorithm;
    if (!algorithm) return '(not a digest)';
    const known = this.sessions.get(id);
    if (algorithm === 'sha256' && known?.hash && known.size === size && known.keys.join() === parts.map((p) => p.key).join()) return `sha256:${known.hash.copy().digest('hex')}`;
    const hash = createHash(algorithm);
    if (size > 0) for await (const chunk of await partsStream(this.bucket, parts, 0, size - 1)) hash.update(chunk as Buffer);
    return `${algorithm}:${hash.digest('hex')}`;
  }

  async cancelUpload(repository: string, id: string): Promise<void> {
    this.sessions.delete(id);
    const prefix = key.chunkPrefix(id);
    for (;;) {
      const record = await this.sessionRecord(repository, id, true);
      if (record.adopted) {
        // A finish got as far as marking it: the chunks may already be a blob's bytes.
        const owner = await this.record(record.adopted, true);
        if (!owner?.parts?.some((p) => p.key.startsWith(prefix))) await this.bucket.deleteMany((await collect(this.bucket.list(prefix))).map((i) => i.key));
        await this.bucket.delete(key.uploadKey(id));
        return;
      }
      // Marked cancelled against the version read: a finish that adopts meanwhile makes this
      // swap fail, and the loop reads it again as adopted.
      if ((await this.bucket.write(key.uploadKey(id), this.stored({ ...record, cancelled: true }), { ifMatch: record.etag })) === null) continue;
      await this.bucket.deleteMany((await collect(this.bucket.list(prefix))).map((i) => i.key));
      await this.bucket.delete(key.uploadKey(id));
      return;
    }
  }

  async *listUploads(): AsyncIterable<UploadSession> {
    for await (const info of this.bucket.list(key.uploadPrefix)) {
      const id = info.key.slice(key.uploadPrefix.length);
      const got = await this.bucket.read(info.key);
      if (!got) continue;
      const { repository, cancelled } = parse<SessionRecord>(got.body);
      if (cancelled) continue;
      try {
        yield await this.getUpload(repository, id);
      } catch (err) {
        if (!(err instanceof StorageError && err.kind === 'UploadNotFound')) throw err;
      }
    }
  }

  // ---- manifests and tags ----

  async putManifest(repository: string, manifest: StoredManifest, subject?: { digest: string; descriptor: ReferrerDescriptor }): Promise<void> {
    const blob = key.blobKey(manifest.digest);
    if (!(await this.touchBlob(manifest.digest))) {
      const record: BlobRecord = { size: manifest.body.length, inline: manifest.body.toString('base64') };
      const created = await this.bucket.write(blob, json(record), { metadata: metadataFor(manifest.body.length), ifNoneMatch: true });
      if (!created) await this.touchBlob(manifest.digest);
    }
    await this.indexRepository(repository);
    // The referrer entry first: a manifest that is seen is listed by its subject too.
    if (subject) await this.bucket.write(key.referrerKey(repository, subject.digest, manifest.digest), json(subject.descriptor));
    await this.bucket.write(key.revisionKey(repository, manifest.digest), json({ mediaType: manifest.mediaType, subject: subject?.digest }));
  }

  async getManifest(repository: string, digest: string): Promise<StoredManifest | null> {
    const [revision, exists] = await Promise.all([this.bucket.read(key.revisionKey(repository, digest)), this.record(digest)]);
    if (!revision || !exists) return null;
    const { mediaType } = parse<{ mediaType: string }>(revision.body);
    let body: Buffer;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of await this.openBlob(digest)) chunks.push(chunk as Buffer);
      body = Buffer.concat(chunks);
    } catch (err) {
      if (err instanceof StorageError && err.kind === 'NotFound') return null;
      throw err;
    }
    return { digest, mediaType, body };
  }

  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    const revision = await this.bucket.read(key.revisionKey(repository, digest));
    if (!revision) return false;
    const { subject } = parse<{ subject?: string }>(revision.body);
    const tags = await this.listTags(repository);
    const infos = await mapLimited(tags, (tag) => this.tagInfo(repository, tag));
    await this.bucket.deleteMany(tags.filter((_, i) => infos[i]?.digest === digest).map((tag) => key.tagKey(repository, tag)));
    if (subject) await this.bucket.delete(key.referrerKey(repository, subject, digest));
    await this.bucket.delete(key.revisionKey(repository, digest));
    return true;
  }

  async listManifests(repository: string): Promise<string[]> {
    return this.digestsUnder(key.revisionsPrefix(repository));
  }

  async setTag(repository: string, tag: string, digest: string): Promise<void> {
    await this.bucket.write(key.tagKey(repository, tag), json({ digest, modifiedMs: Date.now() } satisfies TagInfo));
  }

  async resolveTag(repository: string, tag: string): Promise<string | null> {
    return (await this.tagInfo(repository, tag))?.digest ?? null;
  }

  async tagInfo(repository: string, tag: string): Promise<TagInfo | null> {
    const got = await this.bucket.read(key.tagKey(repository, tag));
    return got ? parse<TagInfo>(got.body) : null;
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    return this.deleteIfThere(key.tagKey(repository, tag));
  }

  async listTags(repository: string): Promise<string[]> {
    const prefix = key.tagsPrefix(repository);
    return (await collect(this.bucket.list(prefix))).map((i) => i.key.slice(prefix.length)).sort();
  }

  async listReferrers(repository: string, digest: string): Promise<ReferrerDescriptor[]> {
    const keys = (await collect(this.bucket.list(key.referrersPrefix(repository, digest)))).map((i) => i.key).sort();
    const found = await mapLimited(keys, (k) => this.bucket.read(k));
    return found.filter((f) => f !== null).map((f) => parse<ReferrerDescriptor>(f.body));
  }

  async listRepositories(): Promise<string[]> {
    const names = (await collect(this.bucket.list(key.repositoryIndexPrefix))).map((i) => i.key.slice(key.repositoryIndexPrefix.length));
    const exists = await mapLimited(names, (name) => this.repositoryExists(name));
    return names.filter((_, i) => exists[i]).sort();
  }

  async repositoryExists(repository: string): Promise<boolean> {
    for (const prefix of [key.layersPrefix(repository), key.revisionsPrefix(repository)]) {
      for await (const _ of this.bucket.list(prefix)) return true;
    }
    return false;
  }
}

/** The stream, or null when it ends without a byte (read ahead by one chunk). */
async function firstChunk(body: Readable): Promise<Readable | null> {
  const iterator = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return null;
  async function* rest() {
    yield first.value;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return Readable.from(rest(), { objectMode: false });
}
