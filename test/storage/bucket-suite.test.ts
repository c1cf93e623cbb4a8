/**
 * One contract suite for every Bucket driver (distribution's "testsuites" idea): each
 * guarantee in registry-image/src/storage/object/bucket.ts, checked against each driver on
 * its store or emulator. A driver that passes here may sit under object-store.ts.
 *
 * Drivers and the store each runs on:
 * - gcs: gcs-bucket.ts against fake-gcs-server (built by `bash scripts/install-tools.sh storage`);
 * - azure: azure-bucket.ts against Azurite (the npm devDependency);
 * - s3: s3-bucket.ts against SeaweedFS (built by the same script; test/helpers/seaweed.ts);
 * - memory: memory-bucket.ts, the model (no root directory, no store to be missing).
 *
 * One emulator per driver for the file; each test works under a root directory of its own,
 * so tests never see each other's objects.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azureBucket } from '../../registry-image/src/storage/object/azure-bucket';
import { ObjectMissing, type Bucket, type ObjectInfo } from '../../registry-image/src/storage/object/bucket';
import { gcsBucket } from '../../registry-image/src/storage/object/gcs-bucket';
import { memoryBucket } from '../../registry-image/src/storage/object/memory-bucket';
import { s3Bucket } from '../../registry-image/src/storage/object/s3-bucket';
import { freshName, startAzurite, startFakeGcs } from '../helpers/object-servers';
import { startSeaweed } from '../helpers/seaweed';

interface Harness {
  /** A bucket on the shared store, its keys under `rootDirectory` ("" = the top). */
  bucket(rootDirectory: string): Bucket;
  /** A bucket whose bucket or container does not exist, and that name (for check()). */
  missing?(): { bucket: Bucket; name: string };
  /** The stored content type of a key (root directory included), read past the driver. */
  contentType?(fullKey: string): Promise<string | undefined>;
  stop(): Promise<void>;
}

interface Driver {
  name: string;
  /** Objects per listing page as the bucket is made here: the listing test writes a page and a tenth. */
  listPageSize: number;
  /** Whether presignGet gives a URL here; false: it must answer null. */
  presigns: boolean;
  /** The driver has no root directory (keys are never prefixed): the isolation test is skipped. */
  noRootDirectory?: true;
  start(): Promise<Harness>;
}

/** Smaller than the stores' own pages (GCS 1000, Azure 5000), so paging is reached quickly. */
const PAGE = 100;

const drivers: Driver[] = [
  {
    name: 'gcs (fake-gcs-server)',
    listPageSize: PAGE,
    // No service-account key against the emulator: nothing to sign with.
    presigns: false,
    async start() {
      const gcs = await startFakeGcs();
      const make = (bucket: string, rootDirectory: string) =>
        gcsBucket({ name: 'gcs', bucket, rootDirectory, endpoint: gcs.endpoint }, { listPageSize: PAGE });
      return {
        bucket: (root) => make(gcs.bucket, root),
        missing() {
          const name = freshName('absent');
          return { bucket: make(name, ''), name };
        },
        async contentType(fullKey) {
          const res = await fetch(`${gcs.endpoint}/storage/v1/b/${gcs.bucket}/o/${encodeURIComponent(fullKey)}`);
          return ((await res.json()) as { contentType?: string }).contentType;
        },
        stop: gcs.stop,
      };
    },
  },
  {
    name: 'azure (Azurite)',
    listPageSize: PAGE,
    presigns: true,
    async start() {
      const az = await startAzurite();
      const make = (container: string, rootDirectory: string) =>
        azureBucket(
          {
            name: 'azure',
            accountName: az.accountName,
            accountKey: az.accountKey,
            container,
            rootDirectory,
            credentialsType: 'shared_key',
            serviceUrl: az.serviceUrl,
            realm: 'core.windows.net',
          },
          { listPageSize: PAGE },
        );
      const service = new BlobServiceClient(az.serviceUrl, new StorageSharedKeyCredential(az.accountName, az.accountKey));
      return {
        bucket: (root) => make(az.container, root),
        missing() {
          const name = freshName('absent');
          return { bucket: make(name, ''), name };
        },
        async contentType(fullKey) {
          return (await service.getContainerClient(az.container).getBlobClient(fullKey).getProperties()).contentType;
        },
        stop: az.stop,
      };
    },
  },
  {
    name: 's3 (SeaweedFS)',
    // s3Bucket takes no page size; ListObjectsV2 pages at 1000, so the listing test writes 1100.
    listPageSize: 1000,
    presigns: true,
    async start() {
      const s3 = await startSeaweed();
      const bucket = await s3.createBucket();
      return {
        bucket: (root) => s3Bucket(s3.driver(bucket, root)),
        missing() {
          const name = freshName('absent');
          return { bucket: s3Bucket(s3.driver(name, '')), name };
        },
        async contentType(fullKey) {
          // Without an identities file SeaweedFS answers unsigned requests.
          const res = await fetch(`${s3.endpoint}/${bucket}/${fullKey}`, { method: 'HEAD' });
          return res.headers.get('content-type') ?? undefined;
        },
        stop: s3.stop,
      };
    },
  },
  {
    name: 'memory',
    // It does not page at all; a page's worth of keys still checks the order.
    listPageSize: 20,
    presigns: false,
    noRootDirectory: true,
    async start() {
      return { bucket: () => memoryBucket(), stop: async () => {} };
    },
  },
];

