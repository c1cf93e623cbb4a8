/**
 * Writes into the registry the way the OCI API writes (handlers/uploads.ts, manifests.ts):
 * quota admission before a byte is stored, bytes streamed into an upload session and made
 * visible under their digest only by store.finishUpload (quota/commit.ts finishBlob), and
 * manifests stored and tagged by commitManifest under the GC guard. Nothing is held in memory:
 * bodies stream through, hashed (SHA-256 for the digest, MD5 for S3's ETag) on the way.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { admitUpload } from '../quota/admission';
import { commitManifest, finishBlob } from '../quota/commit';
import type { Store } from '../storage/types';
import { toS3Error } from './errors';
import { EMPTY_BLOB, EMPTY_DIGEST, IMAGE_MANIFEST } from './object-manifest';
import type { S3Parts } from './parts';

/** Passes bytes on, hashing them; `sha256` and `md5` are set once the stream has ended. */
export class HashingStream extends Transform {
  private readonly s = createHash('sha256');
  private readonly m: Hash = createHash('md5');
  size = 0;
  sha256 = '';
  md5: Buffer = Buffer.alloc(0);

  override _transform(chunk: Buffer, _e: BufferEncoding, callback: TransformCallback): void {
    this.s.update(chunk);
    this.m.update(chunk);
    this.size += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.sha256 = this.s.digest('hex');
    this.md5 = this.m.digest();
    callback();
  }
}

export interface StoredBlob {
  digest: string;
  size: number;
  md5: Buffer;
}

/**
 * Streams `body` into a new blob of `repository`. `failure()` names the error the body's own
 * checks gave (a payload signature, a checksum), which the store only sees as a broken stream.
 * On any failure the session is cancelled: nothing of the body is kept.
 */
export async function storeBlob(parts: S3Parts, repository: string, body: Readable, declaredBytes: number | undefined, failure: () => unknown): Promise<StoredBlob> {
  const { store } = parts;
  await admitUpload(parts, repository, declaredBytes ?? 0);
  const session = await store.startUpload(repository);
  const hashing = new HashingStream();
  body.on('error', (err) => hashing.destroy(err));
  body.pipe(hashing);
  try {
    await store.appendUpload(repository, session.id, 0, hashing, undefined, { final: true });
    const digest = `sha256:${hashing.sha256}`;
    const stat = await finishBlob(parts, repository, session.id, digest);
    return { digest, size: stat.size, md5: hashing.md5 };
  } catch (err) {
    await store.cancelUpload(repository, session.id).catch(() => {});
    throw toS3Error(failure() ?? err);
  }
}

/** Gives `repository` the empty blob `{}` (config and bucket-record layer), once. */
export async function ensureEmptyBlob(parts: S3Parts, repository: string): Promise<void> {
  if (await parts.store.touchRepositoryBlob(repository, EMPTY_DIGEST)) return;
  const session = await parts.store.startUpload(repository);
  try {
    await parts.store.appendUpload(repository, session.id, 0, Readable.from([EMPTY_BLOB]), EMPTY_BLOB.length, { final: true });
    await finishBlob(parts, repository, session.id, EMPTY_DIGEST);
  } catch (err) {
    await parts.store.cancelUpload(repository, session.id).catch(() => {});
    throw err;
  }
}

/** Stores `body` (a manifest perch built) in `repository` and points `tag` at it. */
export async function putTaggedManifest(parts: S3Parts, repository: string, tag: string, body: Buffer, blobs: string[]): Promise<string> {
  const { store } = parts;
  const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  await commitManifest(parts, repository, { digest, mediaType: IMAGE_MANIFEST, body }, undefined, tag, () => checkBlobs(store, repository, blobs));
  return digest;
}

/** As a manifest PUT checks its references: each refreshed for GC, each still in the repository. */
async function checkBlobs(store: Store, repository: string, blobs: string[]): Promise<void> {
  for (const digest of new Set(blobs)) {
    if (!(await store.touchRepositoryBlob(repository, digest))) throw new Error(`blob ${digest} left ${repository} before its manifest was written`);
  }
}
