/**
 * The collector against both backends, with content pushed over HTTP the way clients push it:
 * what it removes, what it must never remove, dry run against real run, and the race it is
 * built for (a push that mentions an old blob while a collection is under way), made to
 * happen at a chosen moment by a store wrapper that runs a push from inside the collector.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PerchConfig, RetentionPolicy } from '../../registry-image/src/config/types';
import { collectGarbage, gcOptionsFrom } from '../../registry-image/src/gc/collector';
import { referenceGuard } from '../../registry-image/src/gc/guard';
import type { GcRemoval } from '../../registry-image/src/gc/report';
import { StorageUsage, storageUsage } from '../../registry-image/src/quota/usage';
import { FsStore } from '../../registry-image/src/storage/fs-store';
import { MemoryStore } from '../../registry-image/src/storage/memory-store';
import type { Store } from '../../registry-image/src/storage/types';
import { startInProcess, testConfig, type InProcessRegistry } from '../helpers/in-process';
import { sha256 } from '../helpers/oci-client';
import {
  abandonUpload,
  blobStatus,
  hasBlob,
  imageManifest,
  OCI_MANIFEST,
  putManifest,
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
} from './registry-client';
import { tempDir } from '../helpers/temp-dir';

const GRACE_MS = 150;

function gcConfig(root: string, policies?: RetentionPolicy[]): PerchConfig {
  const config = testConfig(root);
  config.storage.gcDelayMs = GRACE_MS;
  config.perch.uploadTTLMs = GRACE_MS;
  if (policies) config.storage.retention = { dryRun: false, policies };
  return config;
}

const backends: Array<[string, () => Store]> = [
  ['MemoryStore', () => new MemoryStore()],
  ['FsStore', () => new FsStore(tempDir('perch-gc-'))],
];

let registry: InProcessRegistry | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

async function serve(store: Store, config: PerchConfig): Promise<string> {
  registry = await startInProcess(store, undefined, config);
  return registry.url;
}

const kinds = (removals: GcRemoval[], kind: GcRemoval['kind']) => removals.filter((r) => r.kind === kind);

describe.each(backends)('%s', (_name, makeStore) => {
  it('removes an orphan blob, an untagged image with its blobs and links, and an abandoned upload; keeps tagged images, a tagged index with its children, and referrers', async () => {
    const store = makeStore();
    const config = gcConfig('/unused');
    const base = await serve(store, config);

    const tagged = await pushImage(base, 'team/app', 'v1', [randomBlob(1000)]);
    const child1 = await pushImage(base, 'team/app', undefined, [randomBlob(500)]);
    const child2 = await pushImage(base, 'team/app', undefined, [randomBlob(600)]);
    const index = await pushIndex(base, 'team/app', 'multi', [child1, child2]);
    const signature = await pushReferrer(base, 'team/app', tagged);
    const untagged = await pushImage(base, 'team/app', undefined, [randomBlob(700)]);
    const orphan = randomBlob(800);
    await pushBlob(base, 'team/app', orphan);
    const upload = await abandonUpload(base, 'team/other', 300);

    await sleep(GRACE_MS * 2);
    const report = await collectGarbage(store, gcOptionsFrom(config));

    // The untagged image: its manifest, then its config, layer and manifest blobs and links.
    expect(kinds(report.removals, 'manifest')).toEqual([{ kind: 'manifest', repository: 'team/app', digest: untagged.digest, reason: 'untagged' }]);
    const garbage = [orphan, ...untagged.blobs, { digest: untagged.digest, bytes: untagged.body }];
    expect(kinds(report.removals, 'blob').map((r) => r.kind === 'blob' && r.digest).sort()).toEqual(garbage.map((b) => b.digest).sort());
    expect(kinds(report.removals, 'link').map((r) => r.kind === 'link' && r.digest).sort()).toEqual([orphan, ...untagged.blobs].map((b) => b.digest).sort());
    expect(report).toMatchObject({ manifestsRemoved: 1, blobsRemoved: 4, linksRemoved: 3, uploadsPurged: 1, tagsRemoved: 0, kept: 0 });
    expect(report.bytesFreed).toBe(garbage.reduce((n, b) => n + b.bytes.length, 0) + 300);

    expect(await manifestStatus(base, 'team/app', untagged.digest)).toBe(404);
    expect(await blobStatus(base, 'team/app', orphan.digest)).toBe(404);
    expect(await store.statBlob(orphan.digest)).toBeNull();
    expect(await uploadStatus(base, upload)).toBe(404);
    for (const live of [tagged, index, signature]) await pullWhole(base, live);
    expect(await referrerDigests(base, 'team/app', tagged.digest)).toEqual([signature.digest]);

    const again = await collectGarbage(store, gcOptionsFrom(config));
    expect(again.removals).toEqual([]);
  });

  it('a repository whose last image was deleted and collected drops out of _catalog', async () => {
    const store = makeStore();
    const config = gcConfig('/unused');
    const base = await serve(store, config);
    const gone = await pushImage(base, 'team/gone', 'v1', [randomBlob(100)]);
    await pushImage(base, 'team/kept', 'v1', [randomBlob(100)]);
    const catalog = async () => ((await (await fetch(`${base}/v2/_catalog`)).json()) as { repositories: string[] }).repositories;
    expect(await catalog()).toEqual(['team/gone', 'team/kept']);
    expect((await fetch(`${base}/v2/team/gone/manifests/${gone.digest}`, { method: 'DELETE' })).status).toBe(202);
    await sleep(GRACE_MS * 2);
    const report = await collectGarbage(store, gcOptionsFrom(config));
    expect(report.removals.flatMap((r) => (r.kind === 'link' ? [r.repository] : []))).toEqual(['team/gone', 'team/gone']);
    expect(await catalog()).toEqual(['team/kept']);
    expect((await fetch(`${base}/v2/team/gone/tags/list`)).status).toBe(404);
  });

  it('keeps everything younger than its grace period', async () => {
    const store = makeStore();
    const config = gcConfig('/unused');
    config.storage.gcDelayMs = 60_000;
    config.perch.uploadTTLMs = 60_000;
    const base = await serve(store, config);
    await pushImage(base, 'young', undefined, [randomBlob(100)]);
    await pushBlob(base, 'young', randomBlob(100));
    await abandonUpload(base, 'young', 100);
    const report = await collectGarbage(store, gcOptionsFrom(config));
    expect(report.removals).toEqual([]);
  });

  it('a dry run reports exactly what the real run then removes, and removes nothing itself', async () => {
    const store = makeStore();
    const config = gcConfig('/unused', [{ repositories: ['**'], deleteUntagged: true, deleteReferrers: true, keepTags: [{ patterns: ['^v'] }] }]);
    const base = await serve(store, config);
    await pushImage(base, 'dry/run', 'v1', [randomBlob(100)]);
    await pushImage(base, 'dry/run', 'latest', [randomBlob(100)]);
    const subject = await pushImage(base, 'dry/run', undefined, [randomBlob(100)]);
    await pushReferrer(base, 'dry/run', subject);
    await pushBlob(base, 'dry/run', randomBlob(100));
    await abandonUpload(base, 'dry/run', 50);
    await sleep(GRACE_MS * 2);

    const dry = await collectGarbage(store, gcOptionsFrom(config, { dryRun: true }));
    expect(dry.dryRun).toBe(true);
    const dryAgain = await collectGarbage(store, gcOptionsFrom(config, { dryRun: true }));
    expect(dryAgain.removals).toEqual(dry.removals);
    const real = await collectGarbage(store, gcOptionsFrom(config));
    expect(real.removals).toEqual(dry.removals);
    expect(real.bytesFreed).toBe(dry.bytesFreed);
    expect(real).toMatchObject({ tagsRemoved: 1, manifestsRemoved: 3, uploadsPurged: 1, kept: 0 });
  });

  it('deleteReferrers removes a referrer once its subject is gone, round after round', async () => {
    const store = makeStore();
    const config = gcConfig('/unused', [{ repositories: ['sig/**'], deleteUntagged: true, deleteReferrers: true, keepTags: [] }]);
    const base = await serve(store, config);
    const subject = await pushImage(base, 'sig/one', undefined, [randomBlob(100)]);
    const referrer = await pushReferrer(base, 'sig/one', subject);
    const kept = await pushImage(base, 'sig/one', 'stays', [randomBlob(100)]);
    const keptReferrer = await pushReferrer(base, 'sig/one', kept);
    // An untagged index goes first, then its children, which only it protected.
    const c1 = await pushImage(base, 'sig/one', undefined, [randomBlob(100)]);
    const untaggedIndex = await pushIndex(base, 'sig/one', undefined, [c1]);
    await sleep(GRACE_MS * 2);
    const report = await collectGarbage(store, gcOptionsFrom(config));
    const manifests = kinds(report.removals, 'manifest').map((r) => r.kind === 'manifest' && `${r.digest} ${r.reason}`);
    expect(new Set(manifests.slice(0, 2))).toEqual(new Set([`${subject.digest} untagged`, `${untaggedIndex.digest} untagged`]));
    expect(new Set(manifests.slice(2))).toEqual(new Set([`${referrer.digest} referrer without subject`, `${c1.digest} untagged`]));
    await pullWhole(base, kept);
    await pullWhole(base, keptReferrer);
  });

  it('without deleteReferrers a referrer outlives its subject, as in zot', async () => {
    const store = makeStore();
    const config = gcConfig('/unused');
    const base = await serve(store, config);
    const subject = await pushImage(base, 'nosig', undefined, [randomBlob(100)]);
    const referrer = await pushReferrer(base, 'nosig', subject);
    await sleep(GRACE_MS * 2);
    const report = await collectGarbage(store, gcOptionsFrom(config));
    expect(kinds(report.removals, 'manifest').map((r) => r.kind === 'manifest' && r.digest)).toEqual([subject.digest]);
    await pullWhole(base, referrer);
  });

  it('storage.retention.dryRun removes no manifest or tag (blob GC still runs)', async () => {
    const store = makeStore();
    const config = gcConfig('/unused', [{ repositories: ['**'], deleteUntagged: true, deleteReferrers: false, keepTags: [{ patterns: ['^v'] }] }]);
    config.storage.retention!.dryRun = true;
    const base = await serve(store, config);
    const untagged = await pushImage(base, 'rdry', undefined, [randomBlob(100)]);
    const latest = await pushImage(base, 'rdry', 'latest', [randomBlob(100)]);
    await pushBlob(base, 'rdry', randomBlob(100));
    await sleep(GRACE_MS * 2);
    const report = await collectGarbage(store, gcOptionsFrom(config));
    expect(report).toMatchObject({ manifestsRemoved: 0, tagsRemoved: 0, blobsRemoved: 1 });
    await pullWhole(base, untagged);
    await pullWhole(base, latest);
  });

  it('a push that names an old orphan blob while the collector plans keeps it, and pulls back whole', async () => {
    const inner = makeStore();
    const config = gcConfig('/unused');
    const base = await serve(inner, config);
    const old = randomBlob(900);
    await pushBlob(base, 'race/a', old);
    await sleep(GRACE_MS * 2);
    // After the inventory has called `old` garbage and before the sweep: HEAD says it is
    // there, so the client skips the upload and PUTs a manifest naming it (201).
    let late: Awaited<ReturnType<typeof pushImage>> | undefined;
    const store = wrap(inner, {
      async *listUploads() {
        late = await pushImage(base, 'race/a', 'late', [old]);
        yield* inner.listUploads();
      },
    });
    const report = await collectGarbage(store, gcOptionsFrom(config, { guard: referenceGuard(inner) }));
    expect(late).toBeDefined();
    expect(report.removals).toEqual([]);
    expect(report.kept).toBe(2); // the link and the blob, found young when re-checked
    await pullWhole(base, late!);
  });

  it('a HEAD between the collector\'s check and its unlink makes it put the link back', async () => {
    const inner = makeStore();
    const config = gcConfig('/unused');
    const base = await serve(inner, config);
    const old = randomBlob(400);
    await pushBlob(base, 'race/b', old);
    await sleep(GRACE_MS * 2);
    const config0 = randomBlob(50);
    await pushBlob(base, 'race/b', config0); // young: not garbage
    const body = imageManifest(config0, [old]);
    let put: Promise<string> | undefined;
    const store = wrap(inner, {
      async unlinkBlob(repository: string, digest: string) {
        if (digest === old.digest && !put) {
          // Inside the collector's batch, after its "old" check: the client HEADs (refreshing
          // the blob), then PUTs a manifest, which waits for the batch to end.
          expect(await hasBlob(base, 'race/b', old.digest)).toBe(true);
          put = putManifest(base, 'race/b', 'late', body, OCI_MANIFEST);
          await sleep(50);
        }
        return inner.unlinkBlob(repository, digest);
      },
    });
    const report = await collectGarbage(store, gcOptionsFrom(config, { guard: referenceGuard(inner) }));
    expect(put).toBeDefined();
    expect(report.removals).toEqual([]);
    expect(report.kept).toBe(2); // the link (put back) and the blob
    await put;
    await pullWhole(base, { repository: 'race/b', reference: 'late', digest: sha256(body), body, mediaType: OCI_MANIFEST, blobs: [] });
  });

  it('keeps the usage totals in step with what it removes', async () => {
    const store = makeStore();
    const config = gcConfig('/unused');
    const base = await serve(store, config);
    await pushImage(base, 'usage/a', 'v1', [randomBlob(300)]);
    await pushImage(base, 'usage/a', undefined, [randomBlob(300)]);
    await pushBlob(base, 'usage/b', randomBlob(200));
    const usage = storageUsage(store);
    await usage.ready();
    await sleep(GRACE_MS * 2);
    const report = await collectGarbage(store, gcOptionsFrom(config, { usage }));
    expect(report.blobsRemoved).toBe(4);
    const fresh = new StorageUsage(store);
    await fresh.ready();
    expect(usage.snapshot()).toEqual(fresh.snapshot());
    expect(usage.snapshot().repositories.map((r) => r.name)).toEqual(['usage/a']);
  });
});

/** A store that runs `overrides` instead of the wrapped store's methods of the same name. */
function wrap(inner: Store, overrides: Partial<Record<keyof Store, unknown>>): Store {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop in overrides) return overrides[prop as keyof Store];
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
