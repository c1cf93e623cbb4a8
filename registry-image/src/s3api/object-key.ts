/**
 * Where an object lives in the registry (docs/s3api.md "Objects and repositories"):
 *
 *   bucket `releases`, key `app/v1.2/app.tgz`  ->  repository `releases/app/v1.2`, tag `app.tgz`
 *   bucket `releases`, key `notes.txt`         ->  repository `releases`,          tag `notes.txt`
 *   any other key (capitals or spaces in a directory, unicode, a trailing `/`, a name that is
 *   not a tag, a name beginning `_s3-`)        ->  repository `releases`,          tag `k-<40 hex of sha256(key)>`
 *
 * and back: a tag's key is its annotation when the manifest has one (always, for objects
 * written through S3), else the rule above read backwards.
 */
import { createHash } from 'node:crypto';
import { isRepositoryName, isTag } from '../oci/names';
// `_s3-…` tags are perch's own (bucket-record.ts `_s3-bucket`, upload-record.ts `_s3-upload-…`).
import { RESERVED_TAG_PREFIX } from './upload-record';

/** One OCI path component (distribution spec's grammar). */
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const HASHED_TAG = /^k-[0-9a-f]{40}$/;
/** S3's limit on a key: 1024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

export interface ObjectLocation {
  repository: string;
  tag: string;
  /** The key could not be written as repository and tag; the manifest's annotation holds it. */
  hashed: boolean;
}

/**
 * S3's bucket rules (3 to 63 lowercase letters, digits, `.` and `-`, starting and ending with
 * a letter or digit, not an IP address) and OCI's for a repository name, which together
 * refuse `a.-b` and `a..b` as both do.
 */
export function isBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !/^\d+\.\d+\.\d+\.\d+$/.test(name) && isRepositoryName(name);
}

export function hashedTag(key: string): string {
  return `k-${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 40)}`;
}

export function isHashedTag(tag: string): boolean {
  return HASHED_TAG.test(tag);
}

export function locate(bucket: string, key: string): ObjectLocation {
  const parts = key.split('/');
  const name = parts.pop()!;
  const repository = parts.length === 0 ? bucket : `${bucket}/${parts.join('/')}`;
  const direct = isTag(name) && !name.startsWith(RESERVED_TAG_PREFIX) && !isHashedTag(name) && parts.every((p) => COMPONENT.test(p)) && isRepositoryName(repository);
  return direct ? { repository, tag: name, hashed: false } : { repository: bucket, tag: hashedTag(key), hashed: true };
}

/** The key a tag stands for when its manifest names none (an artifact pushed with oras). */
export function derivedKey(bucket: string, repository: string, tag: string): string {
  return repository === bucket ? tag : `${repository.slice(bucket.length + 1)}/${tag}`;
}

/** The directory part of keys in `repository` (`""` for the bucket's own repository, else `dir/…/`). */
export function keyDirectory(bucket: string, repository: string): string {
  return repository === bucket ? '' : `${repository.slice(bucket.length + 1)}/`;
}

/** Repositories that hold the bucket's objects: the bucket's own and those under it. */
export function inBucket(bucket: string, repository: string): boolean {
  return repository === bucket || repository.startsWith(`${bucket}/`);
}
