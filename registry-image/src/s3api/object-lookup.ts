/**
 * Finding what a bucket and key name: the bucket's record (bucket-record.ts), the object's
 * repository and tag (object-key.ts), and what its manifest says (object-manifest.ts).
 */
import { bucketCreated } from './bucket-record';
import { S3Error } from './errors';
import { isBucketName, locate, MAX_KEY_BYTES, type ObjectLocation } from './object-key';
import { readObjectManifest, type ObjectInfo } from './object-manifest';
import type { S3Parts } from './parts';

export interface FoundObject {
  location: ObjectLocation;
  /** The manifest's digest: this version of the object. */
  manifest: string;
  info: ObjectInfo;
  modifiedMs: number;
}

/** The bucket's creation time; NoSuchBucket when it has not been created. */
export async function requireBucket(parts: S3Parts, bucket: string): Promise<number> {
  const created = isBucketName(bucket) ? await bucketCreated(parts.store, bucket) : null;
  if (created === null) throw new S3Error('NoSuchBucket', `The specified bucket does not exist: ${bucket}`);
  return created;
}

export function checkKey(key: string): void {
  if (key === '') throw new S3Error('InvalidArgument', 'an object key must not be empty');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError', `Your key is too long: at most ${MAX_KEY_BYTES} bytes of UTF-8`);
}

export async function findObject(parts: S3Parts, bucket: string, key: string, location = locate(bucket, key)): Promise<FoundObject | null> {
  const tag = await parts.store.tagInfo(location.repository, location.tag).catch(() => null);
  if (!tag) return null;
  const info = await readObjectManifest(parts.store, location.repository, tag.digest);
  if (!info) return null;
  // A hashed tag is trusted only with its key written in it; a direct one only without another.
  if (location.hashed ? info.key !== key : info.key !== undefined && info.key !== key) return null;
  return { location, manifest: tag.digest, info, modifiedMs: info.createdMs ?? tag.modifiedMs };
}
