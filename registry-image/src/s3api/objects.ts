/**
 * PutObject, GetObject, HeadObject, DeleteObject (S3 API Reference, "Operations").
 *
 * Access (docs/s3api.md "Credentials"): read on the object's repository for GET and HEAD;
 * create to put a new key, update to put over an existing one; delete for DELETE.
 */
import { parseRange } from '../handlers/blobs';
import { sendStream } from '../http/respond';
import { storageUsage } from '../quota/usage';
import { S3Error } from './errors';
import { locate, type ObjectLocation } from './object-key';
import { checkKey, findObject, requireBucket, type FoundObject } from './object-lookup';
import { EMPTY_DIGEST, objectManifest, STORED_HEADERS, type ObjectMetadata } from './object-manifest';
import type { S3Parts } from './parts';
import { allow, body, declaredLength, header, type S3Request } from './request';
import { ensureEmptyBlob, putTaggedManifest, storeBlob, type StoredBlob } from './store-writes';

/** Header returned on GET and HEAD: the OCI reference `oras pull` takes for this object. */
export const REFERENCE_HEADER = 'x-amz-meta-oci-reference';

/** What a PUT (or a CreateMultipartUpload) says about the object, from its headers. */
export function metadataFrom(r: S3Request): ObjectMetadata {
  const headers: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    let value = header(r, name);
    // aws-chunked is the transfer's framing, not the object's encoding (S3 strips it too).
    if (name === 'content-encoding' && value !== undefined) value = value.split(',').map((s) => s.trim()).filter((s) => s !== '' && s.toLowerCase() !== 'aws-chunked').join(',');
    if (value) headers[name] = value;
  }
  const user: Record<string, string> = {};
  for (let i = 0; i + 1 < r.req.rawHeaders.length; i += 2) {
    const name = r.req.rawHeaders[i]!.toLowerCase();
    if (name.startsWith('x-amz-meta-') && name !== REFERENCE_HEADER) user[name.slice('x-amz-meta-'.length)] = r.req.rawHeaders[i + 1]!;
  }
  return { contentType: header(r, 'content-type') ?? 'application/octet-stream', headers, user };
}

/** Stores the manifest of an object whose bytes are `blob` in its repository, and tags it. */
export async function writeObject(parts: S3Parts, key: string, location: ObjectLocation, blob: { digest: string; size: number }, etag: string, metadata: ObjectMetadata): Promise<{ manifest: string; createdMs: number }> {
  await ensureEmptyBlob(parts, location.repository);
  const createdMs = Date.now();
  const body = objectManifest(key, blob, etag, metadata, createdMs);
  const manifest = await putTaggedManifest(parts, location.repository, location.tag, body, [EMPTY_DIGEST, blob.digest]);
  return { manifest, createdMs };
}

/** create for a new key, update over an existing one (zot's rule for a tag, pkg/api/authz.go). */
export async function allowWrite(r: S3Request, location: ObjectLocation): Promise<boolean> {
  const exists = (await r.parts.store.resolveTag(location.repository, location.tag).catch(() => null)) !== null;
  allow(r, location.repository, exists ? 'update' : 'create');
  return exists;
}

export async function putObject(r: S3Request): Promise<void> {
  await requireBucket(r.parts, r.bucket);
  checkKey(r.key);
  const location = locate(r.bucket, r.key);
  const exists = await allowWrite(r, location);
  if (header(r, 'if-none-match')?.trim() === '*' && exists && (await findObject(r.parts, r.bucket, r.key, location))) {
    throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold: the key exists (If-None-Match: *)');
  }
  const metadata = metadataFrom(r);
  const { stream, failure } = body(r);
  const blob: StoredBlob = await storeBlob(r.parts, location.repository, stream, declaredLength(r), failure);
  const etag = `"${blob.md5.toString('hex')}"`;
  await writeObject(r.parts, r.key, location, blob, etag, metadata);
  r.res.writeHead(200, { ETag: etag, 'Content-Length': 0 });
  r.res.end();
}

