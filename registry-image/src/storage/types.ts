/**
 * The storage interface every backend implements: the filesystem (fs-store.ts), an object
 * store (object/object-store.ts over S3, GCS or Azure Blob), memory (tests). docs/storage.md.
 *
 * It speaks in repositories, digests, tags and upload sessions, never in paths or HTTP.
 * Failures are `StorageError`s with a storage-level kind; the HTTP layer translates them.
 * Only the filesystem backend may rely on rename and hard links; nothing above this
 * interface assumes either.
 */
import type { Readable } from 'node:stream';

export type StorageErrorKind =
  | 'NotFound' // blob, manifest, tag or repository absent
  | 'UploadNotFound' // no such upload session
  | 'DigestMismatch' // finished upload does not hash to the digest the client named
  | 'SizeMismatch' // declared length differs from what arrived
  | 'RangeMismatch' // a chunk that does not start where the upload ends
  | 'RangeNotSatisfiable' // a read range outside the blob
  | 'QuotaExceeded' // a write that would pass a byte quota
  | 'NoSpace'; // the backend has no room left for a write (a full disk); nothing of the write was kept

export class StorageError extends Error {
  constructor(
    readonly kind: StorageErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'StorageError';
  }
}

/**
 * System error codes that mean "no room left": ENOSPC (the filesystem is full) and EDQUOT (a
 * filesystem quota is used up, e.g. an XFS project quota under a Kubernetes emptyDir limit).
 */
const NO_SPACE_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

/**
 * A write refused for lack of space: StorageError NoSpace, or the system error itself, which
 * the filesystem backend lets through from its streamed writes (an upload's bytes, a file
 * written then renamed). The HTTP layer answers both the same way (http/respond.ts).
 */
export function isNoSpace(err: unknown): boolean {
  if (err instanceof StorageError) return err.kind === 'NoSpace';
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && NO_SPACE_CODES.has(code);
}

export interface BlobStat {
  digest: string;
  size: number;
  /** Last modification, for garbage collection's grace period. */
  modifiedMs: number;
}

/** Inclusive byte range, as HTTP Range speaks it. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface AppendOptions {
  final?: boolean;
}

export interface UploadSession {
  repository: string;
  id: string;
  /** Bytes received so far: after a restart, the bytes the last acknowledged request ended at. */
  size: number;
  startedMs: number;
  updatedMs: number;
  /**
   * Set only on a session read back after a restart: where the last acknowledged chunk began.
   * A client whose answer to that chunk the crash swallowed resends it from its own count; a
   * chunk starting here replaces it instead of being refused as out of order.
   */
  resendFrom?: number;
}

export interface StoredManifest {
  digest: string;
  mediaType: string;
  body: Buffer;
}

/** What a tag points at, and when it was last pointed there (a push date for people). */
export interface TagInfo {
  digest: string;
  modifiedMs: number;
}

