/**
 * The seam between perch's object-store layout (object-store.ts) and one vendor's object
 * store: S3 (s3-bucket.ts), Google Cloud Storage (gcs-bucket.ts), Azure Blob (azure-bucket.ts),
 * and memory (memory-bucket.ts, for tests). As distribution's storagedriver, a Bucket knows
 * objects and keys, never repositories, digests or HTTP.
 *
 * Keys are relative to the driver's root directory ("blobs/sha256/ab..."); the driver puts its
 * prefix in front. Metadata names are lower-case ASCII and values are short ASCII strings.
 *
 * What the layout above relies on, and every driver must give:
 * - read-after-write: an object written (or deleted) is seen so by the next request to any
 *   replica (S3 since 2020, GCS and Azure always);
 * - a single write replaces an object whole, never in part;
 * - `upload` makes nothing visible until every byte is in, and leaves nothing on failure;
 * - `write` with `ifNoneMatch` creates only when the key is absent, and with `ifMatch` replaces
 *   only the version with that etag: the create-if-absent and compare-and-swap the
 *   filesystem gets from link() and rename() (what uses them: docs/storage.md);
 * - `setMetadata` never creates an object that is not there.
 */
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  key: string;
  size: number;
  /** The store's last-modified time (one-second resolution on S3). */
  modifiedMs: number;
  /** User metadata; only `head` and `read` fill it in (listings do not carry it everywhere). */
  metadata: Record<string, string>;
  /** An opaque version tag for `ifMatch`. */
  etag: string;
}

export interface WriteOptions {
  metadata?: Record<string, string>;
  contentType?: string;
  /** Create only: false is returned when the key exists. */
  ifNoneMatch?: boolean;
  /** Replace only this version (an etag from head/read/write): false when it changed or went. */
  ifMatch?: string;
}

/** Inclusive byte range. */
export interface ObjectRange {
  start: number;
  end: number;
}

/** The object is not there (a read of a key nothing wrote, or one deleted meanwhile). */
export class ObjectMissing extends Error {
  constructor(readonly key: string) {
    super(`object ${key} not found`);
    this.name = 'ObjectMissing';
  }
}

export interface Bucket {
  /** Where the objects live, for logs and errors ("s3://bucket/root"); never a secret. */
  readonly location: string;
  /** A small object whole, with its info; null when absent. */
  read(key: string): Promise<{ body: Buffer; info: ObjectInfo } | null>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Streams an object or an inclusive range of it. Throws ObjectMissing. */
  stream(key: string, range?: ObjectRange): Promise<Readable>;
  /**
   * Writes a small object whole. Returns the new etag, or null when a condition failed (the
   * object is then as it was).
   */
  write(key: string, body: Buffer, options?: WriteOptions): Promise<string | null>;
  /**
   * Streams an object of unknown length up (multipart where the store has it, a part at a
   * time in memory, never the whole). Visible only when complete; on failure (the source
   * stream errors, the store refuses) nothing is left and the error is thrown.
   */
  upload(key: string, body: Readable, options?: { metadata?: Record<string, string> }): Promise<void>;
  /** Replaces an existing object's metadata in place; false when the object is absent. */
  setMetadata(key: string, metadata: Record<string, string>): Promise<boolean>;
  /** Deletes; an absent key is not an error. */
  delete(key: string): Promise<void>;
  deleteMany(keys: string[]): Promise<void>;
  /** Every object whose key starts with `prefix`, in key order, as the store pages them. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /**
   * The "folders" one level below `prefix` (which ends in "/"): each common prefix, ending
   * in "/", and each object directly there.
   */
  children(prefix: string): AsyncIterable<string>;
  /** A URL that GETs the object without credentials for `seconds`, or null if unsupported. */
  presignGet(key: string, seconds: number): Promise<string | null>;
  /** Throws unless the bucket can be written now (for /readyz and start-up). */
  check(): Promise<void>;
}
