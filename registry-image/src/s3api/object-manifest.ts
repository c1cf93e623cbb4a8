/**
 * One object version as one OCI image manifest (docs/s3api.md):
 *
 *   { schemaVersion: 2, mediaType: image manifest, artifactType: application/vnd.perch.s3.object.v1,
 *     config: the empty descriptor ({}),
 *     layers: [ { mediaType: the object's content type, digest, size,
 *                 annotations: { org.opencontainers.image.title: the key's last part } } ],
 *     annotations: { vnd.perch.s3.key, vnd.perch.s3.etag, vnd.perch.s3.content-type,
 *                    vnd.perch.s3.cache-control, …, vnd.perch.s3.meta.<name> (x-amz-meta-<name>),
 *                    org.opencontainers.image.created } }
 *
 * Reading goes the other way for any manifest with exactly one layer, so an artifact pushed
 * with oras reads as an object too (its ETag then comes from the layer's digest: see etagOf).
 * Manifests are content-addressed, so what is read from one is cached by digest.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../storage/types';

export const OBJECT_ARTIFACT_TYPE = 'application/vnd.perch.s3.object.v1';
export const IMAGE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const EMPTY_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';
export const EMPTY_BLOB = Buffer.from('{}');
export const EMPTY_DIGEST = `sha256:${createHash('sha256').update(EMPTY_BLOB).digest('hex')}`;
export const EMPTY_DESCRIPTOR = { mediaType: EMPTY_MEDIA_TYPE, digest: EMPTY_DIGEST, size: 2 } as const;

const A = 'vnd.perch.s3.';
export const ANNOTATION = {
  key: `${A}key`,
  etag: `${A}etag`,
  contentType: `${A}content-type`,
  meta: `${A}meta.`,
  title: 'org.opencontainers.image.title',
  created: 'org.opencontainers.image.created',
} as const;

/** Headers kept with an object and returned on GET and HEAD, as S3 does. */
export const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'] as const;

/** What a client said about an object when it was written. */
export interface ObjectMetadata {
  contentType: string;
  /** cache-control, content-disposition, ... as sent. */
  headers: Record<string, string>;
  /** x-amz-meta-<name> -> value, names in lower case. */
  user: Record<string, string>;
}

export interface ObjectInfo {
  key: string | undefined;
  digest: string;
  size: number;
  etag: string;
  /** From the manifest, for objects written through S3. */
  createdMs: number | undefined;
  metadata: ObjectMetadata;
  /** Written through S3 (artifactType), not a foreign artifact read as an object. */
  native: boolean;
}

/** `type/subtype` as OCI descriptors take it; anything else is kept only in the annotation. */
function layerMediaType(contentType: string): string {
  const bare = contentType.split(';')[0]!.trim().toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(bare) ? bare : 'application/octet-stream';
}

export function objectManifest(key: string, blob: { digest: string; size: number }, etag: string, metadata: ObjectMetadata, createdMs: number): Buffer {
  const annotations: Record<string, string> = {
    [ANNOTATION.key]: key,
    [ANNOTATION.etag]: etag,
    [ANNOTATION.contentType]: metadata.contentType,
    [ANNOTATION.created]: new Date(createdMs).toISOString(),
  };
  for (const [name, value] of Object.entries(metadata.headers)) annotations[`${A}${name}`] = value;
  for (const [name, value] of Object.entries(metadata.user)) annotations[`${ANNOTATION.meta}${name}`] = value;
  const title = key.split('/').pop()!;
  const layer = {
    mediaType: layerMediaType(metadata.contentType),
    digest: blob.digest,
    size: blob.size,
    ...(title !== '' ? { annotations: { [ANNOTATION.title]: title } } : {}),
  };
  return Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: IMAGE_MANIFEST, artifactType: OBJECT_ARTIFACT_TYPE, config: EMPTY_DESCRIPTOR, layers: [layer], annotations }),
  );
}

/**
 * A foreign artifact's ETag: not its MD5 (unknown without reading every byte), so it is made
 * to look like a multipart ETag (`…-1`), which clients (s3cmd, rclone, the AWS CLI) know not to
 * compare with an MD5 of the bytes. Derived from the layer's digest, so it is stable and
 * changes whenever the bytes do.
 */
export function foreignEtag(digest: string): string {
  return `"${digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 33)}-1"`;
}

const cache = new Map<string, ObjectInfo | null>();
const CACHE_MAX = 20_000;

function parse(body: Buffer, digest: string): ObjectInfo | null {
  let m: { mediaType?: string; artifactType?: string; layers?: Array<{ mediaType?: string; digest?: string; size?: number }>; annotations?: Record<string, string> };
  try {
    m = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (m.mediaType !== undefined && m.mediaType !== IMAGE_MANIFEST && m.mediaType !== 'application/vnd.docker.distribution.manifest.v2+json') return null;
  const layer = Array.isArray(m.layers) && m.layers.length === 1 ? m.layers[0] : undefined;
  if (!layer || typeof layer.digest !== 'string' || typeof layer.size !== 'number') return null;
  const a = m.annotations ?? {};
  // perch's other records (a bucket, an upload in progress, a part) are no objects.
  if (typeof m.artifactType === 'string' && m.artifactType.startsWith('application/vnd.perch.s3.') && m.artifactType !== OBJECT_ARTIFACT_TYPE) return null;
  const native = m.artifactType === OBJECT_ARTIFACT_TYPE;
  const headers: Record<string, string> = {};
  const user: Record<string, string> = {};
  if (native) {
    for (const name of STORED_HEADERS) if (a[`${A}${name}`] !== undefined) headers[name] = a[`${A}${name}`]!;
    for (const [name, value] of Object.entries(a)) if (name.startsWith(ANNOTATION.meta)) user[name.slice(ANNOTATION.meta.length)] = value;
  }
  const created = native && a[ANNOTATION.created] ? Date.parse(a[ANNOTATION.created]!) : NaN;
  void digest;
  return {
    key: native ? a[ANNOTATION.key] : undefined,
    digest: layer.digest,
    size: layer.size,
    etag: native && a[ANNOTATION.etag] ? a[ANNOTATION.etag]! : foreignEtag(layer.digest),
    createdMs: Number.isNaN(created) ? undefined : created,
    metadata: { contentType: a[ANNOTATION.contentType] ?? layer.mediaType ?? 'application/octet-stream', headers, user },
    native,
  };
}

/** The object a manifest describes, or null when it is not one (an image, an index, a bucket record). */
export async function readObjectManifest(store: Store, repository: string, digest: string): Promise<ObjectInfo | null> {
  const hit = cache.get(digest);
  if (hit !== undefined) return hit;
  const manifest = await store.getManifest(repository, digest);
  if (!manifest) return null;
  const info = parse(manifest.body, digest);
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(digest, info);
  return info;
}
