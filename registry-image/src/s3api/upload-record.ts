/**
 * How a multipart upload in progress is recorded (docs/s3api.md "Multipart uploads"): in the
 * store, in the object's repository, as the bucket is (bucket-record.ts), so a restart keeps
 * it and every replica on the same storage sees it.
 *
 *   tag `_s3-upload-<id>`          the upload: artifactType application/vnd.perch.s3.multipart.v1,
 *                                  the empty blob as config and layer, annotations for the key,
 *                                  the bucket, the upload id, the initiator, the start time and
 *                                  the object's metadata (as an object manifest keeps them)
 *   tag `_s3-upload-<id>.<nnnnn>`  part n: artifactType application/vnd.perch.s3.multipart-part.v1,
 *                                  the part's blob as its one layer, the part number and the MD5
 *                                  ETag in the layer's annotations
 *
 * One manifest per part, not one manifest listing every part: UploadPart then writes its own
 * tag and never rewrites anything another UploadPart wrote, so parallel parts cannot lose each
 * other, within one process or across replicas, and 10 000 parts cost 10 000 small manifests
 * rather than 10 000 rewrites of a growing one. Because each part blob is the layer of a tagged
 * manifest, GC keeps it for as long as the upload exists (gc/collector.ts never removes a
 * tagged manifest nor what one references).
 *
 * Tags beginning `_s3-` are perch's: no object key maps to them (object-key.ts sends such a
 * name to a hashed tag) and ListObjects never shows them; the OCI tag list does.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../storage/types';
import { ANNOTATION, EMPTY_DESCRIPTOR, IMAGE_MANIFEST, STORED_HEADERS, type ObjectMetadata } from './object-manifest';

export const RESERVED_TAG_PREFIX = '_s3-';
export const UPLOAD_TAG_PREFIX = '_s3-upload-';
export const UPLOAD_ARTIFACT_TYPE = 'application/vnd.perch.s3.multipart.v1';
export const PART_ARTIFACT_TYPE = 'application/vnd.perch.s3.multipart-part.v1';

const A = 'vnd.perch.s3.';
const UPLOAD_ANNOTATION = {
  id: `${A}upload-id`,
  bucket: `${A}bucket`,
  initiator: `${A}initiator`,
  partNumber: `${A}part-number`,
} as const;

/** Upload ids are 24 random bytes, base64url: 32 characters a tag can hold. */
const ID = /^[A-Za-z0-9_-]{32}$/;
const RECORD_TAG = /^_s3-upload-([A-Za-z0-9_-]{32})$/;

export function isReservedTag(tag: string): boolean {
  return tag.startsWith(RESERVED_TAG_PREFIX);
}

export function isUploadId(id: string): boolean {
  return ID.test(id);
}

export function uploadTag(id: string): string {
  return `${UPLOAD_TAG_PREFIX}${id}`;
}

export function partTag(id: string, number: number): string {
  return `${uploadTag(id)}.${String(number).padStart(5, '0')}`;
}

/** The upload id a tag records an upload under (not a part's tag), or null. */
export function uploadIdOfTag(tag: string): string | null {
  return RECORD_TAG.exec(tag)?.[1] ?? null;
}

export interface UploadRecord {
  id: string;
  bucket: string;
  key: string;
  initiator: string | null;
  startedMs: number;
  metadata: ObjectMetadata;
}

export interface PartRecord {
  number: number;
  digest: string;
  size: number;
  /** `"<md5 hex>"`, as UploadPart answered. */
  etag: string;
  md5: Buffer;
  /** The part manifest's digest (what Complete and Abort delete). */
  manifest: string;
  modifiedMs: number;
}

export function uploadManifest(u: UploadRecord): Buffer {
  const annotations: Record<string, string> = {
    [UPLOAD_ANNOTATION.id]: u.id,
    [UPLOAD_ANNOTATION.bucket]: u.bucket,
    [ANNOTATION.key]: u.key,
    [ANNOTATION.contentType]: u.metadata.contentType,
    [ANNOTATION.created]: new Date(u.startedMs).toISOString(),
  };
  if (u.initiator !== null) annotations[UPLOAD_ANNOTATION.initiator] = u.initiator;
  for (const [name, value] of Object.entries(u.metadata.headers)) annotations[`${A}${name}`] = value;
  for (const [name, value] of Object.entries(u.metadata.user)) annotations[`${ANNOTATION.meta}${name}`] = value;
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: IMAGE_MANIFEST, artifactType: UPLOAD_ARTIFACT_TYPE, config: EMPTY_DESCRIPTOR, layers: [EMPTY_DESCRIPTOR], annotations }));
}

