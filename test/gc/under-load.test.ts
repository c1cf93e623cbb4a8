/**
 * Online GC under load: HTTP clients push and pull while collections run back to back, and
 * garbage (orphan blobs, untagged images, abandoned uploads) keeps being made. Afterwards:
 * the garbage is gone, every push that got its 201 pulls back whole (tagged images, indexes
 * with their untagged children, referrers of live subjects), and no pull ever failed.
 *
 * Why in-process (createRegistry + FsStore, collections driven here) rather than the bundled
 * server's scheduler: the collector must run in the process whose handlers it races (that is
 * what storage.gc does in `perch serve`, sharing the guard of gc/guard.ts), and driving it
 * here lets the test run collections back to back (far more often than any gcInterval, so far
 * more chances to race) and read each run's report. The same code runs in the bundle.
 *
 * The pushes are built to hit the race the protocol exists for (gc/collector.ts): they reuse
 * blobs left orphaned long enough to be garbage (HEAD, skip the upload, PUT the manifest),
 * mount them from another repository, and name old untagged manifests as index children.
 *
 * Then a quiescent phase (pulls continue, nothing is written) checks the bytes exactly: a
 * known set of garbage is made, and one collection frees exactly its size on disk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectGarbage, gcOptionsFrom } from '../../registry-image/src/gc/collector';
import type { GcReport } from '../../registry-image/src/gc/report';
import { StorageUsage, storageUsage } from '../../registry-image/src/quota/usage';
import { FsStore } from '../../registry-image/src/storage/fs-store';
import { startInProcess, testConfig, type InProcessRegistry } from '../helpers/in-process';
import {
  abandonUpload,
  contentBytesOnDisk,
  hasBlob,
  HttpError,
  manifestStatus,
  pullWhole,
  pushBlob,
  pushImage,
  pushIndex,
  pushReferrer,
  randomBlob,
  referrerDigests,
  sleep,
  uploadStatus,
  type Blob,
  type Pushed,
} from './registry-client';
import { tempDir } from '../helpers/temp-dir';

const GC_DELAY_MS = 1000;
/** The load runs until it has done this much (or MAX_LOAD_MS passed, and then the test fails). */
const ENOUGH = { pushes: 60, baitPushes: 10, collections: 6, garbage: 10 };
const MAX_LOAD_MS = 90_000;

const root = tempDir('perch-gc-load-');
const store = new FsStore(root);
const config = testConfig(root);
config.storage.gcDelayMs = GC_DELAY_MS;
config.perch.uploadTTLMs = GC_DELAY_MS;
const usage = storageUsage(store);
let registry: InProcessRegistry;
let base: string;

beforeAll(async () => {
  registry = await startInProcess(store, undefined, config);
  base = registry.url;
});
afterAll(() => registry.close());

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];
const size = () => 1000 + Math.floor(Math.random() * 8000);

/** A client error that the protocol allows: what was pushed went away before it was named, so push again. */
function isRetryable(err: unknown): boolean {
  return err instanceof HttpError && (err.code === 'MANIFEST_BLOB_UNKNOWN' || err.code === 'BLOB_UNKNOWN');
}

async function withRetries<T>(stats: { retries: number }, push: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await push();
    } catch (err) {
      if (!isRetryable(err) || attempt === 3) throw err;
      stats.retries++;
    }
  }
}

/** POST ?mount=&from=; on 202 (the source lost it) the session is dropped and the blob uploaded. */
async function mountOrPush(repository: string, from: string, blob: Blob): Promise<'mounted' | 'uploaded'> {
  const res = await fetch(`${base}/v2/${repository}/blobs/uploads/?mount=${blob.digest}&from=${from}`, { method: 'POST' });
  if (res.status === 201) return 'mounted';
  if (res.status !== 202) throw new Error(`mount ${blob.digest}: ${res.status} ${await res.text()}`);
  await fetch(new URL(res.headers.get('location')!, base), { method: 'DELETE' });
  await pushBlob(base, repository, blob);
  return 'uploaded';
}

