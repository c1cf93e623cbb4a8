/**
 * A Bucket on Google Cloud Storage, through @google-cloud/storage (its JSON API).
 *
 * How the guarantees in bucket.ts are met:
 * - etags are object generations (decimal strings). GCS gives every write of an object a new
 *   generation, so `ifNoneMatch` is `ifGenerationMatch=0` and `ifMatch` is
 *   `ifGenerationMatch=<generation>`; a failed precondition is HTTP 412. A metadata update
 *   keeps the generation (it bumps the metageneration), so an etag survives `setMetadata`.
 * - `write` is one simple upload: the object appears whole or not at all.
 * - `upload` is a resumable upload sent in 8 MiB chunks (one chunk in memory at a time). The
 *   object exists only once the last chunk is in; a source stream that fails leaves the
 *   session unfinished, which GCS discards after a week, never an object.
 * - `setMetadata` is a PATCH, which GCS answers with 404 for an absent object (never creating
 *   one). PATCH merges keys, so the keys to drop are sent as null, guarded by the generation
 *   and metageneration read just before (a concurrent change makes it read and try again).
 *
 * Credentials: a service-account file (`credentialsFile`), else Application Default
 * Credentials. With an `endpoint` (or STORAGE_EMULATOR_HOST) and no credentials file the
 * client sends no credentials at all, which is what emulators such as fake-gcs-server want.
 */
import { randomUUID } from 'node:crypto';
import { Storage, type File, type FileMetadata } from '@google-cloud/storage';
import { ObjectMissing, type Bucket, type ObjectInfo, type ObjectRange, type WriteOptions } from './bucket';
import type { GcsDriverConfig } from './driver-config';

export interface GcsBucketOptions {
  /** Objects per listing request (GCS's maximum and default: 1000); tests page smaller. */
  listPageSize?: number;
}

const UPLOAD_CHUNK = 8 * 1024 * 1024;
/** Parallel deletes in deleteMany (the JSON API deletes one object per request). */
const DELETE_CONCURRENCY = 16;
/** After signing failed (no key to sign with, no IAM permission), presignGet says null for this long. */
const SIGNING_RETRY_MS = 10 * 60_000;

