/**
 * Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
 * AbortMultipartUpload, ListParts, ListMultipartUploads (docs/s3api.md "Uploads and reads").
 *
 * Each part is a blob of its own in the object's repository (parts come in any order and in
 * parallel, which one sequential upload session cannot take). Complete streams the parts in
 * order into one new upload session (hashing SHA-256 for the digest as they go), finishes it
 * as the object's blob, writes the manifest, then drops the part blobs from the repository.
 * ETag: md5 of the parts' binary MD5s, then `-N`, as S3.
 *
 * The list of uploads in progress lives in this process's memory: a restart forgets them
 * (their part blobs are then unreferenced links, which GC removes after storage.gcDelay).
 */
import { randomBytes, createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { admitUpload } from '../quota/admission';
import { finishBlob } from '../quota/commit';
import { storageUsage } from '../quota/usage';
import { S3Error } from './errors';
import { locate, type ObjectLocation } from './object-key';
import { checkKey, requireBucket } from './object-lookup';
import type { ObjectMetadata } from './object-manifest';
import { allowWrite, metadataFrom, writeObject } from './objects';
import type { S3Parts } from './parts';
import { allow, body, declaredLength, readSmallBody, type S3Request } from './request';
import { HashingStream, storeBlob } from './store-writes';
import { sendXml } from './buckets';
import { el, elements, isoTime, textOf, xmlDocument } from './xml';

/** S3's limits: parts 1 to 10000, every part but the last at least 5 MiB. */
const MAX_PART_NUMBER = 10_000;
export const MIN_PART_BYTES = 5 * 1024 * 1024;

interface Part {
  digest: string;
  size: number;
  md5: Buffer;
  etag: string;
  modifiedMs: number;
}

interface Upload {
  id: string;
  bucket: string;
  key: string;
  location: ObjectLocation;
  metadata: ObjectMetadata;
  initiator: string | null;
  startedMs: number;
  parts: Map<number, Part>;
}

const uploads = new Map<string, Upload>();

function uploadOf(r: S3Request): Upload {
  const id = r.query.get('uploadId') ?? '';
  const upload = uploads.get(id);
  if (!upload || upload.bucket !== r.bucket || upload.key !== r.key) {
    throw new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.');
  }
  return upload;
}

/** Drops part blobs from the repository (GC then removes content nothing else holds). */
async function dropParts(parts: S3Parts, repository: string, blobs: Iterable<string>, keep: ReadonlySet<string> = new Set()): Promise<void> {
  for (const digest of new Set(blobs)) {
    if (keep.has(digest)) continue;
    if (await parts.store.unlinkBlob(repository, digest).catch(() => false)) storageUsage(parts.store).repositoryReleases(repository, digest);
  }
}

export async function createMultipartUpload(r: S3Request): Promise<void> {
  await requireBucket(r.parts, r.bucket);
  checkKey(r.key);
  r.req.resume();
  const location = locate(r.bucket, r.key);
  await allowWrite(r, location);
  const id = randomBytes(24).toString('base64url');
  uploads.set(id, { id, bucket: r.bucket, key: r.key, location, metadata: metadataFrom(r), initiator: r.identity.username, startedMs: Date.now(), parts: new Map() });
  sendXml(r, 200, xmlDocument('InitiateMultipartUploadResult', el('Bucket', r.bucket) + el('Key', r.key) + el('UploadId', id)));
}

export async function uploadPart(r: S3Request): Promise<void> {
  const upload = uploadOf(r);
  const text = r.query.get('partNumber') ?? '';
  const number = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(number >= 1 && number <= MAX_PART_NUMBER)) throw new S3Error('InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`);
  if (r.req.headers['x-amz-copy-source'] !== undefined) throw new S3Error('NotImplemented', 'UploadPartCopy is not implemented by perch; upload the part\'s bytes');
  await allowWrite(r, upload.location);
  const { stream, failure } = body(r);
  const blob = await storeBlob(r.parts, upload.location.repository, stream, declaredLength(r), failure);
  if (!uploads.has(upload.id)) {
    // Aborted or completed while this part was arriving.
    await dropParts(r.parts, upload.location.repository, [blob.digest]);
    throw new S3Error('NoSuchUpload', 'The specified upload does not exist: it was aborted or completed while this part arrived.');
  }
  const etag = `"${blob.md5.toString('hex')}"`;
  const replaced = upload.parts.get(number);
  upload.parts.set(number, { digest: blob.digest, size: blob.size, md5: blob.md5, etag, modifiedMs: Date.now() });
  if (replaced && replaced.digest !== blob.digest) {
    const inUse = new Set([...upload.parts.values()].map((p) => p.digest));
    await dropParts(r.parts, upload.location.repository, [replaced.digest], inUse);
  }
  r.res.writeHead(200, { ETag: etag, 'Content-Length': 0 });
  r.res.end();
}

/** The parts CompleteMultipartUpload names, checked against what was uploaded. */
function chosenParts(upload: Upload, xml: string): Part[] {
  const listed = elements(xml, 'Part');
  if (!/<(?:[A-Za-z0-9_-]+:)?CompleteMultipartUpload[\s>]/.test(xml) || listed.length === 0) {
    throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate: expected <CompleteMultipartUpload> with <Part> elements');
  }
  const chosen: Part[] = [];
  let previous = 0;
  for (const item of listed) {
    const number = Number(textOf(item, 'PartNumber'));
    const etag = (textOf(item, 'ETag') ?? '').trim().replace(/^"|"$/g, '');
    if (!Number.isInteger(number) || number <= previous) throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.');
    previous = number;
    const part = upload.parts.get(number);
    if (!part || part.etag.replace(/"/g, '') !== etag) {
      throw new S3Error('InvalidPart', `One or more of the specified parts could not be found: part ${number} with ETag "${etag}" was not uploaded (or has another ETag).`);
    }
    chosen.push(part);
  }
  chosen.forEach((p, i) => {
    if (i < chosen.length - 1 && p.size < MIN_PART_BYTES) throw new S3Error('EntityTooSmall', `Your proposed upload is smaller than the minimum allowed object size: part ${i + 1} of ${chosen.length} has ${p.size} bytes; every part but the last needs at least 5 MiB`);
  });
  return chosen;
}

/** Streams the parts, in order, into one new blob of the repository. */
async function concatenate(parts: S3Parts, repository: string, chosen: Part[]): Promise<{ digest: string; size: number }> {
  const { store } = parts;
  const total = chosen.reduce((n, p) => n + p.size, 0);
  await admitUpload(parts, repository, total);
  const session = await store.startUpload(repository);
  try {
    const hashing = new HashingStream();
    const joined = new PassThrough();
    joined.pipe(hashing);
    const appended = store.appendUpload(repository, session.id, 0, hashing, total, { final: true });
    const feeding = (async () => {
      for (const part of chosen) {
        const stream = await store.openBlob(part.digest, { size: part.size });
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          if (!joined.write(chunk)) await new Promise((resolve) => joined.once('drain', resolve));
        }
      }
      joined.end();
    })();
    feeding.catch((err: Error) => joined.destroy(err));
    joined.on('error', (err) => hashing.destroy(err));
    await Promise.all([appended, feeding]);
    const digest = `sha256:${hashing.sha256}`;
    const stat = await finishBlob(parts, repository, session.id, digest);
    return { digest, size: stat.size };
  } catch (err) {
    await store.cancelUpload(repository, session.id).catch(() => {});
    throw err;
  }
}

export async function completeMultipartUpload(r: S3Request): Promise<void> {
  const upload = uploadOf(r);
  await allowWrite(r, upload.location);
  // The body's checksum headers describe the whole object, not this XML (payload-verifier.ts).
  const xml = (await readSmallBody(r, 1024 * 1024, { headerChecksums: false })).toString('utf8');
  const chosen = chosenParts(upload, xml);
  // From here the upload is taken: a second Complete or an Abort finds nothing.
  uploads.delete(upload.id);
  const { repository } = upload.location;
  const all = [...upload.parts.values()].map((p) => p.digest);
  try {
    const blob = await concatenate(r.parts, repository, chosen);
    const etag = `"${createHash('md5').update(Buffer.concat(chosen.map((p) => p.md5))).digest('hex')}-${chosen.length}"`;
    await writeObject(r.parts, upload.key, upload.location, blob, etag, upload.metadata);
    await dropParts(r.parts, repository, all, new Set([blob.digest]));
    const location = `/${upload.bucket}/${upload.key.split('/').map(encodeURIComponent).join('/')}`;
    sendXml(r, 200, xmlDocument('CompleteMultipartUploadResult', el('Location', location) + el('Bucket', upload.bucket) + el('Key', upload.key) + el('ETag', etag)));
  } catch (err) {
    // The parts are still there: the client may complete again.
    uploads.set(upload.id, upload);
    throw err;
  }
}

export async function abortMultipartUpload(r: S3Request): Promise<void> {
  r.req.resume();
  const upload = uploadOf(r);
  allow(r, upload.location.repository, 'create');
  uploads.delete(upload.id);
  await dropParts(r.parts, upload.location.repository, [...upload.parts.values()].map((p) => p.digest));
  r.res.writeHead(204);
  r.res.end();
}

export async function listParts(r: S3Request): Promise<void> {
  r.req.resume();
  const upload = uploadOf(r);
  allow(r, upload.location.repository, 'read');
  const marker = Number(r.query.get('part-number-marker') ?? '0') || 0;
  const max = Math.min(1000, Number(r.query.get('max-parts') ?? '1000') || 1000);
  const numbers = [...upload.parts.keys()].filter((n) => n > marker).sort((a, b) => a - b);
  const shown = numbers.slice(0, max);
  const truncated = numbers.length > shown.length;
  const partsXml = shown
    .map((n) => {
      const p = upload.parts.get(n)!;
      return `<Part>${el('PartNumber', n)}${el('LastModified', isoTime(p.modifiedMs))}${el('ETag', p.etag)}${el('Size', p.size)}</Part>`;
    })
    .join('');
  const who = `${el('ID', upload.initiator ?? 'anonymous')}${el('DisplayName', upload.initiator ?? 'anonymous')}`;
  sendXml(
    r,
    200,
    xmlDocument(
      'ListPartsResult',
      el('Bucket', upload.bucket) + el('Key', upload.key) + el('UploadId', upload.id) + `<Initiator>${who}</Initiator><Owner>${who}</Owner>` + el('StorageClass', 'STANDARD') +
        el('PartNumberMarker', marker) + (truncated ? el('NextPartNumberMarker', shown[shown.length - 1]) : '') + el('MaxParts', max) + el('IsTruncated', truncated) + partsXml,
    ),
  );
}

export async function listMultipartUploads(r: S3Request): Promise<void> {
  r.req.resume();
  allow(r, r.bucket, 'read');
  await requireBucket(r.parts, r.bucket);
  const prefix = r.query.get('prefix') ?? '';
  const list = [...uploads.values()].filter((u) => u.bucket === r.bucket && u.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.startedMs - b.startedMs));
  const items = list
    .map((u) => {
      const who = `${el('ID', u.initiator ?? 'anonymous')}${el('DisplayName', u.initiator ?? 'anonymous')}`;
      return `<Upload>${el('Key', u.key)}${el('UploadId', u.id)}<Initiator>${who}</Initiator><Owner>${who}</Owner>${el('StorageClass', 'STANDARD')}${el('Initiated', isoTime(u.startedMs))}</Upload>`;
    })
    .join('');
  sendXml(r, 200, xmlDocument('ListMultipartUploadsResult', el('Bucket', r.bucket) + el('KeyMarker', '') + el('UploadIdMarker', '') + el('Prefix', prefix) + el('MaxUploads', 1000) + el('IsTruncated', false) + items));
}
