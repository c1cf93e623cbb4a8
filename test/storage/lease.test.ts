/**
 * The GC lease (storage/object/bucket-lease.ts) on each object store, with its conditional
 * writes as the store really answers them: one holder at a time even when several replicas
 * race for it, renewals keep it, and a holder that stops renewing (a replica killed) is
 * replaced once the lease expires, after which its own renewal fails.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Bucket } from '../../registry-image/src/storage/object/bucket';
import { bucketLease } from '../../registry-image/src/storage/object/bucket-lease';
import { memoryBucket } from '../../registry-image/src/storage/object/memory-bucket';
import { bucketFor } from '../../registry-image/src/storage/open-store';
import { objectBackends } from '../helpers/object-backends';

const servers = objectBackends();
afterAll(() => servers.stop(), 30_000);

const buckets: Array<[string, () => Promise<Bucket>]> = [
  ['memory', async () => memoryBucket()],
  ['s3 (SeaweedFS)', async () => await bucketFor(await servers.driver('s3'))],
  ['gcs (fake-gcs-server)', async () => await bucketFor(await servers.driver('gcs'))],
  ['azure (Azurite)', async () => await bucketFor(await servers.driver('azure'))],
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(buckets)('GC lease on %s', { timeout: 60_000 }, (_name, make) => {
  it('gives the lease to exactly one of several replicas racing for it', async () => {
    const bucket = await make();
    const leases = Array.from({ length: 8 }, (_, i) => bucketLease(bucket, '_gc/lease', `replica-${i}`, 30_000));
    const won = await Promise.all(leases.map((l) => l.acquire()));
    expect(won.filter(Boolean)).toHaveLength(1);
    const winner = leases[won.indexOf(true)];
    expect((await winner.current())?.holder).toBe(winner.holder);
    // The others keep being refused while it renews.
    expect(await winner.renew()).toBe(true);
    expect(await Promise.all(leases.filter((l) => l !== winner).map((l) => l.acquire()))).not.toContain(true);
    // Released: the next taker gets it at once.
    await winner.release();
    expect(await winner.current()).toBeNull();
    const again = await Promise.all(leases.map((l) => l.acquire()));
    expect(again.filter(Boolean)).toHaveLength(1);
  });

  it('replaces a holder that stopped renewing once the lease expires, and its late renewal fails', async () => {
    const bucket = await make();
    const dead = bucketLease(bucket, '_gc/lease', 'killed-replica', 1500);
    const other = bucketLease(bucket, '_gc/lease', 'other-replica', 1500);
    expect(await dead.acquire()).toBe(true);
    expect(await other.acquire()).toBe(false);
    await sleep(1800);
    expect(await other.acquire()).toBe(true);
    expect(await dead.renew()).toBe(false);
    expect(await dead.acquire()).toBe(false);
    expect((await other.current())?.holder).toBe('other-replica');
  });
});