export function gcsBucket(config: GcsDriverConfig, options: GcsBucketOptions = {}): Bucket {
  const emulated = config.endpoint !== undefined || process.env.STORAGE_EMULATOR_HOST !== undefined;
  const storage = new Storage({
    ...(config.endpoint ? { apiEndpoint: config.endpoint } : {}),
    // The SDK skips authentication for custom endpoints unless told otherwise: a credentials
    // file given together with an endpoint (a private endpoint) is meant to be used.
    ...(config.credentialsFile ? { keyFilename: config.credentialsFile, useAuthWithCustomEndpoint: true } : {}),
  });
  const bucket = storage.bucket(config.bucket);
  const prefix = config.rootDirectory ? `${config.rootDirectory}/` : '';
  const full = (key: string) => prefix + key;
  const relative = (name: string) => name.slice(prefix.length);
  const location = `gs://${config.bucket}/${config.rootDirectory}`;
  const pageSize = options.listPageSize ?? 1000;
  let signingFailedAt = -Infinity;

  const info = (m: FileMetadata): ObjectInfo => ({
    key: relative(String(m.name)),
    size: Number(m.size ?? 0),
    modifiedMs: Date.parse(String(m.updated ?? m.timeCreated ?? '')) || 0,
    metadata: userMetadata(m),
    etag: String(m.generation),
  });

  async function head(key: string): Promise<FileMetadata | null> {
    try {
      const [m] = await bucket.file(full(key)).getMetadata();
      return m;
    } catch (err) {
      if (status(err) === 404) return null;
      throw err;
    }
  }

  async function save(file: File, body: Buffer, options: WriteOptions, ifGenerationMatch?: string): Promise<void> {
    await file.save(body, {
      resumable: false,
      metadata: { ...(options.contentType ? { contentType: options.contentType } : {}), metadata: { ...options.metadata } },
      ...(ifGenerationMatch !== undefined ? { preconditionOpts: { ifGenerationMatch } } : {}),
    });
  }

  return {
    location,

    async read(key) {
      const m = await head(key);
      if (!m) return null;
      try {
        // That generation exactly, so body and info belong together.
        const [body] = await bucket.file(full(key), { generation: String(m.generation) }).download();
        return { body, info: info(m) };
      } catch (err) {
        if (status(err) === 404) return null; // replaced or deleted since the head
        throw err;
      }
    },

    async head(key) {
      const m = await head(key);
      return m ? info(m) : null;
    },

    async stream(key, range?: ObjectRange) {
      const body = bucket.file(full(key)).createReadStream(range ? { start: range.start, end: range.end } : {});
      // The request goes out on the first read: start it and wait for the answer, so that a
      // missing object is ObjectMissing here rather than an error event on the stream later.
      const failed = new Promise<unknown>((resolve) => body.once('error', resolve));
      const answered = Promise.race([
        new Promise<number>((resolve) => body.once('response', (res: { statusCode?: number }) => resolve(res.statusCode ?? 0))),
        failed.then(() => -1),
      ]);
      body.read(0);
      const code = await answered;
      if (code >= 200 && code < 300) return body;
      // The SDK reads the error body, then fails the stream with it.
      const err = await failed;
      body.destroy();
      throw status(err) === 404 ? new ObjectMissing(key) : err;
    },

    async write(key, body, options: WriteOptions = {}) {
      let condition: string | undefined;
      if (options.ifNoneMatch) condition = '0';
      else if (options.ifMatch !== undefined) {
        // Not a generation this driver handed out: no version of the object has it.
        if (!/^[1-9][0-9]*$/.test(options.ifMatch)) return null;
        condition = options.ifMatch;
      }
      const file = bucket.file(full(key));
      try {
        await save(file, body, options, condition);
      } catch (err) {
        // 412 for either condition (ifGenerationMatch=N of an absent object included); a 404
        // here is the bucket's, an error.
        if (condition !== undefined && status(err) === 412) return null;
        throw err;
      }
      return String(file.metadata.generation);
    },

    async upload(key, body, options = {}) {
      const sink = bucket.file(full(key)).createWriteStream({
        resumable: true,
        chunkSize: UPLOAD_CHUNK,
        metadata: { metadata: { ...options.metadata } },
      });
      // The caller must see the source's own error (a client that went away is its fault, not
      // the store's), not the SDK's report of the aborted upload; a source destroyed without
      // an error must fail the upload too, not leave it waiting.
      let sourceError: Error | undefined;
      await new Promise<void>((resolve, reject) => {
        const fail = (err: Error) => {
          sourceError ??= err;
          body.unpipe(sink);
          // Destroying the sink aborts the chunk in flight and never finalizes the upload.
          sink.destroy(err);
          reject(err);
        };
        body.once('error', fail);
        body.once('close', () => body.readableEnded || fail(new Error('the source stream closed before its end')));
        sink.on('error', (err) => {
          body.unpipe(sink);
          reject(sourceError ?? err);
        });
        sink.once('finish', () => resolve());
        body.pipe(sink);
      });
    },

    async setMetadata(key, metadata) {
      for (let attempt = 0; ; attempt++) {
        const m = await head(key);
        if (!m) return false;
        const patch: Record<string, string | null> = {};
        for (const name of Object.keys(userMetadata(m))) patch[name] = null;
        Object.assign(patch, metadata);
        try {
          await bucket.file(full(key)).setMetadata(
            { metadata: patch },
            { ifGenerationMatch: String(m.generation), ifMetagenerationMatch: String(m.metageneration) },
          );
          return true;
        } catch (err) {
          if (status(err) === 404) return false; // deleted since the read
          // Changed between our read and our patch: read again (bounded, a key is rarely busy).
          if (status(err) === 412 && attempt < 5) continue;
          throw err;
        }
      }
    },

    async delete(key) {
      await bucket.file(full(key)).delete({ ignoreNotFound: true });
    },

    async deleteMany(keys) {
      let next = 0;
      const worker = async () => {
        while (next < keys.length) await bucket.file(full(keys[next++]!)).delete({ ignoreNotFound: true });
      };
      await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, keys.length) }, worker));
    },

    async *list(listPrefix) {
      let pageToken: string | undefined;
      do {
        const [files, next] = await bucket.getFiles({ prefix: full(listPrefix), autoPaginate: false, maxResults: pageSize, pageToken });
        for (const f of files) yield info(f.metadata);
        pageToken = (next as { pageToken?: string } | null)?.pageToken;
      } while (pageToken);
    },

    async *children(parent) {
      let pageToken: string | undefined;
      const seen = new Set<string>();
      do {
        const [files, next, response] = await bucket.getFiles({
          prefix: full(parent),
          delimiter: '/',
          autoPaginate: false,
          maxResults: pageSize,
          pageToken,
        });
        const page = [...((response as { prefixes?: string[] }).prefixes ?? []), ...files.map((f) => f.name)].map(relative).sort();
        for (const child of page) {
          if (seen.has(child)) continue;
          seen.add(child);
          yield child;
        }
        pageToken = (next as { pageToken?: string } | null)?.pageToken;
      } while (pageToken);
    },

    async presignGet(key, seconds) {
      // An emulator without credentials has nothing to sign with; elsewhere signing needs a
      // private key (service-account file) or the IAM signBlob permission (ADC), and a failure
      // is remembered for a while rather than paid for on every read.
      if ((emulated && !config.credentialsFile) || Date.now() - signingFailedAt < SIGNING_RETRY_MS) return null;
      try {
        const [url] = await bucket.file(full(key)).getSignedUrl({ version: 'v4', action: 'read', expires: Date.now() + seconds * 1000 });
        return url;
      } catch {
        signingFailedAt = Date.now();
        return null;
      }
    },

    async check() {
      const key = `_perch/check/${randomUUID()}`;
      try {
        await save(bucket.file(full(key)), Buffer.from('ok'), {});
        await bucket.file(full(key)).delete({ ignoreNotFound: true });
      } catch (err) {
        throw new Error(`GCS bucket ${config.bucket} is not writable: ${describe(err)}`);
      }
    },
  };
}

/** The HTTP status of an SDK error (ApiError.code), or undefined for anything else. */
function status(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** An SDK error in one line, for check(): the status, what it means here, the store's words. */
function describe(err: unknown): string {
  const code = status(err);
  const message = ((err as Error)?.message ?? String(err)).split('\n')[0]!.slice(0, 300);
  const meaning = code === 404 ? 'it does not exist' : code === 401 || code === 403 ? 'access denied' : undefined;
  return [meaning, code ? `(${code} ${message})` : message].filter(Boolean).join(' ');
}

/**
 * The object's user metadata. An empty value counts as absent: that is how fake-gcs-server
 * keeps a key that a PATCH set to null (GCS removes it), and perch never writes empty values.
 */
function userMetadata(m: FileMetadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(m.metadata ?? {})) if (value !== null && value !== undefined && value !== '') out[name] = String(value);
  return out;
}
