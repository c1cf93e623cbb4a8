/**
 * How a bucket is recorded: CreateBucket stores a small manifest in the bucket's repository
 * under the reserved tag `_s3-bucket` (artifactType application/vnd.perch.s3.bucket.v1, the
 * empty blob as config and layer). So a bucket is registry content like any other: the same
 * access control (create on the repository `<bucket>`), replication and storage, it survives
 * restarts, and `oras`/`crane ls` show the tag. The tag's time is the bucket's CreationDate.
 * No key maps to that tag (object-key.ts sends the key `_s3-bucket` to a hashed tag).
 */
import type { Store } from '../storage/types';

export const BUCKET_TAG = '_s3-bucket';
export const BUCKET_ARTIFACT_TYPE = 'application/vnd.perch.s3.bucket.v1';

/** The bucket's creation time, or null when there is no such bucket. */
export async function bucketCreated(store: Store, bucket: string): Promise<number | null> {
  const info = await store.tagInfo(bucket, BUCKET_TAG).catch(() => null);
  return info ? info.modifiedMs : null;
}
