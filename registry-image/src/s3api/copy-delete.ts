/**
 * CopyObject (PUT with x-amz-copy-source) and DeleteObjects (POST ?delete).
 *
 * A copy moves no bytes: the source's blob is given to the target's repository (the OCI
 * cross-repository mount, quota/commit.ts mountBlob) and a new manifest names it. It needs read
 * on the source's repository and create or update on the target's.
 */
import { mountBlob } from '../quota/commit';
import { S3Error, toS3Error } from './errors';
import { locate } from './object-key';
import { checkKey, findObject, requireBucket } from './object-lookup';
import { allowWrite, metadataFrom, removeObject, writeObject } from './objects';
import { allow, header, may, readSmallBody, type S3Request } from './request';
import { sendXml } from './buckets';
import { percentDecodeToBytes } from './sigv4/uri-encoding';
import { el, elements, escapeXml, isoTime, textOf, xmlDocument } from './xml';

/** `x-amz-copy-source`: `bucket/key` or `/bucket/key`, percent-encoded, maybe `?versionId=`. */
function copySource(text: string): { bucket: string; key: string } {
  const [path, query] = text.split('?', 2) as [string, string | undefined];
  if (query !== undefined && !/^versionId=(null)?$/.test(query)) throw new S3Error('NotImplemented', 'perch keeps no object versions: x-amz-copy-source cannot name a versionId');
  const decoded = percentDecodeToBytes(path.replace(/^\//, '')).toString('utf8');
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
}

export async function copyObject(r: S3Request): Promise<void> {
  r.req.resume();
  const source = copySource(header(r, 'x-amz-copy-source') ?? '');
  await requireBucket(r.parts, r.bucket);
  checkKey(r.key);
  await requireBucket(r.parts, source.bucket);
  const from = locate(source.bucket, source.key);
  allow(r, from.repository, 'read');
  const found = await findObject(r.parts, source.bucket, source.key, from);
  if (!found) throw new S3Error('NoSuchKey', `The specified key does not exist: ${source.bucket}/${source.key}`);
  const to = locate(r.bucket, r.key);
  await allowWrite(r, to);
  const directive = (header(r, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') throw new S3Error('InvalidArgument', 'Unknown metadata directive: COPY or REPLACE');
  if (directive === 'COPY' && source.bucket === r.bucket && source.key === r.key) {
    throw new S3Error('InvalidRequest', 'This copy request is illegal because it is trying to copy an object to itself without changing the object\'s metadata');
  }
  const { digest, size } = found.info;
  if (from.repository !== to.repository && !(await mountBlob(r.parts, from.repository, to.repository, digest))) {
    throw new S3Error('NoSuchKey', `The source object's bytes left ${from.repository} during the copy`);
  }
  const metadata = directive === 'REPLACE' ? metadataFrom(r) : found.info.metadata;
  // An ETag is the bytes' MD5 (or a multipart ETag): the copy keeps the source's.
  const written = await writeObject(r.parts, r.key, to, { digest, size }, found.info.etag, metadata);
  sendXml(r, 200, xmlDocument('CopyObjectResult', el('LastModified', isoTime(written.createdMs)) + el('ETag', found.info.etag)));
}

export async function deleteObjects(r: S3Request): Promise<void> {
  await requireBucket(r.parts, r.bucket);
  const xml = (await readSmallBody(r, 2 * 1024 * 1024)).toString('utf8');
  if (!/<(?:[A-Za-z0-9_-]+:)?Delete[\s>]/.test(xml)) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate: expected <Delete>');
  const objects = elements(xml, 'Object');
  if (objects.length > 1000) throw new S3Error('MalformedXML', 'a DeleteObjects request names at most 1000 keys');
  const quiet = textOf(xml, 'Quiet') === 'true';
  const results: string[] = [];
  for (const item of objects) {
    const key = textOf(item, 'Key') ?? '';
    try {
      checkKey(key);
      const location = locate(r.bucket, key);
      if (!may(r, location.repository, 'delete')) throw new S3Error('AccessDenied', 'Access Denied');
      const found = await findObject(r.parts, r.bucket, key, location);
      if (found) await removeObject(r.parts, found);
      if (!quiet) results.push(`<Deleted>${el('Key', key)}</Deleted>`);
    } catch (err) {
      const e = toS3Error(err);
      results.push(`<Error>${el('Key', key)}${el('Code', e.code)}<Message>${escapeXml(e.message)}</Message></Error>`);
    }
  }
  sendXml(r, 200, xmlDocument('DeleteResult', results.join('')));
}
