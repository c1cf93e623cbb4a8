/**
 * A Bucket on Azure Blob Storage (block blobs), through @azure/storage-blob.
 *
 * How the guarantees in bucket.ts are met:
 * - etags are the blob's ETag. `ifNoneMatch` sends `If-None-Match: *` (409 BlobAlreadyExists or
 *   412 when the blob is there) and `ifMatch` sends `If-Match: <etag>` (412 when it changed,
 *   404 when it went). Any metadata change gives a blob a new ETag.
 * - `write` is one Put Blob: the blob appears whole or not at all.
 * - `upload` stages 8 MiB blocks (four in flight at most) and commits the block list at the
 *   end: nothing is visible before the commit, and a source stream that fails stops before
 *   it, leaving only uncommitted blocks, which Azure discards after a week.
 * - `setMetadata` is Set Blob Metadata, which answers 404 BlobNotFound for an absent blob.
 *
 * Metadata names must be C# identifiers in Azure; perch's are lower-case ASCII that may hold
 * '-', stored with '_' in its place and read back the other way.
 *
 * Credentials: a shared key (`accountKey`, else the AZURE_STORAGE_KEY environment variable),
 * else, with `credentialsType: default_credentials`, @azure/identity's DefaultAzureCredential
 * (workload identity, managed identity, the Azure CLI's login...). Only a shared key can sign
 * the SAS URLs presignGet hands out.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DefaultAzureCredential } from '@azure/identity';
import {
  BlobSASPermissions,
  BlobServiceClient,
  StorageSharedKeyCredential,
  type BlobItem,
  type Metadata,
} from '@azure/storage-blob';
import { ObjectMissing, type Bucket, type ObjectInfo, type ObjectRange, type WriteOptions } from './bucket';
import type { AzureDriverConfig } from './driver-config';

export interface AzureBucketOptions {
  /** Blobs per listing request (Azure's default and maximum: 5000); tests page smaller. */
  listPageSize?: number;
}

const BLOCK_SIZE = 8 * 1024 * 1024;
const UPLOAD_CONCURRENCY = 4;
/** Parallel deletes in deleteMany (one request each; batch requests need more set-up). */
const DELETE_CONCURRENCY = 16;

