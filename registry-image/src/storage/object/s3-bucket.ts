/**
 * The Bucket on S3 and S3-compatible stores (SeaweedFS, MinIO, Ceph RGW, ...) with the AWS SDK
 * for JavaScript v3: every request signed by the SDK, multipart uploads by its lib-storage.
 *
 * - Conditional writes are S3's `If-None-Match: *` and `If-Match` on PutObject (AWS since
 *   2024; SeaweedFS and MinIO too). A store that ignores them loses the create-if-absent the
 *   layout relies on for two replicas finishing the same blob at once and for the GC lease
 *   (docs/storage.md says what that costs).
 * - Metadata is replaced in place by copying the object onto itself (CopyObject with
 *   MetadataDirective REPLACE), which fails on an object that is gone and so never creates one.
 * - Checksums: only where S3 requires them. The SDK's default CRC32 on every request costs CPU
 *   on each byte and is refused by some S3-compatible stores; the bytes are verified against
 *   their digest anyway.
 */
import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { S3DriverConfig } from './driver-config';
import { ObjectMissing, type Bucket, type ObjectInfo } from './bucket';

/** Multipart part size: S3's minimum is 5 MiB; at most PART_SIZE x QUEUE bytes per upload are in memory. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE = 4;
const SOCKETS = 256;

interface AwsError {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  message?: string;
}
const status = (err: unknown) => (err as AwsError)?.$metadata?.httpStatusCode;
const isMissing = (err: unknown) => status(err) === 404 || ['NoSuchKey', 'NotFound'].includes((err as AwsError)?.name ?? '');
const isConditionFailed = (err: unknown) => status(err) === 412 || status(err) === 409 || (err as AwsError)?.name === 'PreconditionFailed';

export function s3ClientConfig(config: S3DriverConfig): S3ClientConfig {
  let endpoint = config.regionEndpoint;
  if (endpoint && !/^https?:\/\//.test(endpoint)) endpoint = `${config.secure ? 'https' : 'http'}://${endpoint}`;
  return {
    region: config.region,
    endpoint,
    forcePathStyle: config.forcePathStyle,
    credentials: config.accessKey && config.secretKey ? { accessKeyId: config.accessKey, secretAccessKey: config.secretKey, sessionToken: config.sessionToken } : undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: SOCKETS }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: SOCKETS, rejectUnauthorized: !config.skipVerify }),
    }),
  };
}

export function s3Bucket(config: S3DriverConfig): Bucket {
  const client = new S3Client(s3ClientConfig(config));
  const Bucket = config.bucket;
  const root = config.rootDirectory ? `${config.rootDirectory}/` : '';
  const full = (key: string) => root + key;
  const relative = (key: string) => key.slice(root.length);
  const location = `s3://${config.bucket}/${config.rootDirectory}${config.regionEndpoint ? ` at ${config.regionEndpoint}` : ''}`;

  const info = (key: string, r: { ContentLength?: number; LastModified?: Date; Metadata?: Record<string, string>; ETag?: string }): ObjectInfo => ({
    key,
    size: r.ContentLength ?? 0,
    modifiedMs: r.LastModified?.getTime() ?? 0,
    metadata: r.Metadata ?? {},
    etag: r.ETag ?? '',
  });

  async function* listPages(prefix: string, delimiter?: string) {
    let ContinuationToken: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: full(prefix), Delimiter: delimiter, ContinuationToken }));
      yield page;
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  return {
    location,
    async read(key) {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket, Key: full(key) }));
        const body = Buffer.from(await r.Body!.transformToByteArray());
        return { body, info: info(key, { ...r, ContentLength: body.length }) };
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    },
    async head(key) {
      try {
        return info(key, await client.send(new HeadObjectCommand({ Bucket, Key: full(key) })));
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    },
    async stream(key, range) {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket, Key: full(key), Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
        return r.Body as Readable;
      } catch (err) {
        if (isMissing(err)) throw new ObjectMissing(key);
        throw err;
      }
    },
    async write(key, body, options = {}) {
      try {
        const r = await client.send(
          new PutObjectCommand({
            Bucket,
            Key: full(key),
            Body: body,
            ContentLength: body.length,
            ContentType: options.contentType,
            Metadata: options.metadata,
            IfNoneMatch: options.ifNoneMatch ? '*' : undefined,
            IfMatch: options.ifMatch,
          }),
        );
        return r.ETag ?? '';
      } catch (err) {
        if ((options.ifNoneMatch || options.ifMatch) && (isConditionFailed(err) || (options.ifMatch && isMissing(err)))) return null;
        throw err;
      }
    },
    async upload(key, body, options = {}) {
      const upload = new Upload({
        client,
        params: { Bucket, Key: full(key), Body: body, Metadata: options.metadata },
        partSize: PART_SIZE,
        queueSize: QUEUE,
        leavePartsOnError: false,
      });
      // lib-storage reads the body with async iteration, so the body's own error (a refused
      // or cut-short chunk) rejects done() and the multipart upload is aborted.
      await upload.done();
    },
    async setMetadata(key, metadata) {
      try {
        await client.send(
          new CopyObjectCommand({
            Bucket,
            Key: full(key),
            CopySource: `${Bucket}/${full(key).split('/').map(encodeURIComponent).join('/')}`,
            MetadataDirective: 'REPLACE',
            Metadata: metadata,
          }),
        );
        return true;
      } catch (err) {
        if (isMissing(err)) return false;
        throw err;
      }
    },
    async delete(key) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket, Key: full(key) }));
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
    },
    async deleteMany(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000);
        const r = await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: batch.map((k) => ({ Key: full(k) })), Quiet: true } }));
        const failed = (r.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
        if (failed.length) throw new Error(`${location}: could not delete ${failed.length} objects (${failed[0].Key}: ${failed[0].Code} ${failed[0].Message ?? ''})`);
      }
    },
    async *list(prefix) {
      for await (const page of listPages(prefix)) {
        for (const o of page.Contents ?? []) yield { key: relative(o.Key!), size: o.Size ?? 0, modifiedMs: o.LastModified?.getTime() ?? 0, metadata: {}, etag: o.ETag ?? '' };
      }
    },
    async *children(prefix) {
      for await (const page of listPages(prefix, '/')) {
        for (const p of page.CommonPrefixes ?? []) yield relative(p.Prefix!);
        for (const o of page.Contents ?? []) yield relative(o.Key!);
      }
    },
    async presignGet(key, seconds) {
      return getSignedUrl(client, new GetObjectCommand({ Bucket, Key: full(key) }), { expiresIn: seconds });
    },
    async check() {
      const probe = full(`_perch/check/${randomUUID()}`);
      try {
        await client.send(new PutObjectCommand({ Bucket, Key: probe, Body: Buffer.from('ok'), ContentLength: 2 }));
        await client.send(new DeleteObjectCommand({ Bucket, Key: probe }));
      } catch (err) {
        // Some stores answer a write to a missing bucket with AccessDenied: ask about the bucket.
        const missing = await client.send(new HeadBucketCommand({ Bucket })).then(
          () => false,
          (e: unknown) => status(e) === 404,
        );
        throw new Error(s3Problem(location, missing ? Object.assign(new Error('no such bucket'), { name: 'NoSuchBucket' }) : err));
      }
    },
  };
}

/** What went wrong with the bucket, and what to do: never the credentials themselves. */
export function s3Problem(location: string, err: unknown): string {
  const e = err as AwsError & { code?: string };
  const name = e?.name ?? e?.Code ?? e?.code ?? 'Error';
  const hint: Record<string, string> = {
    NoSuchBucket: 'the bucket does not exist: create it, or fix storage.storageDriver.bucket',
    InvalidAccessKeyId: 'the access key is unknown to the store: check AWS_ACCESS_KEY_ID or storageDriver.accesskey',
    SignatureDoesNotMatch: 'the secret key does not match the access key: check AWS_SECRET_ACCESS_KEY or storageDriver.secretkey',
    AccessDenied: 'the credentials may not write to this bucket: grant s3:PutObject, GetObject, DeleteObject and ListBucket',
    CredentialsProviderError: 'no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, storageDriver.accesskey/secretkey, or the pod\'s web identity',
    ECONNREFUSED: 'nothing answers at the endpoint: check storageDriver.regionendpoint and that the store is running',
    ENOTFOUND: 'the endpoint\'s host name does not resolve: check storageDriver.regionendpoint',
  };
  return `${location}: ${name}: ${hint[name] ?? e?.message ?? String(err)}`;
}
