/**
 * Where the object store keeps what, as keys under the driver's root directory. One place, so
 * a person reading a bucket (or a test) finds the same names the code uses.
 *
 *   blobs/<alg>/<hex>                           a blob's record: its size and where its bytes are
 *                                               (JSON, or the bytes inline for manifests);
 *                                               metadata `size` and `touched` (GC's clock)
 *   data/<session>/<offset>-<nonce>             the bytes of one chunk an upload session received
 *   uploads/<session>                           an upload session (repository, start, adoption)
 *   repositories/<repo>/_layers/<alg>/<hex>     the repository holds this blob (empty object)
 *   repositories/<repo>/_manifests/revisions/<alg>/<hex>   ...this manifest (media type, subject)
 *   repositories/<repo>/_manifests/tags/<tag>   the tag (digest and when it was set)
 *   repositories/<repo>/_referrers/<alg>/<hex>/<alg>/<hex>  a referrer of the first digest
 *   _index/repositories/<repo>                  the repository was written to (listings)
 *   _gc/lease                                   who collects garbage now (gc/lease.ts)
 *
 * Repository path components cannot start with "_" (the OCI name grammar), so `_layers` and
 * the like never collide with a nested repository's name.
 */
import { parseDigest } from '../../oci/digest';

const OFFSET_DIGITS = 15; // up to 999 TB: chunk keys sort in offset order

export const blobPrefix = 'blobs/';
export const uploadPrefix = 'uploads/';
export const repositoryIndexPrefix = '_index/repositories/';

function digestPath(digest: string): string {
  const parsed = parseDigest(digest);
  if (!parsed) throw new Error(`not a digest: ${digest}`);
  return `${parsed.algorithm}/${parsed.hex}`;
}

/** "sha256/ab..." back to "sha256:ab...", or null for a key that is not one. */
export function digestFromPath(path: string): string | null {
  const slash = path.indexOf('/');
  const digest = `${path.slice(0, slash)}:${path.slice(slash + 1)}`;
  return slash > 0 && parseDigest(digest) ? digest : null;
}

export const blobKey = (digest: string) => `blobs/${digestPath(digest)}`;
export const uploadKey = (id: string) => `uploads/${id}`;
export const chunkPrefix = (id: string) => `data/${id}/`;
/** A chunk's key: its offset (so keys sort in offset order), then a nonce (two requests at one offset never share a key). */
export const chunkKey = (id: string, offset: number, nonce: string) => `${chunkPrefix(id)}${String(offset).padStart(OFFSET_DIGITS, '0')}-${nonce}`;
export const chunkOffset = (key: string) => Number(key.slice(key.lastIndexOf('/') + 1).split('-')[0]);

const repo = (name: string) => `repositories/${name}/`;
export const layersPrefix = (name: string) => `${repo(name)}_layers/`;
export const layerKey = (name: string, digest: string) => `${layersPrefix(name)}${digestPath(digest)}`;
export const revisionsPrefix = (name: string) => `${repo(name)}_manifests/revisions/`;
export const revisionKey = (name: string, digest: string) => `${revisionsPrefix(name)}${digestPath(digest)}`;
export const tagsPrefix = (name: string) => `${repo(name)}_manifests/tags/`;
export const tagKey = (name: string, tag: string) => `${tagsPrefix(name)}${tag}`;
export const referrersPrefix = (name: string, subject: string) => `${repo(name)}_referrers/${digestPath(subject)}/`;
export const referrerKey = (name: string, subject: string, digest: string) => `${referrersPrefix(name, subject)}${digestPath(digest)}`;
export const repositoryIndexKey = (name: string) => `${repositoryIndexPrefix}${name}`;
export const gcLeaseKey = '_gc/lease';
