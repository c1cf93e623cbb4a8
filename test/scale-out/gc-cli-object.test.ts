/**
 * `perch gc CONFIG` on an object store (cli/gc.ts): it takes the GC lease the replicas share,
 * so it refuses, naming the holder, while a server collects; once the lease is free it
 * collects what no manifest references and keeps what a tag holds.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bucketLease } from '../../registry-image/src/storage/object/bucket-lease';
import { s3Bucket } from '../../registry-image/src/storage/object/s3-bucket';
import { pushBlob, pushImage, sha256 } from '../helpers/oci-client';
import { PERCH_BUNDLE, startRegistry } from '../helpers/registry';
import { runCommand } from '../helpers/run-command';
import { startSeaweed, type Seaweed } from '../helpers/seaweed';
import { tempDir } from '../helpers/temp-dir';

let seaweed: Seaweed | undefined;
afterAll(async () => seaweed?.stop());

describe('perch gc on S3', () => {
  it('refuses while another holds the GC lease, then collects the garbage and keeps the tagged image', async () => {
    seaweed = await startSeaweed();
    const driver = seaweed.driver(await seaweed.createBucket(), 'gc');
    const storageDriver = { name: 's3', bucket: driver.bucket, regionendpoint: driver.regionEndpoint, rootdirectory: 'gc', forcepathstyle: true, accesskey: 'k', secretkey: 's' };
    const storage = { storageDriver, gc: true, gcDelay: '1s', gcInterval: '1h' };
    const server = await startRegistry({ config: { storage } });
    const kept = await pushImage(server.url, 'gc/app', 'v1', [randomBytes(4000)]);
    const garbage = await pushBlob(server.url, 'gc/app', randomBytes(3000));
    await server.stop();
    await new Promise((r) => setTimeout(r, 1500)); // past gcDelay

    const config = join(tempDir('perch-gc-object-'), 'config.json');
    writeFileSync(config, JSON.stringify({ storage: { rootDirectory: tempDir('perch-gc-scratch-'), ...storage } }));
    const gc = (args: string[]) => runCommand(process.execPath, [PERCH_BUNDLE, 'gc', ...args, config], { timeoutMs: 60_000, allowFailure: true });

    // Another replica is collecting: it holds the lease.
    const other = bucketLease(s3Bucket(driver), '_gc/lease', 'zot-registry-7d9f/1/abcd', 60_000);
    expect(await other.acquire()).toBe(true);
    const refused = await gc([]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`perch gc: zot-registry-7d9f/1/abcd is collecting garbage in s3://${driver.bucket}/gc now (it holds the GC lease)`);
    // A dry run takes no lease and changes nothing.
    const dry = await gc(['--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would remove blob ${garbage}`);
    await other.release();

    const run = await gc([]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`removed blob ${garbage}`);
    expect(run.stdout).not.toContain(kept.digest);

    const again = await startRegistry({ config: { storage } });
    try {
      expect((await fetch(`${again.url}/v2/gc/app/blobs/${garbage}`)).status).toBe(404);
      const m = await fetch(`${again.url}/v2/gc/app/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
      expect(sha256(Buffer.from(await m.arrayBuffer()))).toBe(kept.digest);
      for (const b of kept.blobs) expect((await fetch(`${again.url}/v2/gc/app/blobs/${b.digest}`)).status).toBe(200);
    } finally {
      await again.stop();
    }
  }, 120_000);
});