export function azureBucket(config: AzureDriverConfig, options: AzureBucketOptions = {}): Bucket {
  const serviceUrl = config.serviceUrl ?? `https://${config.accountName}.blob.${config.realm}`;
  const key = config.accountKey ?? process.env.AZURE_STORAGE_KEY;
  let credential: StorageSharedKeyCredential | DefaultAzureCredential;
  if (key) credential = new StorageSharedKeyCredential(config.accountName, key);
  else if (config.credentialsType === 'default_credentials') credential = new DefaultAzureCredential();
  else throw new Error(`Azure account ${config.accountName}: no shared key (accountkey or AZURE_STORAGE_KEY) and credentials type is not default_credentials`);
  const container = new BlobServiceClient(serviceUrl, credential).getContainerClient(config.container);
  const prefix = config.rootDirectory ? `${config.rootDirectory}/` : '';
  const blob = (k: string) => container.getBlockBlobClient(prefix + k);
  const relative = (name: string) => name.slice(prefix.length);
  const location = `azure://${config.accountName}/${config.container}/${config.rootDirectory}`;
  const pageSize = options.listPageSize ?? 5000;

  const listed = (item: BlobItem): ObjectInfo => ({
    key: relative(item.name),
    size: item.properties.contentLength ?? 0,
    modifiedMs: item.properties.lastModified.getTime(),
    metadata: fromAzure(item.metadata),
    etag: item.properties.etag,
  });

  return {
    location,

    async read(k) {
      try {
        const res = await blob(k).download();
        const chunks: Buffer[] = [];
        for await (const c of res.readableStreamBody as AsyncIterable<Buffer>) chunks.push(c);
        const body = Buffer.concat(chunks);
        return {
          body,
          info: { key: k, size: body.length, modifiedMs: res.lastModified?.getTime() ?? 0, metadata: fromAzure(res.metadata), etag: res.etag ?? '' },
        };
      } catch (err) {
        if (isBlobMissing(err)) return null;
        throw err;
      }
    },

    async head(k) {
      try {
        const p = await blob(k).getProperties();
        return { key: k, size: p.contentLength ?? 0, modifiedMs: p.lastModified?.getTime() ?? 0, metadata: fromAzure(p.metadata), etag: p.etag ?? '' };
      } catch (err) {
        if (isBlobMissing(err)) return null;
        throw err;
      }
    },

    async stream(k, range?: ObjectRange) {
      try {
        // The answer's headers are in when download() resolves: a missing blob throws here.
        const res = range ? await blob(k).download(range.start, range.end - range.start + 1) : await blob(k).download();
        return res.readableStreamBody as Readable;
      } catch (err) {
        if (isBlobMissing(err)) throw new ObjectMissing(k);
        throw err;
      }
    },

    async write(k, body, options: WriteOptions = {}) {
      const conditions = options.ifNoneMatch ? { ifNoneMatch: '*' } : options.ifMatch !== undefined ? { ifMatch: options.ifMatch } : undefined;
      try {
        const res = await blob(k).upload(body, body.length, {
          metadata: toAzure(options.metadata),
          ...(options.contentType ? { blobHTTPHeaders: { blobContentType: options.contentType } } : {}),
          ...(conditions ? { conditions } : {}),
        });
        return res.etag ?? '';
      } catch (err) {
        if (conditions && (statusOf(err) === 412 || (statusOf(err) === 409 && codeOf(err) === 'BlobAlreadyExists') || isBlobMissing(err))) return null;
        throw err;
      }
    },

    async upload(k, body, options = {}) {
      // The SDK stops at the source's error, but waits forever on a source destroyed without
      // one; either way it must not commit, and the caller must see the source's own error (a
      // client that went away is its fault, not the store's), not the SDK's report of it.
      const abort = new AbortController();
      const sourceFailed = new Promise<never>((_, reject) => {
        const fail = (err: Error) => {
          abort.abort(err);
          reject(err);
        };
        body.once('error', fail);
        body.once('close', () => body.readableEnded || fail(new Error('the source stream closed before its end')));
      });
      sourceFailed.catch(() => {});
      const uploaded = blob(k).uploadStream(body, BLOCK_SIZE, UPLOAD_CONCURRENCY, { metadata: toAzure(options.metadata), abortSignal: abort.signal });
      uploaded.catch(() => {});
      await Promise.race([sourceFailed, uploaded]);
    },

    async setMetadata(k, metadata) {
      try {
        await blob(k).setMetadata(toAzure(metadata));
        return true;
      } catch (err) {
        if (isBlobMissing(err)) return false;
        throw err;
      }
    },

    async delete(k) {
      await blob(k).deleteIfExists();
    },

    async deleteMany(keys) {
      let next = 0;
      const worker = async () => {
        while (next < keys.length) await blob(keys[next++]!).deleteIfExists();
      };
      await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, keys.length) }, worker));
    },

    async *list(listPrefix) {
      for await (const page of container.listBlobsFlat({ prefix: prefix + listPrefix, includeMetadata: true }).byPage({ maxPageSize: pageSize })) {
        for (const item of page.segment.blobItems) yield listed(item);
      }
    },

    async *children(parent) {
      const seen = new Set<string>();
      for await (const page of container.listBlobsByHierarchy('/', { prefix: prefix + parent }).byPage({ maxPageSize: pageSize })) {
        const names = [...(page.segment.blobPrefixes ?? []).map((p) => p.name), ...page.segment.blobItems.map((b) => b.name)].map(relative).sort();
        for (const child of names) {
          if (seen.has(child)) continue;
          seen.add(child);
          yield child;
        }
      }
    },

    async presignGet(k, seconds) {
      if (!(credential instanceof StorageSharedKeyCredential)) return null;
      return blob(k).generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + seconds * 1000) });
    },

    async check() {
      const probe = blob(`_perch/check/${randomUUID()}`);
      try {
        await probe.upload('ok', 2);
        await probe.deleteIfExists();
      } catch (err) {
        throw new Error(`Azure container ${config.container} (account ${config.accountName}) is not writable: ${describe(err)}`);
      }
    },
  };
}

/** perch's metadata names ('-' allowed) as Azure's (C# identifiers). */
function toAzure(metadata: Record<string, string> = {}): Metadata {
  const out: Metadata = {};
  for (const [name, value] of Object.entries(metadata)) out[name.replaceAll('-', '_')] = value;
  return out;
}

function fromAzure(metadata: Metadata | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) out[name.toLowerCase().replaceAll('_', '-')] = value;
  return out;
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number } | null)?.statusCode;
}

function codeOf(err: unknown): string | undefined {
  const e = err as { code?: string; details?: { errorCode?: string } } | null;
  return e?.details?.errorCode ?? e?.code;
}

/** 404 about the blob (not its container, which must stay an error). */
function isBlobMissing(err: unknown): boolean {
  return statusOf(err) === 404 && codeOf(err) !== 'ContainerNotFound';
}

function describe(err: unknown): string {
  const code = codeOf(err);
  const message = ((err as Error)?.message ?? String(err)).split('\n')[0]!.slice(0, 300);
  return [statusOf(err), code, message].filter(Boolean).join(' ');
}
