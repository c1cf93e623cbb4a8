/**
 * ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, GetBucketVersioning.
 * A bucket is the repository `<bucket>` holding the bucket record (bucket-record.ts): create
 * on that repository creates it, delete deletes it, read lists and heads it.
 */
import { storageUsage } from '../quota/usage';
import { BUCKET_ARTIFACT_TYPE, BUCKET_TAG, bucketCreated } from './bucket-record';
import { S3Error } from './errors';
import { inBucket, isBucketName } from './object-key';
import { requireBucket } from './object-lookup';
import { EMPTY_DESCRIPTOR, EMPTY_DIGEST, IMAGE_MANIFEST } from './object-manifest';
import { allow, may, readSmallBody, type S3Request } from './request';
import { ensureEmptyBlob, putTaggedManifest } from './store-writes';
import { uploadIdOfTag } from './upload-record';
import { el, isoTime, textOf, xmlDocument } from './xml';

export function sendXml(r: S3Request, status: number, xml: string, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(xml);
  r.res.writeHead(status, { ...headers, 'Content-Type': 'application/xml', 'Content-Length': bytes.length });
  r.res.end(bytes);
}

function owner(r: S3Request): string {
  const name = r.identity.username ?? 'anonymous';
  return `<Owner>${el('ID', name)}${el('DisplayName', name)}</Owner>`;
}

export async function listBuckets(r: S3Request): Promise<void> {
  r.req.resume();
  const { store } = r.parts;
  const buckets: string[] = [];
  for (const repository of await store.listRepositories()) {
    if (repository.includes('/') || !isBucketName(repository) || !may(r, repository, 'read')) continue;
    const created = await bucketCreated(store, repository);
    if (created !== null) buckets.push(`<Bucket>${el('Name', repository)}${el('CreationDate', isoTime(created))}</Bucket>`);
  }
  sendXml(r, 200, xmlDocument('ListAllMyBucketsResult', `${owner(r)}<Buckets>${buckets.join('')}</Buckets>`));
}

export async function createBucket(r: S3Request): Promise<void> {
  const { bucket, parts } = r;
  if (!isBucketName(bucket)) {
    throw new S3Error('InvalidBucketName', `The specified bucket is not valid: ${JSON.stringify(bucket)}; use 3 to 63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit`);
  }
  allow(r, bucket, 'create');
  const config = await readSmallBody(r, 64 * 1024);
  const constraint = config.length > 0 ? textOf(config.toString('utf8'), 'LocationConstraint') : undefined;
  if (constraint && constraint !== parts.s3.region) {
    throw new S3Error('InvalidArgument', `this endpoint serves region ${parts.s3.region}; the LocationConstraint ${JSON.stringify(constraint)} cannot be created here`);
  }
  if ((await bucketCreated(parts.store, bucket)) !== null) throw new S3Error('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.');
  await ensureEmptyBlob(parts, bucket);
  const record = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: IMAGE_MANIFEST,
      artifactType: BUCKET_ARTIFACT_TYPE,
      config: EMPTY_DESCRIPTOR,
      layers: [EMPTY_DESCRIPTOR],
      annotations: { 'org.opencontainers.image.created': new Date().toISOString(), 'vnd.perch.s3.bucket': bucket },
    }),
  );
  await putTaggedManifest(parts, bucket, BUCKET_TAG, record, [EMPTY_DIGEST]);
  r.res.writeHead(200, { Location: `/${bucket}`, 'Content-Length': 0 });
  r.res.end();
}

export async function headBucket(r: S3Request): Promise<void> {
  r.req.resume();
  allow(r, r.bucket, 'read');
  await requireBucket(r.parts, r.bucket);
  r.res.writeHead(200, { 'x-amz-bucket-region': r.parts.s3.region, 'Content-Length': 0 });
  r.res.end();
}

export async function getBucketLocation(r: S3Request): Promise<void> {
  r.req.resume();
  allow(r, r.bucket, 'read');
  await requireBucket(r.parts, r.bucket);
  // us-east-1 is the empty constraint (S3's own legacy answer, which clients expect).
  const region = r.parts.s3.region === 'us-east-1' ? '' : r.parts.s3.region;
  sendXml(r, 200, xmlDocument('LocationConstraint', '').replace('></LocationConstraint>', `>${region}</LocationConstraint>`));
}

export async function getBucketVersioning(r: S3Request): Promise<void> {
  r.req.resume();
  allow(r, r.bucket, 'read');
  await requireBucket(r.parts, r.bucket);
  // Versioning was never enabled: an empty configuration, as S3 answers then.
  sendXml(r, 200, xmlDocument('VersioningConfiguration', ''));
}

/** Empty only: any tag in a repository of the bucket other than the record is an object (or an artifact). */
export async function deleteBucket(r: S3Request): Promise<void> {
  r.req.resume();
  const { bucket, parts } = r;
  const { store } = parts;
  allow(r, bucket, 'delete');
  await requireBucket(parts, bucket);
  for (const repository of await store.listRepositories()) {
    if (!inBucket(bucket, repository)) continue;
    const tags = await store.listTags(repository);
    if (tags.some((t) => uploadIdOfTag(t) !== null)) {
      throw new S3Error('BucketNotEmpty', `The bucket you tried to delete is not empty: ${repository} has multipart uploads in progress (list them with ListMultipartUploads, abort them first)`);
    }
    if (tags.some((t) => repository !== bucket || t !== BUCKET_TAG)) throw new S3Error('BucketNotEmpty', `The bucket you tried to delete is not empty: ${repository} has tags`);
  }
  const digest = await store.resolveTag(bucket, BUCKET_TAG);
  if (digest && (await store.deleteManifest(bucket, digest))) storageUsage(store).repositoryReleases(bucket, digest);
  r.res.writeHead(204);
  r.res.end();
}