const MiB = 1024 * 1024;

async function bytes(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** `data` as 1 MiB chunks from a generator (a stream of unknown length, as a request body). */
async function* chunks(data: Buffer, options: { gate?: { at: number; reached: () => void; open: Promise<void> }; failAt?: number } = {}) {
  for (let offset = 0; offset < data.length; offset += MiB) {
    if (options.failAt !== undefined && offset >= options.failAt) throw new Error('the source broke');
    if (options.gate && offset === options.gate.at) {
      options.gate.reached();
      await options.gate.open;
    }
    yield data.subarray(offset, offset + MiB);
  }
}

/** Runs `work` over `items`, `width` at a time. */
async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

/** A root directory of its own for each test. */
const freshRoot = () => `t-${randomUUID().slice(0, 8)}`;

describe.each(drivers)('$name', (driver) => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await driver.start();
  });
  afterAll(async () => {
    await harness?.stop();
  });
  const fresh = () => {
    const root = freshRoot();
    return { root, bucket: harness.bucket(root) };
  };

  it('write, read and head round-trip the body, metadata and content type', async () => {
    const { root, bucket } = fresh();
    const body = Buffer.from('{"schemaVersion":2}');
    const metadata = { size: '19', touched: '1700000000000', 'perch-kind': 'manifest' };
    const before = Date.now();
    const etag = await bucket.write('a/b/obj', body, { metadata, contentType: 'application/vnd.oci.image.manifest.v1+json' });
    expect(etag).toEqual(expect.any(String));
    expect(etag).not.toBe('');

    const read = await bucket.read('a/b/obj');
    expect(read?.body.equals(body)).toBe(true);
    const info = read!.info;
    expect(info).toMatchObject({ key: 'a/b/obj', size: body.length, metadata, etag });
    // Clocks of emulator and test agree to well within a minute; S3 rounds to the second.
    expect(info.modifiedMs).toBeGreaterThan(before - 60_000);
    expect(info.modifiedMs).toBeLessThan(Date.now() + 60_000);
    expect(await bucket.head('a/b/obj')).toEqual(info);
    if (harness.contentType) expect(await harness.contentType(`${root}/a/b/obj`)).toBe('application/vnd.oci.image.manifest.v1+json');

    expect(await bucket.read('a/b/none')).toBeNull();
    expect(await bucket.head('a/b/none')).toBeNull();
    expect(await bucket.head('a/b')).toBeNull(); // a "folder" is no object

    // An unconditional write replaces the object whole, metadata included.
    const again = await bucket.write('a/b/obj', Buffer.from('xy'));
    expect(again).not.toBe(etag);
    const replaced = await bucket.read('a/b/obj');
    expect(replaced?.body.toString()).toBe('xy');
    expect(replaced?.info).toMatchObject({ size: 2, metadata: {}, etag: again });
  });

  it('write with ifNoneMatch creates only when the key is absent', async () => {
    const { bucket } = fresh();
    const first = await bucket.write('k', Buffer.from('first'), { ifNoneMatch: true, metadata: { n: '1' } });
    expect(first).toEqual(expect.any(String));
    expect(await bucket.write('k', Buffer.from('second'), { ifNoneMatch: true, metadata: { n: '2' } })).toBeNull();
    const kept = await bucket.read('k');
    expect(kept?.body.toString()).toBe('first');
    expect(kept?.info).toMatchObject({ etag: first, metadata: { n: '1' } });
    // Racing creators: exactly one wins.
    const racers = await Promise.all(['a', 'b', 'c', 'd'].map((v) => bucket.write('race', Buffer.from(v), { ifNoneMatch: true })));
    expect(racers.filter((r) => r !== null)).toHaveLength(1);
    // Gone again: creatable again.
    await bucket.delete('k');
    expect(await bucket.write('k', Buffer.from('third'), { ifNoneMatch: true })).toEqual(expect.any(String));
    expect((await bucket.read('k'))?.body.toString()).toBe('third');
  });

  it('write with ifMatch replaces only the version with that etag', async () => {
    const { bucket } = fresh();
    const v1 = (await bucket.write('k', Buffer.from('v1')))!;
    const v2 = await bucket.write('k', Buffer.from('v2'), { ifMatch: v1, metadata: { v: '2' } });
    expect(v2).toEqual(expect.any(String));
    expect(v2).not.toBe(v1);
    // A stale etag: refused, the object as it was.
    expect(await bucket.write('k', Buffer.from('v3'), { ifMatch: v1 })).toBeNull();
    expect(await bucket.write('k', Buffer.from('v3'), { ifMatch: 'not-an-etag' })).toBeNull();
    const current = await bucket.read('k');
    expect(current?.body.toString()).toBe('v2');
    expect(current?.info).toMatchObject({ etag: v2, metadata: { v: '2' } });
    // The etag head gives works as well.
    const headEtag = (await bucket.head('k'))!.etag;
    expect(await bucket.write('k', Buffer.from('v3'), { ifMatch: headEtag })).toEqual(expect.any(String));
    expect((await bucket.read('k'))?.body.toString()).toBe('v3');
    // Compare-and-swap of a key that went: refused, and nothing is created.
    await bucket.delete('k');
    expect(await bucket.write('k', Buffer.from('v4'), { ifMatch: headEtag })).toBeNull();
    expect(await bucket.head('k')).toBeNull();
  });

  it('setMetadata replaces the metadata of an existing object and never creates one', async () => {
    const { bucket } = fresh();
    await bucket.write('k', Buffer.from('keep me'), { metadata: { size: '7', touched: '1', 'old-name': 'x' } });
    expect(await bucket.setMetadata('k', { size: '7', touched: '2', 'new-name': 'y' })).toBe(true);
    const after = await bucket.read('k');
    expect(after?.body.toString()).toBe('keep me');
    expect(after?.info.metadata).toEqual({ size: '7', touched: '2', 'new-name': 'y' });
    expect((await bucket.head('k'))?.metadata).toEqual({ size: '7', touched: '2', 'new-name': 'y' });

    expect(await bucket.setMetadata('absent', { touched: '3' })).toBe(false);
    expect(await bucket.head('absent')).toBeNull();
  });

  it('stream gives the whole object or an inclusive range, and ObjectMissing for an absent key', async () => {
    const { bucket } = fresh();
    await bucket.write('digits', Buffer.from('0123456789'));
    expect((await bytes(await bucket.stream('digits'))).toString()).toBe('0123456789');
    expect((await bytes(await bucket.stream('digits', { start: 2, end: 5 }))).toString()).toBe('2345');
    expect((await bytes(await bucket.stream('digits', { start: 0, end: 0 }))).toString()).toBe('0');
    expect((await bytes(await bucket.stream('digits', { start: 9, end: 9 }))).toString()).toBe('9');
    expect((await bytes(await bucket.stream('digits', { start: 0, end: 9 }))).toString()).toBe('0123456789');

    const missing = await bucket.stream('absent').then(
      () => null,
      (err: unknown) => err,
    );
    expect(missing).toBeInstanceOf(ObjectMissing);
    expect((missing as ObjectMissing).key).toBe('absent');
    await expect(bucket.stream('absent', { start: 0, end: 3 })).rejects.toBeInstanceOf(ObjectMissing);
  });

  it('upload streams 20 MiB up, visible only once complete, and reads back byte for byte', async () => {
    const { bucket } = fresh();
    const data = randomBytes(20 * MiB);
    let reached!: () => void;
    const atGate = new Promise<void>((r) => (reached = r));
    let open!: () => void;
    const gate = { at: 12 * MiB, reached, open: new Promise<void>((r) => (open = r)) };
    const uploading = bucket.upload('big', Readable.from(chunks(data, { gate })), { metadata: { size: String(data.length) } });
    uploading.catch(() => {});
    // 12 MiB taken (a part or more sent, in stores that have parts), the source waiting: nothing
    // is there yet.
    await atGate;
    await new Promise((r) => setTimeout(r, 300));
    expect(await bucket.head('big')).toBeNull();
    expect(await collect(bucket.list(''))).toEqual([]);
    open();
    await uploading;

    const info = await bucket.head('big');
    expect(info).toMatchObject({ key: 'big', size: data.length, metadata: { size: String(data.length) } });
    const back = await bytes(await bucket.stream('big'));
    expect(back.length).toBe(data.length);
    expect(sha256(back)).toBe(sha256(data));
    // A range across the 8 MiB part boundary.
    const range = { start: 8 * MiB - 5, end: 8 * MiB + 4 };
    expect((await bytes(await bucket.stream('big', range))).equals(data.subarray(range.start, range.end + 1))).toBe(true);
  });

  it('an upload whose source fails leaves nothing, and an object it was replacing as it was', async () => {
    const { bucket } = fresh();
    const data = randomBytes(16 * MiB);
    // Fails after 12 MiB: past the first 8 MiB part where the store has parts.
    await expect(bucket.upload('broken', Readable.from(chunks(data, { failAt: 12 * MiB })))).rejects.toThrow();
    expect(await bucket.head('broken')).toBeNull();
    await expect(bucket.stream('broken')).rejects.toBeInstanceOf(ObjectMissing);

    // Destroyed without an error (a client gone, as some servers report it), 2 MiB in: the same.
    const source = new Readable({ read() {} });
    source.push(data.subarray(0, MiB));
    source.push(data.subarray(MiB, 2 * MiB));
    setTimeout(() => source.destroy(), 200);
    await expect(bucket.upload('cut', source)).rejects.toThrow();
    expect(await bucket.head('cut')).toBeNull();

    await bucket.write('existing', Buffer.from('old'), { metadata: { v: 'old' } });
    await expect(bucket.upload('existing', Readable.from(chunks(data, { failAt: 10 * MiB })), { metadata: { v: 'new' } })).rejects.toThrow();
    const kept = await bucket.read('existing');
    expect(kept?.body.toString()).toBe('old');
    expect(kept?.info.metadata).toEqual({ v: 'old' });

    expect((await collect(bucket.list(''))).map((i) => i.key)).toEqual(['existing']);
  });

  it('keeps empty objects (written and uploaded) under keys shaped like the layout', async () => {
    const { bucket } = fresh();
    // A repository's "holds this layer" marker is an empty object; tags allow . _ - and capitals.
    const marker = 'repositories/team/app.web/_layers/sha256/0123abcd';
    const tag = 'repositories/team/app.web/_manifests/tags/V1.0_rc-2';
    expect(await bucket.write(marker, Buffer.alloc(0))).toEqual(expect.any(String));
    await bucket.upload(tag, Readable.from([]));
    for (const key of [marker, tag]) {
      const read = await bucket.read(key);
      expect(read?.body.length).toBe(0);
      expect(read?.info).toMatchObject({ key, size: 0 });
      expect((await bytes(await bucket.stream(key))).length).toBe(0);
    }
    expect((await collect(bucket.list('repositories/team/'))).map((i) => i.key)).toEqual([marker, tag]);
  });

  it('delete and deleteMany remove objects, and absent keys are no error', async () => {
    const { bucket } = fresh();
    for (const k of ['a', 'b', 'c', 'd']) await bucket.write(k, Buffer.from(k));
    await bucket.delete('a');
    await bucket.delete('a');
    await bucket.delete('never');
    expect(await bucket.head('a')).toBeNull();
    await bucket.deleteMany(['b', 'c', 'never', 'b']);
    await bucket.deleteMany([]);
    expect((await collect(bucket.list(''))).map((i) => i.key)).toEqual(['d']);
  });

  it('list and children page through everything under a prefix, list in key order', async () => {
    const { bucket } = fresh();
    const count = driver.listPageSize + Math.ceil(driver.listPageSize / 10);
    // Written out of order; names whose order differs as numbers and as strings. One object
    // per "folder", so children pages through as many prefixes as list does objects.
    const keys = Array.from({ length: count }, (_, i) => `list/${i}/x`).reverse();
    await inParallel(keys, 16, (k) => bucket.write(k, Buffer.from(k)));
    // Neighbours that must not be listed under "list/".
    await bucket.write('lis', Buffer.from('no'));
    await bucket.write('list', Buffer.from('no'));
    await bucket.write('listing/x', Buffer.from('no'));

    const listed = await collect(bucket.list('list/'));
    expect(listed.map((i) => i.key)).toEqual([...keys].sort());
    const sample = listed.find((i) => i.key === 'list/7/x') as ObjectInfo;
    expect(sample).toMatchObject({ size: 'list/7/x'.length });
    expect(sample.etag).toEqual(expect.any(String));
    expect(sample.modifiedMs).toBeGreaterThan(0);
    expect((await collect(bucket.list('list'))).length).toBe(count + 2);
    expect(await collect(bucket.list('nothing/'))).toEqual([]);

    const folders = await collect(bucket.children('list/'));
    expect(folders).toHaveLength(count); // no prefix twice across pages
    expect([...folders].sort()).toEqual(keys.map((k) => k.slice(0, -'x'.length)).sort());
  });

  it('children gives the common prefixes and the objects directly below a prefix', async () => {
    const { bucket } = fresh();
    for (const k of ['repos/a/x', 'repos/a/y', 'repos/b/c/d', 'repos/file', 'repos/z/1', 'repos-other/q', 'top']) {
      await bucket.write(k, Buffer.from(k));
    }
    expect((await collect(bucket.children('repos/'))).sort()).toEqual(['repos/a/', 'repos/b/', 'repos/file', 'repos/z/']);
    expect((await collect(bucket.children('repos/b/'))).sort()).toEqual(['repos/b/c/']);
    expect((await collect(bucket.children(''))).sort()).toEqual(['repos-other/', 'repos/', 'top']);
    expect(await collect(bucket.children('none/'))).toEqual([]);
  });

  it.skipIf(driver.noRootDirectory)('root directories keep buckets in one container apart', async () => {
    const base = freshRoot();
    const one = harness.bucket(`${base}/one`);
    const two = harness.bucket(`${base}/two`);
    const top = harness.bucket('');
    await one.write('k', Buffer.from('one'));
    await two.write('k', Buffer.from('two'));
    await two.write('only-two', Buffer.from('2'));
    expect((await one.read('k'))?.body.toString()).toBe('one');
    expect((await two.read('k'))?.body.toString()).toBe('two');
    expect(await one.head('only-two')).toBeNull();
    expect((await collect(one.list(''))).map((i) => i.key)).toEqual(['k']);
    expect((await collect(two.children(''))).sort()).toEqual(['k', 'only-two']);
    // Seen from the top, the prefix is the root directory and a slash.
    expect((await collect(top.list(`${base}/`))).map((i) => i.key)).toEqual([`${base}/one/k`, `${base}/two/k`, `${base}/two/only-two`]);
    expect((await collect(top.children(`${base}/`))).sort()).toEqual([`${base}/one/`, `${base}/two/`]);
    await one.deleteMany(['k', 'only-two']);
    expect((await two.read('k'))?.body.toString()).toBe('two');
    expect((await two.read('only-two'))?.body.toString()).toBe('2');
  });

  it(`presignGet ${driver.presigns ? 'gives a URL that reads the object without credentials' : 'says null here'}`, async () => {
    const { bucket } = fresh();
    await bucket.write('signed', Buffer.from('public for a minute'), { contentType: 'text/plain' });
    const url = await bucket.presignGet('signed', 60);
    if (!driver.presigns) {
      expect(url).toBeNull();
      return;
    }
    expect(url).toEqual(expect.any(String));
    const res = await fetch(url!);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('public for a minute');
    expect(res.headers.get('content-type')).toBe('text/plain');
  });

  it('check passes on a writable bucket, leaves nothing, and names a missing bucket', async () => {
    const { bucket } = fresh();
    await bucket.check();
    expect(await collect(bucket.list(''))).toEqual([]);
    expect(bucket.location).toEqual(expect.any(String));
    if (!harness.missing) return;
    const { bucket: absent, name } = harness.missing();
    const failure = await absent.check().then(
      () => null,
      (err: unknown) => err as Error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure!.message).toContain(name);
    expect(absent.location).toContain(name);
  });
});