function etagMatches(condition: string, etag: string): boolean {
  const bare = etag.replace(/^"|"$/g, '');
  return condition.split(',').some((c) => {
    const t = c.trim().replace(/^W\//, '');
    return t === '*' || t.replace(/^"|"$/g, '') === bare;
  });
}

/** RFC 9110 §13 as S3 applies it: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since. */
function checkConditions(r: S3Request, etag: string, modifiedMs: number, headers: Record<string, string>): void {
  const seconds = Math.floor(modifiedMs / 1000) * 1000;
  const date = (name: string) => {
    const v = header(r, name);
    const t = v === undefined ? NaN : Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  };
  const ifMatch = header(r, 'if-match');
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, etag)) throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold: If-Match');
  } else {
    const since = date('if-unmodified-since');
    if (since !== undefined && seconds > since) throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold: If-Unmodified-Since');
  }
  const ifNoneMatch = header(r, 'if-none-match');
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, etag)) throw new S3Error('NotModified', 'Not Modified', { ETag: headers.ETag!, 'Last-Modified': headers['Last-Modified']! });
  } else {
    const since = date('if-modified-since');
    if (since !== undefined && seconds <= since) throw new S3Error('NotModified', 'Not Modified', { ETag: headers.ETag!, 'Last-Modified': headers['Last-Modified']! });
  }
}

/** Query parameters a (presigned) GET may use to set the response's headers. */
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'Content-Type',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
};

export function objectHeaders(found: FoundObject): Record<string, string> {
  const { info, location } = found;
  const headers: Record<string, string> = {
    'Content-Type': info.metadata.contentType,
    ETag: info.etag,
    'Last-Modified': new Date(found.modifiedMs).toUTCString(),
    'Accept-Ranges': 'bytes',
    [REFERENCE_HEADER]: `${location.repository}:${location.tag}`,
  };
  for (const [name, value] of Object.entries(info.metadata.headers)) headers[name] = value;
  for (const [name, value] of Object.entries(info.metadata.user)) headers[`x-amz-meta-${name}`] = value;
  return headers;
}

export async function getObject(r: S3Request): Promise<void> {
  await requireBucket(r.parts, r.bucket);
  checkKey(r.key);
  const location = locate(r.bucket, r.key);
  allow(r, location.repository, 'read');
  r.req.resume();
  const found = await findObject(r.parts, r.bucket, r.key, location);
  if (!found) throw new S3Error('NoSuchKey', 'The specified key does not exist.');
  const headers = objectHeaders(found);
  checkConditions(r, found.info.etag, found.modifiedMs, headers);
  for (const [param, name] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = r.query.get(param);
    if (value !== undefined) headers[name] = value;
  }
  const size = found.info.size;
  const range = parseRange(header(r, 'range'), size);
  if (range === 'unsatisfiable') throw new S3Error('InvalidRange', 'The requested range is not satisfiable', { 'Content-Range': `bytes */${size}` });
  if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
  const length = range ? range.end - range.start + 1 : size;
  const status = range ? 206 : 200;
  if (r.req.method === 'HEAD') {
    r.res.writeHead(status, { ...headers, 'Content-Length': length });
    r.res.end();
    return;
  }
  const stream = await r.parts.store.openBlob(found.info.digest, { ...(range ? { range } : {}), size });
  r.res.writeHead(status, { ...headers, 'Content-Length': length });
  await sendStream(r.res, stream);
}

/** Removes a found object: its manifest (an object written through S3) or its tag (a foreign artifact). */
export async function removeObject(parts: S3Parts, found: FoundObject): Promise<void> {
  const { repository, tag } = found.location;
  if (found.info.native) {
    if (await parts.store.deleteManifest(repository, found.manifest)) storageUsage(parts.store).repositoryReleases(repository, found.manifest);
  } else {
    await parts.store.deleteTag(repository, tag);
  }
}

export async function deleteObject(r: S3Request): Promise<void> {
  await requireBucket(r.parts, r.bucket);
  checkKey(r.key);
  const location = locate(r.bucket, r.key);
  allow(r, location.repository, 'delete');
  r.req.resume();
  const found = await findObject(r.parts, r.bucket, r.key, location);
  // S3 answers 204 whether or not the key existed.
  if (found) await removeObject(r.parts, found);
  r.res.writeHead(204);
  r.res.end();
}