export function partManifest(id: string, number: number, blob: { digest: string; size: number; md5: Buffer }): Buffer {
  const layer = {
    mediaType: 'application/octet-stream',
    digest: blob.digest,
    size: blob.size,
    annotations: { [UPLOAD_ANNOTATION.partNumber]: String(number), [ANNOTATION.etag]: `"${blob.md5.toString('hex')}"` },
  };
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: IMAGE_MANIFEST, artifactType: PART_ARTIFACT_TYPE, config: EMPTY_DESCRIPTOR, layers: [layer], annotations: { [UPLOAD_ANNOTATION.id]: id } }));
}

export function manifestDigest(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

type Json = { artifactType?: string; layers?: Array<{ digest?: string; size?: number; annotations?: Record<string, string> }>; annotations?: Record<string, string> };

async function readJson(store: Store, repository: string, digest: string): Promise<Json | null> {
  const manifest = await store.getManifest(repository, digest);
  if (!manifest) return null;
  try {
    return JSON.parse(manifest.body.toString('utf8')) as Json;
  } catch {
    return null;
  }
}

/** The upload recorded under `_s3-upload-<id>` in `repository`, with its manifest's digest; null when there is none. */
export async function readUpload(store: Store, repository: string, id: string): Promise<{ upload: UploadRecord; manifest: string } | null> {
  if (!isUploadId(id)) return null;
  const tag = await store.tagInfo(repository, uploadTag(id)).catch(() => null);
  if (!tag) return null;
  const m = await readJson(store, repository, tag.digest);
  if (!m || m.artifactType !== UPLOAD_ARTIFACT_TYPE) return null;
  const a = m.annotations ?? {};
  if (a[UPLOAD_ANNOTATION.id] !== id || a[ANNOTATION.key] === undefined || a[UPLOAD_ANNOTATION.bucket] === undefined) return null;
  const headers: Record<string, string> = {};
  const user: Record<string, string> = {};
  for (const name of STORED_HEADERS) if (a[`${A}${name}`] !== undefined) headers[name] = a[`${A}${name}`]!;
  for (const [name, value] of Object.entries(a)) if (name.startsWith(ANNOTATION.meta)) user[name.slice(ANNOTATION.meta.length)] = value;
  const started = Date.parse(a[ANNOTATION.created] ?? '');
  return {
    manifest: tag.digest,
    upload: {
      id,
      bucket: a[UPLOAD_ANNOTATION.bucket]!,
      key: a[ANNOTATION.key]!,
      initiator: a[UPLOAD_ANNOTATION.initiator] ?? null,
      startedMs: Number.isNaN(started) ? tag.modifiedMs : started,
      metadata: { contentType: a[ANNOTATION.contentType] ?? 'application/octet-stream', headers, user },
    },
  };
}

/** The part recorded under `tag`, or null (gone meanwhile, or not a part manifest). */
export async function readPart(store: Store, repository: string, id: string, tag: string): Promise<PartRecord | null> {
  const info = await store.tagInfo(repository, tag).catch(() => null);
  if (!info) return null;
  const m = await readJson(store, repository, info.digest);
  const layer = m?.layers?.[0];
  if (!m || m.artifactType !== PART_ARTIFACT_TYPE || m.annotations?.[UPLOAD_ANNOTATION.id] !== id || !layer || typeof layer.digest !== 'string' || typeof layer.size !== 'number') return null;
  const number = Number(layer.annotations?.[UPLOAD_ANNOTATION.partNumber]);
  const etag = layer.annotations?.[ANNOTATION.etag] ?? '';
  if (!Number.isInteger(number) || !/^"[0-9a-f]{32}"$/.test(etag)) return null;
  return { number, digest: layer.digest, size: layer.size, etag, md5: Buffer.from(etag.slice(1, -1), 'hex'), manifest: info.digest, modifiedMs: info.modifiedMs };
}

/** The tags of the upload's parts in `repository`, in part order. */
export async function partTags(store: Store, repository: string, id: string): Promise<string[]> {
  const prefix = `${uploadTag(id)}.`;
  return (await store.listTags(repository)).filter((t) => t.startsWith(prefix)).sort();
}
