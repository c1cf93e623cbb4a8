/**
 * zot's `storage.storageDriver` as perch reads it (config/read-storage-driver.ts): zot's example
 * configs for S3, GCS and Azure, the key spellings of distribution's drivers, and a message
 * naming the key and the fix for each mistake.
 */
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from 'perch/config';

const FIXTURES = resolve(__dirname, '..', 'fixtures', 'zot-configs');
const parse = (raw: unknown) => parseConfig(raw, 'config.json', { cwd: '/srv' });
function problems(raw: unknown): string[] {
  try {
    parse(raw);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  throw new Error('expected the config to be refused');
}

describe("zot's object-storage examples", () => {
  it('config-s3.json: an s3 driver on AWS (the dynamodb dedupe cache is ignored with a warning)', () => {
    const { config, warnings } = loadConfig(join(FIXTURES, 'config-s3.json'));
    expect(config.storage.driver).toEqual({ name: 's3', bucket: 'zot-storage', region: 'us-east-2', regionEndpoint: undefined, rootDirectory: 'zot', forcePathStyle: true, secure: true, skipVerify: false, accessKey: undefined, secretKey: undefined, sessionToken: undefined });
    expect(warnings).toEqual([expect.stringMatching(/storage\.cacheDriver: ignored/)]);
  });

  it('config-gcs.json: a gcs driver with a credentials file', () => {
    const { config, warnings } = loadConfig(join(FIXTURES, 'config-gcs.json'));
    expect(config.storage.driver).toEqual({ name: 'gcs', bucket: 'zot-storage', rootDirectory: 'zot', credentialsFile: '/path/to/gcs-credentials.json', endpoint: undefined });
    expect(warnings).toEqual([]);
  });

  it('config-azure.json: an azure driver on the default (workload) credentials', () => {
    const { config } = loadConfig(join(FIXTURES, 'config-azure.json'));
    expect(config.storage.driver).toMatchObject({ name: 'azure', accountName: 'myazurestorageaccount', container: 'zot-storage', rootDirectory: 'zot', credentialsType: 'default_credentials', realm: 'core.windows.net' });
  });
});

describe('storage.storageDriver', () => {
  it('without the block, or named filesystem, perch stores on the filesystem', () => {
    expect(parse({}).config.storage.driver).toBeUndefined();
    expect(parse({ storage: { storageDriver: { name: 'filesystem' } } }).config.storage.driver).toBeUndefined();
  });

  it('an S3-compatible endpoint needs no region; keys and case as distribution spells them', () => {
    const { config } = parse({ storage: { storageDriver: { Name: 'S3', Bucket: 'b', RegionEndpoint: 'http://127.0.0.1:8333', ForcePathStyle: 'true', Secure: false, AccessKey: 'AK', SecretKey: 'SK', RootDirectory: '/a/b/' } } });
    expect(config.storage.driver).toMatchObject({ name: 's3', bucket: 'b', region: 'us-east-1', regionEndpoint: 'http://127.0.0.1:8333', forcePathStyle: true, secure: false, accessKey: 'AK', secretKey: 'SK', rootDirectory: 'a/b' });
  });

  it('an azure account key makes shared-key credentials the default', () => {
    const { config } = parse({ storage: { storageDriver: { name: 'azure', accountname: 'a', container: 'c', accountkey: 'k', serviceurl: 'http://127.0.0.1:10000/a' } } });
    expect(config.storage.driver).toMatchObject({ credentialsType: 'shared_key', accountKey: 'k', serviceUrl: 'http://127.0.0.1:10000/a' });
  });

  const mistakes: Array<[string, unknown, RegExp]> = [
    ['no name', { storage: { storageDriver: { bucket: 'b' } } }, /storage\.storageDriver: has no "name": say which object store, one of "s3", "gcs", "azure"/],
    ['an unknown driver', { storage: { storageDriver: { name: 'swift', bucket: 'b' } } }, /storage\.storageDriver\.name: "swift" is not allowed; use one of "s3", "gcs", "azure"/],
    ['s3 without a bucket', { storage: { storageDriver: { name: 's3', region: 'r' } } }, /storage\.storageDriver\.bucket: is required for this driver; e\.g\. "bucket": "zot-storage"/],
    ['s3 on AWS without a region', { storage: { storageDriver: { name: 's3', bucket: 'b' } } }, /storage\.storageDriver\.region: is required/],
    ['gcs without a bucket', { storage: { storageDriver: { name: 'gcs' } } }, /storage\.storageDriver\.bucket: is required/],
    ['azure without an account', { storage: { storageDriver: { name: 'azure', container: 'c' } } }, /storage\.storageDriver\.accountname: is required/],
    ['azure without a container', { storage: { storageDriver: { name: 'azure', accountname: 'a' } } }, /storage\.storageDriver\.container: is required/],
    ['redirectBlobURL on the filesystem', { storage: { redirectBlobURL: true } }, /storage\.redirectBlobURL: needs an object store: set storage\.storageDriver/],
  ];
  for (const [what, raw, pattern] of mistakes) {
    it(`refuses ${what}, naming the key and the fix`, () => {
      const found = problems(raw);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(pattern);
    });
  }
});
