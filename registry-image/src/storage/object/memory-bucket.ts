/**
 * A Bucket in memory: the object-store layout's fast tests, and the model the real drivers
 * are checked against in test/storage/bucket-suite.test.ts. Never serves real traffic.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pump } from '../body-pump';
import { ObjectMissing, type Bucket, type ObjectInfo, type ObjectRange, type WriteOptions } from './bucket';

interface Entry {
  body: Buffer;
  modifiedMs: number;
  metadata: Record<string, string>;
  etag: string;
}

export function memoryBucket(location = 'memory://'): Bucket {
  const objects = new Map<string, Entry>();
  const info = (key: string, e: Entry): ObjectInfo => ({ key, size: e.body.length, modifiedMs: e.modifiedMs, metadata: { ...e.metadata }, etag: e.etag });
  const put = (key: string, body: Buffer, metadata: Record<string, string> = {}) => {
    const etag = randomUUID();
    objects.set(key, { body, modifiedMs: Date.now(), metadata: { ...metadata }, etag });
    return etag;
  };
  const sortedKeys = () => [...objects.keys()].sort();

  return {
    location,
    async read(key) {
      const e = objects.get(key);
      return e ? { body: e.body, info: info(key, e) } : null;
    },
    async head(key) {
      const e = objects.get(key);
      return e ? info(key, e) : null;
    },
    async stream(key, range?: ObjectRange) {
      const e = objects.get(key);
      if (!e) throw new ObjectMissing(key);
      return Readable.from([range ? e.body.subarray(range.start, range.end + 1) : e.body]);
    },
    async write(key, body, options: WriteOptions = {}) {
      const current = objects.get(key);
      if (options.ifNoneMatch && current) return null;
      if (options.ifMatch !== undefined && current?.etag !== options.ifMatch) return null;
      return put(key, Buffer.from(body), options.metadata);
    },
    async upload(key, body, options = {}) {
      const chunks: Buffer[] = [];
      await pump(body, { onChunk: (c) => chunks.push(c) });
      put(key, Buffer.concat(chunks), options.metadata);
    },
    async setMetadata(key, metadata) {
      const e = objects.get(key);
      if (!e) return false;
      e.metadata = { ...metadata };
      e.modifiedMs = Date.now();
      e.etag = randomUUID();
      return true;
    },
    async delete(key) {
      objects.delete(key);
    },
    async deleteMany(keys) {
      for (const key of keys) objects.delete(key);
    },
    async *list(prefix) {
      for (const key of sortedKeys()) {
        const e = objects.get(key);
        if (key.startsWith(prefix) && e) yield info(key, e);
      }
    },
    async *children(prefix) {
      const seen = new Set<string>();
      for (const key of sortedKeys()) {
        if (!key.startsWith(prefix)) continue;
        const rest = key.slice(prefix.length);
        const slash = rest.indexOf('/');
        const child = slash < 0 ? key : prefix + rest.slice(0, slash + 1);
        if (!seen.has(child)) {
          seen.add(child);
          yield child;
        }
      }
    },
    async presignGet() {
      return null;
    },
    async check() {},
  };
}