describe('online GC under load', () => {
  const pushed: Pushed[] = [];
  const referrers: Array<{ subject: Pushed; referrer: Pushed }> = [];
  const garbage = { blobs: [] as Blob[], manifests: [] as Pushed[], uploads: [] as string[] };
  const reports: GcReport[] = [];
  const failures: string[] = [];
  const stats = { retries: 0, baitPushes: 0, mounts: 0, oldChildren: 0, pulls: 0 };

  it('removes garbage while pushes and pulls go on, and every acknowledged push pulls back whole', async () => {
    // Bait: blobs orphaned long enough to be garbage by the time the pushers reuse them.
    const bait: Blob[] = [];
    for (let i = 0; i < 12; i++) {
      const b = randomBlob(size());
      await pushBlob(base, 'load/bait', b);
      bait.push(b);
    }
    // Untagged children of every age: those no tagged index names yet are garbage after a grace.
    const children: Array<{ child: Pushed; pushedMs: number }> = [];
    await sleep(GC_DELAY_MS + 200);

    let stop = false;
    let seq = 0;
    const gcLoop = (async () => {
      while (!stop) {
        reports.push(await collectGarbage(store, gcOptionsFrom(config, { usage })));
        await sleep(10);
      }
    })();

    const pusher = async (id: number) => {
      while (!stop) {
        const n = seq++;
        const tag = `t${id}-${n}`;
        try {
          switch (n % 5) {
            case 0: // a fresh image
              pushed.push(await withRetries(stats, () => pushImage(base, `load/app${id}`, tag, [randomBlob(size()), randomBlob(size())])));
              break;
            case 1: // reuse an old orphan: HEAD says it is there, so only the manifest is pushed
              pushed.push(await withRetries(stats, () => pushImage(base, 'load/bait', tag, [pick(bait)])));
              stats.baitPushes++;
              break;
            case 2: {
              // mount an old orphan into another repository, then name it there
              const b = pick(bait);
              const image = await withRetries(stats, async () => {
                if ((await mountOrPush(`load/mount${id}`, 'load/bait', b)) === 'mounted') stats.mounts++;
                return pushImage(base, `load/mount${id}`, tag, [b]);
              });
              pushed.push(image);
              break;
            }
            case 3: {
              // a tagged index of an untagged child pushed now and one pushed earlier (maybe
              // old enough to be garbage, maybe already collected: then only the fresh one)
              const index = await withRetries(stats, async () => {
                const fresh = await pushImage(base, 'load/multi', undefined, [randomBlob(size())]);
                children.push({ child: fresh, pushedMs: Date.now() });
                const earlier = pick(children);
                const alive = earlier.child !== fresh && (await manifestStatus(base, 'load/multi', earlier.child.digest)) === 200;
                const result = await pushIndex(base, 'load/multi', tag, alive ? [fresh, earlier.child] : [fresh]);
                if (alive && Date.now() - earlier.pushedMs > GC_DELAY_MS) stats.oldChildren++;
                return result;
              });
              pushed.push(index);
              break;
            }
            case 4: {
              // a referrer (untagged) of a tagged image
              const subject = await withRetries(stats, () => pushImage(base, `load/app${id}`, tag, [randomBlob(size())]));
              pushed.push(subject);
              const referrer = await withRetries(stats, () => pushReferrer(base, `load/app${id}`, subject));
              referrers.push({ subject, referrer });
              break;
            }
          }
        } catch (err) {
          failures.push(`push ${tag}: ${(err as Error).message}`);
        }
      }
    };

    const puller = async () => {
      while (!stop) {
        if (pushed.length === 0) {
          await sleep(20);
          continue;
        }
        const p = pick(pushed);
        try {
          await pullWhole(base, p);
          stats.pulls++;
        } catch (err) {
          failures.push(`pull ${p.repository}:${p.reference}: ${(err as Error).message}`);
        }
      }
    };

    const garbageMaker = async () => {
      while (!stop) {
        const orphan = randomBlob(size());
        await pushBlob(base, `load/junk${garbage.blobs.length % 3}`, orphan);
        garbage.blobs.push(orphan);
        garbage.manifests.push(await pushImage(base, 'load/junk', undefined, [randomBlob(size())]));
        garbage.uploads.push(await abandonUpload(base, 'load/junk', size()));
        await sleep(150);
      }
    };

    const workers = [pusher(1), pusher(2), pusher(3), puller(), puller(), garbageMaker()];
    const started = Date.now();
    const enough = () =>
      pushed.length >= ENOUGH.pushes && stats.baitPushes >= ENOUGH.baitPushes && reports.length >= ENOUGH.collections && garbage.blobs.length >= ENOUGH.garbage;
    while (!enough() && Date.now() - started < MAX_LOAD_MS) await sleep(100);
    stop = true;
    await Promise.all(workers);
    await gcLoop;

    // Everything made during the load is old after one grace period; collect until quiet.
    await sleep(GC_DELAY_MS + 200);
    for (let i = 0; i < 5; i++) {
      const report = await collectGarbage(store, gcOptionsFrom(config, { usage }));
      reports.push(report);
      if (report.removals.length === 0) break;
    }

    expect(failures).toEqual([]);
    expect(reports.at(-1)!.removals).toEqual([]);
    console.log(
      `under load: ${pushed.length} acknowledged pushes (${stats.baitPushes} reusing old orphans, ${stats.mounts} mounts of them, ${stats.oldChildren} indexes naming old untagged children, ${stats.retries} retries), ${stats.pulls} whole pulls, ${reports.length} collections, ${reports.reduce((n, r) => n + r.kept, 0)} planned removals kept because a push came in between, ${reports.reduce((n, r) => n + r.bytesFreed, 0)} bytes freed`,
    );
    expect(enough()).toBe(true);

    // The garbage is gone: from the API and from the store.
    for (const b of garbage.blobs) expect(await store.statBlob(b.digest)).toBeNull();
    for (const m of garbage.manifests) {
      expect(await manifestStatus(base, 'load/junk', m.digest)).toBe(404);
      for (const b of m.blobs) expect(await store.statBlob(b.digest)).toBeNull();
    }
    for (const u of garbage.uploads) expect(await uploadStatus(base, u)).toBe(404);

    // Every 201 still pulls back whole; referrers of live subjects are still listed.
    for (const p of pushed) await pullWhole(base, p);
    for (const { subject, referrer } of referrers) {
      expect(await referrerDigests(base, subject.repository, subject.digest)).toContain(referrer.digest);
      await pullWhole(base, referrer);
    }
    // The bait that pushes named is still there; the bait nobody named is gone.
    for (const b of bait) {
      const named = pushed.some((p) => p.blobs.some((x) => x.digest === b.digest));
      expect(!!(await store.statBlob(b.digest))).toBe(named);
    }
    // The running totals agree with a fresh scan of the store.
    const fresh = new StorageUsage(store);
    await fresh.ready();
    expect(usage.snapshot()).toEqual(fresh.snapshot());
  }, 240_000);

  it('frees exactly the size of a known set of garbage on disk, while pulls go on', async () => {
    let stop = false;
    const pullFailures: string[] = [];
    const puller = (async () => {
      while (!stop) {
        const p = pick(pushed);
        await pullWhole(base, p).catch((err) => pullFailures.push(`${p.repository}:${p.reference}: ${(err as Error).message}`));
      }
    })();
    const orphans = [randomBlob(4000), randomBlob(5000), randomBlob(6000)];
    for (const [i, o] of orphans.entries()) await pushBlob(base, `exact/o${i}`, o);
    const untagged = [await pushImage(base, 'exact/img', undefined, [randomBlob(7000)]), await pushImage(base, 'exact/img', undefined, [randomBlob(8000), randomBlob(100)])];
    const uploads = [await abandonUpload(base, 'exact/img', 3000), await abandonUpload(base, 'exact/up', 2500)];
    const expectedBytes =
      orphans.reduce((n, b) => n + b.bytes.length, 0) + untagged.reduce((n, m) => n + m.body.length + m.blobs.reduce((k, b) => k + b.bytes.length, 0), 0) + 3000 + 2500;
    await sleep(GC_DELAY_MS + 200);

    const before = await contentBytesOnDisk(root);
    const report = await collectGarbage(store, gcOptionsFrom(config, { usage }));
    const after = await contentBytesOnDisk(root);
    stop = true;
    await puller;

    expect(pullFailures).toEqual([]);
    expect(report.bytesFreed).toBe(expectedBytes);
    expect(before - after).toBe(expectedBytes);
    expect(report).toMatchObject({ blobsRemoved: 3 + 2 + 2 + 3, manifestsRemoved: 2, uploadsPurged: 2, kept: 0 });
    for (const u of uploads) expect(await uploadStatus(base, u)).toBe(404);
    for (const [i, o] of orphans.entries()) expect(await hasBlob(base, `exact/o${i}`, o.digest)).toBe(false);
    for (let i = 0; i < 30; i++) await pullWhole(base, pick(pushed));
  }, 120_000);
});
