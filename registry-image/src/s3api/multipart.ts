/**
 * Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
 * AbortMultipartUpload, ListParts, ListMultipartUploads (docs/s3api.md "Multipart uploads").
 *
 * The upload and each of its parts are tagged manifests in the object's repository
 * (upload-record.ts), so an upload survives a restart, every replica on the same storage sees
 * it, and GC keeps its part blobs while it exists. Each part is a blob of its own (parts come in
 * any order and in parallel, which one sequential upload session cannot take). Complete streams
 * the parts in order into one new upload session (hashing SHA-256 for the digest as they go),
 * finishes it as the object's blob, writes the object's manifest, then deletes the upload's
 * manifests and drops the part blobs from the repository. ETag: md5 of the parts' binary MD5s,
 * then `-N`, as S3.
 *
 * Complete and Abort of one upload are serialised within the process (a second one waits, then
 * finds NoSuchUpload). Across replicas nothing is locked: two Completes of one upload may both
 * write the object (the same bytes, the later manifest wins); a part that arrives while another
 * replica completes or aborts finds the upload gone after it wrote its tag and removes itself.
 */
import { randomBytes, createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { mapLimit } from '../map-limit';
import { admitUpload } from '../quota/admission';
import { finishBlob } from '../quota/commit';
import { storageUsage } from '../quota/usage';
import { S3Error } from './errors';
import { inBucket, locate, type ObjectLocation } from './object-key';
import { checkKey, requireBucket } from './object-lookup';
import { EMPTY_DIGEST } from './object-manifest';
import { allowWrite, metadataFrom, writeObject } from './objects';
import type { S3Parts } from './parts';
import { allow, body, declaredLength, may, readSmallBody, type S3Request } from './request';
import { ensureEmptyBlob, HashingStream, putTaggedManifest, storeBlob } from './store-writes';
import { sendXml } from './buckets';
import { partManifest, partTag, partTags, readPart, readUpload, uploadIdOfTag, uploadManifest, uploadTag, type PartRecord, type UploadRecord } from './upload-record';
import { el, elements, isoTime, textOf, xmlDocument } from './xml';

/** S3's limits: parts 1 to 10000, every part but the last at least 5 MiB. */
const MAX_PART_NUMBER = 10_000;
export const MIN_PART_BYTES = 5 * 1024 * 1024;

type Part = PartRecord;

interface Upload extends UploadRecord {
  location: ObjectLocation;
  /** The upload manifest's digest. */
  manifest: string;
}

function noSuchUpload(): S3Error {
  return new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.');
}

/** The upload the request's uploadId names, for its bucket and key, read from the store. */
async function uploadOf(r: S3Request): Promise<Upload> {
  const id = r.query.get('uploadId') ?? '';
  const location = locate(r.bucket, r.key);
  const found = await readUpload(r.parts.store, location.repository, id);
  if (!found || found.upload.bucket !== r.bucket || found.upload.key !== r.key) throw noSuchUpload();
  return { ...found.upload, location, manifest: found.manifest };
}

/** The upload's parts, by part number. */
async function partsOf(parts: S3Parts, upload: Upload): Promise<Map<number, Part>> {
  const { repository } = upload.location;
  const tags = await partTags(parts.store, repository, upload.id);
  const read = await mapLimit(tags, 16, (tag) => readPart(parts.store, repository, upload.id, tag));
  return new Map(read.filter((p): p is Part => p !== null).map((p) => [p.number, p]));
}

/** Complete and Abort of one upload, one at a time in this process. */
const busy = new Map<string, Promise<unknown>>();
async function exclusive<T>(id: string, work: () => Promise<T>): Promise<T> {
  const before = busy.get(id) ?? Promise.resolve();
  const run = before.catch(() => {}).then(work);
  busy.set(id, run);
  try {
    return await run;
  } finally {
    if (busy.get(id) === run) busy.delete(id);
  }
}

async function deleteManifest(parts: S3Parts, repository: string, digest: string): Promise<void> {
  if (await parts.store.deleteManifest(repository, digest).catch(() => false)) storageUsage(parts.store).repositoryReleases(repository, digest);
}

/**
 * Removes an upload from the store: its parts' manifests, its own manifest, then any part that
 * was written meanwhile (a part written later sees the upload gone and removes itself). Parts
 * go first, so a crash half way leaves an upload that ListMultipartUploads still shows and
 * Abort can finish.
 *
 * The part blobs stay linked to the repository: garbage collection's link phase drops links
 * no manifest references once storage.gcDelay has passed. Unlinking them here would also take
 * the link from any object or other upload of the repository with the same bytes (the same
 * file uploaded twice, a part equal to a whole object), which GC checks and this cannot cheaply.
 */
async function removeUpload(parts: S3Parts, upload: Upload, known: Iterable<Part>): Promise<void> {
  const { repository } = upload.location;
  for (const p of known) await deleteManifest(parts, repository, p.manifest);
  await deleteManifest(parts, repository, upload.manifest);
  for (const tag of await partTags(parts.store, repository, upload.id)) {
    const late = await readPart(parts.store, repository, upload.id, tag);
    if (late) await deleteManifest(parts, repository, late.manifest);
    else await parts.store.deleteTag(repository, tag).catch(() => false);
  }
}

export async function createMultipartUpload(r: S3Request): Promise<void> {
  await requireBucket(r.parts, r.bucket);
  checkKey(r.key);
  r.req.resume();
  const location = locate(r.bucket, r.key);
  await allowWrite(r, location);
  const id = randomBytes(24).toString('base64url');
  const record: UploadRecord = { id, bucket: r.bucket, key: r.key, metadata: metadataFrom(r), initiator: r.identity.username, startedMs: Date.now() };
  await ensureEmptyBlob(r.parts, location.repository);
  await putTaggedManifest(r.parts, location.repository, uploadTag(id), uploadManifest(record), [EMPTY_DIGEST]);
  sendXml(r, 200, xmlDocument('InitiateMultipartUploadResult', el('Bucket', r.bucket) + el('Key', r.key) + el('UploadId', id)));
}

export async function uploadPart(r: S3Request): Promise<void> {
  const text = r.query.get('partNumber') ?? '';
  const number = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(number >= 1 && number <= MAX_PART_NUMBER)) throw new S3Error('InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`);
  if (r.req.headers['x-amz-copy-source'] !== undefined) throw new S3Error('NotImplemented', 'UploadPartCopy is not implemented by perch; upload the part\'s bytes');
  const upload = await uploadOf(r);
  await allowWrite(r, upload.location);
  const { repository } = upload.location;
  const { store } = r.parts;
  const { stream, failure } = body(r);
  const blob = await storeBlob(r.parts, repository, stream, declaredLength(r), failure);
  const tag = partTag(upload.id, number);
  const replaced = await store.resolveTag(repository, tag).catch(() => null);
  const manifest = await putTaggedManifest(r.parts, repository, tag, partManifest(upload.id, number, blob), [EMPTY_DIGEST, blob.digest]);
  // The part's own tag, never another's: parallel parts cannot lose each other. The blob of a
  // part uploaded again under its number is left to GC (another part may have the same bytes).
  if (replaced && replaced !== manifest) await deleteManifest(r.parts, repository, replaced);
  if (!(await readUpload(store, repository, upload.id))) {
    // Completed or aborted (here or on another replica) while this part was arriving.
    await deleteManifest(r.parts, repository, manifest);
    throw new S3Error('NoSuchUpload', 'The specified upload does not exist: it was aborted or completed while this part arrived.');
  }
  const etag = `"${blob.md5.toString('hex')}"`;
  r.res.writeHead(200, { ETag: etag, 'Content-Length': 0 });
  r.res.end();
}

/** The parts CompleteMultipartUpload names, checked against what was uploaded. */
function chosenParts(uploaded: Map<number, Part>, xml: string): Part[] {
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
    const part = uploaded.get(number);
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
  const first = await uploadOf(r);
  await allowWrite(r, first.location);
  // The body's checksum headers describe the whole object, not this XML (payload-verifier.ts).
  const xml = (await readSmallBody(r, 1024 * 1024, { headerChecksums: false })).toString('utf8');
  await exclusive(first.id, async () => {
    // Read again under the lock: a Complete or Abort that ran meanwhile leaves NoSuchUpload.
    const upload = await uploadOf(r);
    const uploaded = await partsOf(r.parts, upload);
    const chosen = chosenParts(uploaded, xml);
    const { repository } = upload.location;
    // Until the object is written the upload stays as it is: a failure here lets the client complete again.
    const blob = await concatenate(r.parts, repository, chosen);
    const etag = `"${createHash('md5').update(Buffer.concat(chosen.map((p) => p.md5))).digest('hex')}-${chosen.length}"`;
    await writeObject(r.parts, upload.key, upload.location, blob, etag, upload.metadata);
    await removeUpload(r.parts, upload, uploaded.values());
    const location = `/${upload.bucket}/${upload.key.split('/').map(encodeURIComponent).join('/')}`;
    sendXml(r, 200, xmlDocument('CompleteMultipartUploadResult', el('Location', location) + el('Bucket', upload.bucket) + el('Key', upload.key) + el('ETag', etag)));
  });
}

export async function abortMultipartUpload(r: S3Request): Promise<void> {
  r.req.resume();
  const first = await uploadOf(r);
  allow(r, first.location.repository, 'create');
  await exclusive(first.id, async () => {
    const upload = await uploadOf(r);
    await removeUpload(r.parts, upload, (await partsOf(r.parts, upload)).values());
  });
  r.res.writeHead(204);
  r.res.end();
}

export async function listParts(r: S3Request): Promise<void> {
  r.req.resume();
  const upload = await uploadOf(r);
  allow(r, upload.location.repository, 'read');
  const uploaded = await partsOf(r.parts, upload);
  const marker = Number(r.query.get('part-number-marker') ?? '0') || 0;
  const max = Math.min(1000, Number(r.query.get('max-parts') ?? '1000') || 1000);
  const numbers = [...uploaded.keys()].filter((n) => n > marker).sort((a, b) => a - b);
  const shown = numbers.slice(0, max);
  const truncated = numbers.length > shown.length;
  const partsXml = shown
    .map((n) => {
      const p = uploaded.get(n)!;
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

/** Every upload in progress in the bucket's repositories the caller may read, read from the store. */
export async function listMultipartUploads(r: S3Request): Promise<void> {
  r.req.resume();
  allow(r, r.bucket, 'read');
  await requireBucket(r.parts, r.bucket);
  const { store } = r.parts;
  const prefix = r.query.get('prefix') ?? '';
  const list: UploadRecord[] = [];
  for (const repository of await store.listRepositories()) {
    if (!inBucket(r.bucket, repository) || (repository !== r.bucket && !may(r, repository, 'read'))) continue;
    const ids = (await store.listTags(repository)).map(uploadIdOfTag).filter((id): id is string => id !== null);
    for (const found of await mapLimit(ids, 16, (id) => readUpload(store, repository, id))) {
      if (found && found.upload.bucket === r.bucket && found.upload.key.startsWith(prefix)) list.push(found.upload);
    }
  }
  list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.startedMs - b.startedMs));
  const items = list
    .map((u) => {
      const who = `${el('ID', u.initiator ?? 'anonymous')}${el('DisplayName', u.initiator ?? 'anonymous')}`;
      return `<Upload>${el('Key', u.key)}${el('UploadId', u.id)}<Initiator>${who}</Initiator><Owner>${who}</Owner>${el('StorageClass', 'STANDARD')}${el('Initiated', isoTime(u.startedMs))}</Upload>`;
    })
    .join('');
  sendXml(r, 200, xmlDocument('ListMultipartUploadsResult', el('Bucket', r.bucket) + el('KeyMarker', '') + el('UploadIdMarker', '') + el('Prefix', prefix) + el('MaxUploads', 1000) + el('IsTruncated', false) + items));
}
