/**
 * `perch serve` on an object store, started from zot's example configs (test/fixtures/
 * zot-configs/config-{s3,gcs,azure}.json) with only the bucket, the endpoint and the
 * credentials pointed at a real server on loopback; what a user sees when the bucket is not
 * there; and zot's redirectBlobURL.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pushImage, sha256 } from '../helpers/oci-client';
import { OBJECT_DRIVERS, objectBackends } from '../helpers/object-backends';
import { startRegistry } from '../helpers/registry';
import { startSeaweed } from '../helpers/seaweed';

const FIXTURES = resolve(__dirname, '..', 'fixtures', 'zot-configs');
const servers = objectBackends();
afterAll(() => servers.stop(), 30_000);

/** zot's example, with the driver's block aimed at the emulator (its other keys kept). */
async function exampleConfig(driver: (typeof OBJECT_DRIVERS)[number]): Promise<Record<string, unknown>> {
  const example = JSON.parse(readFileSync(join(FIXTURES, `config-${driver}.json`), 'utf8')) as { storage: { storageDriver: Record<string, unknown> } };
  const local = await servers.configBlock(driver, 'zot');
  const storageDriver = { ...example.storage.storageDriver, ...local };
  if (driver === 'gcs') delete storageDriver.credentialsFile;
  if (driver === 'azure') delete storageDriver.credentials;
  return { storage: { ...example.storage, rootDirectory: undefined, storageDriver }, log: { level: 'info' } };
}

describe.each(OBJECT_DRIVERS)("zot's config-%s.json", (driver) => {
  it('starts, says where it stores, and keeps what is pushed across a restart', async () => {
    const config = await exampleConfig(driver);
    const first = await startRegistry({ config });
    const image = await pushImage(first.url, 'examples/app', 'v1', [Buffer.from(`layer on ${driver}`)]);
    expect(first.logs.join('\n')).toMatch(new RegExp(`"message":"storage".*"storage":"(s3|gs|azure)://`));
    await first.stop();
    // Another server on the same bucket (a new pod) serves it.
    const second = await startRegistry({ config });
    try {
      const m = await fetch(`${second.url}/v2/examples/app/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
      expect(sha256(Buffer.from(await m.arrayBuffer()))).toBe(image.digest);
      for (const blob of image.blobs) {
        const b = await fetch(`${second.url}/v2/examples/app/blobs/${blob.digest}`);
        expect(Buffer.from(await b.arrayBuffer())).toEqual(blob.bytes);
      }
    } finally {
      await second.stop();
    }
  }, 60_000);
});

describe('a bucket perch cannot use', () => {
  it('exits 1 with one line naming the bucket and the fix', async () => {
    const block = await servers.configBlock('s3');
    const failed = await startRegistry({ config: { storage: { storageDriver: { ...block, bucket: 'no-such-bucket' } } } }).then(
      () => 'started',
      (err: Error) => err.message,
    );
    expect(failed).toMatch(/registry exited with 1/);
    expect(failed).toMatch(/"message":"cannot open storage".*s3:\/\/no-such-bucket\/perch.*NoSuchBucket: the bucket does not exist: create it, or fix storage\.storageDriver\.bucket/);
    expect(failed).not.toContain(String(block.secretkey));
  }, 60_000);
});

describe('a driver that cannot be set up', () => {
  it('an Azure account with shared-key credentials but no key exits 1 saying what is missing', async () => {
    const config = { storage: { storageDriver: { name: 'azure', accountname: 'acct', container: 'c', credentials: { type: 'shared_key' } } } };
    const failed = await startRegistry({ config, env: { AZURE_STORAGE_KEY: '' } }).then(
      () => 'started',
      (err: Error) => err.message,
    );
    expect(failed).toMatch(/registry exited with 1/);
    expect(failed).toMatch(/"message":"cannot open storage".*azure:\/\/acct\/c\/.*no shared key \(accountkey or AZURE_STORAGE_KEY\)/);
  }, 30_000);
});

describe('/readyz on an object store', () => {
  it('is ready while the bucket takes writes, and 503 naming the bucket when its server goes away', async () => {
    const own = await startSeaweed();
    const driver = own.driver(await own.createBucket());
    const registry = await startRegistry({ config: { storage: { storageDriver: { name: 's3', bucket: driver.bucket, regionendpoint: driver.regionEndpoint, forcepathstyle: true, accesskey: 'k', secretkey: 's' } } } });
    try {
      expect((await fetch(`${registry.url}/readyz`)).status).toBe(200);
      await own.stop();
      const res = await fetch(`${registry.url}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { problems: string[] };
      expect(body.problems.join('\n')).toMatch(new RegExp(`storage is not writable: s3://${driver.bucket}/.*ECONNREFUSED`));
    } finally {
      await registry.stop();
      await own.stop();
    }
  }, 90_000);
});

describe('storage.redirectBlobURL', () => {
  it('on S3 answers a blob GET with a presigned URL that serves the bytes; HEAD and manifests stay on perch', async () => {
    const block = await servers.configBlock('s3');
    const registry = await startRegistry({ config: { storage: { storageDriver: block, redirectBlobURL: true } } });
    try {
      const image = await pushImage(registry.url, 'redirect/app', 'v1', [Buffer.from('redirected layer bytes')]);
      const layer = image.blobs[1];
      const res = await fetch(`${registry.url}/v2/redirect/app/blobs/${layer.digest}`, { redirect: 'manual' });
      expect(res.status).toBe(307);
      expect(res.headers.get('docker-content-digest')).toBe(layer.digest);
      const location = res.headers.get('location')!;
      expect(location).toMatch(/X-Amz-Signature=/);
      const direct = await fetch(location);
      expect(Buffer.from(await direct.arrayBuffer())).toEqual(layer.bytes);
      // A client that follows redirects (as docker, crane and helm do) just gets the bytes.
      expect(Buffer.from(await (await fetch(`${registry.url}/v2/redirect/app/blobs/${layer.digest}`)).arrayBuffer())).toEqual(layer.bytes);
      expect((await fetch(`${registry.url}/v2/redirect/app/blobs/${layer.digest}`, { method: 'HEAD', redirect: 'manual' })).status).toBe(200);
      expect((await fetch(`${registry.url}/v2/redirect/app/manifests/v1`, { redirect: 'manual', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).status).toBe(200);
    } finally {
      await registry.stop();
    }
  }, 60_000);
});