/** A descriptor as the referrers API lists it. */
export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface Store {
  /** Creates what the backend needs (folders) and recovers from a crash; idempotent. */
  init(): Promise<void>;
  /** Throws if the store cannot be written now (for /readyz). */
  checkWritable(): Promise<void>;

  // Blobs: content-addressed and shared by every repository.
  statBlob(digest: string): Promise<BlobStat | null>;
  /**
   * Streams a blob or part of it. Throws NotFound or RangeNotSatisfiable. `size`: the blob's
   * size, when the caller has just stat'ed it (the backend then need not look it up).
   */
  openBlob(digest: string, options?: { range?: ByteRange; size?: number }): Promise<Readable>;
  /**
   * Sets the blob's modification time to now; false when there is no such blob. Garbage
   * collection's grace period (storage.gcDelay) runs from this time, so whatever is about to
   * reference a blob refreshes it first (the protocol is in gc/collector.ts). linkBlob,
   * finishUpload of content already stored, and putManifest of a manifest already stored
   * refresh it themselves.
   */
  touchBlob(digest: string): Promise<boolean>;
  /** Removes the content itself (garbage collection only). */
  deleteBlob(digest: string): Promise<boolean>;
  listBlobs(): AsyncIterable<BlobStat>;

  // Which blobs a repository was given.
  /** The blob's stat if the repository holds it, else null. */
  repositoryBlob(repository: string, digest: string): Promise<BlobStat | null>;
  /**
   * touchBlob for a blob the repository holds, in as few steps as the backend allows: false
   * when the repository does not hold it (or the blob is gone).
   */
  touchRepositoryBlob(repository: string, digest: string): Promise<boolean>;
  /** Gives the repository a blob that exists already (cross-repository mount). */
  linkBlob(repository: string, digest: string): Promise<void>;
  unlinkBlob(repository: string, digest: string): Promise<boolean>;
  listRepositoryBlobs(repository: string): Promise<string[]>;

  // Upload sessions.
  startUpload(repository: string): Promise<UploadSession>;
  /** Throws UploadNotFound. */
  getUpload(repository: string, id: string): Promise<UploadSession>;
  /**
   * Appends a stream at `offset`, which must equal the session's size or its `resendFrom`
   * (else RangeMismatch).
   * `expectedLength`, when given, must match what arrives (else SizeMismatch). On any failure
   * the session is left as it was before the call. `final` says the session is finished in the
   * same request (a PUT carrying the last chunk, a monolithic POST): a backend may then skip
   * what only a later request would need.
   */
  appendUpload(repository: string, id: string, offset: number, data: Readable, expectedLength?: number, options?: AppendOptions): Promise<UploadSession>;
  /**
   * Verifies the session hashes to `digest`, makes the blob visible under it (atomically),
   * gives it to the repository and ends the session. Throws DigestMismatch (session kept).
   */
  finishUpload(repository: string, id: string, digest: string): Promise<BlobStat>;
  cancelUpload(repository: string, id: string): Promise<void>;
  listUploads(): AsyncIterable<UploadSession>;

  // Manifests (content-addressed like blobs) and tags.
  putManifest(repository: string, manifest: StoredManifest, subject?: { digest: string; descriptor: ReferrerDescriptor }): Promise<void>;
  getManifest(repository: string, digest: string): Promise<StoredManifest | null>;
  /** Removes the manifest from the repository, with every tag that points at it. */
  deleteManifest(repository: string, digest: string): Promise<boolean>;
  listManifests(repository: string): Promise<string[]>;
  /** Atomically points `tag` at `digest` (which must be in the repository). */
  setTag(repository: string, tag: string, digest: string): Promise<void>;
  resolveTag(repository: string, tag: string): Promise<string | null>;
  /** resolveTag plus the time the tag was last set; null when there is no such tag. */
  tagInfo(repository: string, tag: string): Promise<TagInfo | null>;
  deleteTag(repository: string, tag: string): Promise<boolean>;
  /** Sorted lexically. */
  listTags(repository: string): Promise<string[]>;
  /** Descriptors of the manifests in `repository` whose subject is `digest`. */
  listReferrers(repository: string, digest: string): Promise<ReferrerDescriptor[]>;

  /** Sorted lexically. */
  listRepositories(): Promise<string[]>;
  repositoryExists(repository: string): Promise<boolean>;
}

/** One holder at a time among the servers sharing a store (storage/object/bucket-lease.ts). */
export interface Lease {
  readonly holder: string;
  /** Takes the lease (or renews it, when this holder has it); false when another holds it. */
  acquire(): Promise<boolean>;
  /** Extends the lease this holder has; false when it was lost (expired and taken). */
  renew(): Promise<boolean>;
  /** Gives it up now, if held. */
  release(): Promise<void>;
  /** Who holds it, while unexpired. */
  current(): Promise<{ holder: string; expiresMs: number } | null>;
}

/**
 * A store that several `perch serve` processes may share (an object store): garbage
 * collection takes its lease first. The filesystem store is never shared (storage/root-claim.ts).
 */
export interface SharedStore extends Store {
  gcLease(holder: string, ttlMs: number): Lease;
  /**
   * A URL the blob's bytes can be fetched from without credentials for `seconds` (a presigned
   * URL), or null when there is none (a blob kept in pieces or inline; a store that cannot sign).
   */
  blobUrl(digest: string, seconds: number): Promise<string | null>;
}

export function isShared(store: Store): store is SharedStore {
  return typeof (store as Partial<SharedStore>).gcLease === 'function';
}
