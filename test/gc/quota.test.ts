/**
 * Quotas over HTTP: storage.maxRepos refused with 429 TOOMANYREQUESTS (as zot), byte quotas
 * per repository and overall refused with 403 DENIED and a message naming the quota and its
 * size, checked at upload start (POST) and finish (PUT); deletes and GC give room back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PerchConfig } from '../../registry-image/src/config/types';
import { collectGarbage, gcOptionsFrom } from '../../registry-image/src/gc/collector';
import { storageUsage, usageSnapshot } from '../../registry-image/src/quota/usage';
import { FsStore } from '../../registry-image/src/storage/fs-store';
import { MemoryStore } from '../../registry-image/src/storage/memory-store';
import type { Store } from '../../registry-image/src/storage/types';
import { startInProcess, testConfig, type InProcessRegistry } from '../helpers/in-process';
import { blobOf, HttpError, pushBlob, pushBlobChunked, pushImage, randomBlob, sleep } from './registry-client';
import { tempDir } from '../helpers/temp-dir';

let registry: InProcessRegistry | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

async function serve(store: Store, quota: { maxRepos?: number; repositoryBytes?: number; totalBytes?: number }): Promise<{ base: string; config: PerchConfig }> {
  const config = testConfig('/unused');
  config.storage.maxRepos = quota.maxRepos ?? 0;
  config.perch.quota = { repositoryBytes: quota.repositoryBytes ?? 0, totalBytes: quota.totalBytes ?? 0 };
  registry = await startInProcess(store, undefined, config);
  return { base: registry.url, config };
}

async function refusal(push: Promise<unknown>): Promise<{ status: number; code?: string; message: string }> {
  try {
    await push;
  } catch (err) {
    if (err instanceof HttpError) {
      const body = JSON.parse(err.message.slice(err.message.indexOf('{'))) as { errors: Array<{ code: string; message: string }> };
      return { status: err.status, code: body.errors[0].code, message: body.errors[0].message };
    }
    throw err;
  }
  throw new Error('the push was accepted');
}

describe.each([
  ['MemoryStore', () => new MemoryStore()],
  ['FsStore', () => new FsStore(tempDir('perch-quota-'))],
] as Array<[string, () => Store]>)('%s', (_name, makeStore) => {
  it('storage.maxRepos: a push that would create one repository too many is 429 TOOMANYREQUESTS', async () => {
    const { base } = await serve(makeStore(), { maxRepos: 2 });
    await pushBlob(base, 'one', randomBlob(10));
    await pushBlob(base, 'two', randomBlob(10));
    const refused = await refusal(pushBlob(base, 'three', randomBlob(10)));
    expect(refused).toEqual({
      status: 429,
      code: 'TOOMANYREQUESTS',
      message: 'repository three cannot be created: the registry holds 2 repositories and storage.maxRepos is 2; push to an existing repository, delete one, or raise storage.maxRepos',
    });
    // The chunked flow is refused at its POST, a mount into a new repository too.
    expect((await refusal(pushBlobChunked(base, 'three', randomBlob(10)))).status).toBe(429);
    const shared = randomBlob(10);
    await pushBlob(base, 'one', shared);
    const mount = await fetch(`${base}/v2/three/blobs/uploads/?mount=${shared.digest}&from=one`, { method: 'POST' });
    expect(mount.status).toBe(429);
    // Existing repositories take more.
    await pushBlob(base, 'two', randomBlob(10));
    await pushImage(base, 'one', 'v1', [randomBlob(10)]);
  });

  it('a repository whose content is deleted stops counting toward maxRepos', async () => {
    const { base } = await serve(makeStore(), { maxRepos: 1 });
    const blob = randomBlob(10);
    await pushBlob(base, 'first', blob);
    expect((await refusal(pushBlob(base, 'second', randomBlob(10)))).status).toBe(429);
    expect((await fetch(`${base}/v2/first/blobs/${blob.digest}`, { method: 'DELETE' })).status).toBe(202);
    await pushBlob(base, 'second', randomBlob(10));
  });

  it('perch.quota.repositoryBytes: 403 DENIED naming the quota, at POST when the length is declared and at PUT otherwise', async () => {
    const store = makeStore();
    const { base } = await serve(store, { repositoryBytes: 1000 });
    await pushBlob(base, 'team/app', randomBlob(600));
    // Monolithic: refused at the POST, from its Content-Length.
    const monolithic = await refusal(pushBlob(base, 'team/app', randomBlob(500)));
    expect(monolithic).toEqual({
      status: 403,
      code: 'DENIED',
      message:
        'repository quota exceeded: team/app holds 600 bytes and this upload adds 500 bytes, over perch.quota.repositoryBytes of 1000 bytes; delete tags or manifests it no longer needs (garbage collection then frees their blobs) or raise perch.quota.repositoryBytes',
    });
    // Chunked: the POST cannot know the size, the PUT refuses it and cancels the session.
    const start = await fetch(`${base}/v2/team/app/blobs/uploads/`, { method: 'POST' });
    expect(start.status).toBe(202);
    const big = randomBlob(1024 + 500);
    const location = new URL(start.headers.get('location')!, base);
    expect((await fetch(location, { method: 'PATCH', body: big.bytes })).status).toBe(202);
    location.searchParams.set('digest', big.digest);
    const put = await fetch(location, { method: 'PUT' });
    expect(put.status).toBe(403);
    const body = (await put.json()) as { errors: Array<{ code: string; message: string }> };
    expect(body.errors[0].code).toBe('DENIED');
    expect(body.errors[0].message).toContain('this blob adds 1524 bytes (1.5 KiB), over perch.quota.repositoryBytes of 1000 bytes');
    expect((await fetch(location)).status).toBe(404); // the session is gone
    // Other repositories have their own quota; the same repository still takes what fits.
    await pushBlob(base, 'team/other', randomBlob(900));
    await pushBlob(base, 'team/app', randomBlob(400));
    // Full: even an upload of unknown size is refused at its POST.
    const full = await fetch(`${base}/v2/team/app/blobs/uploads/`, { method: 'POST' });
    expect(full.status).toBe(403);
    expect(((await full.json()) as { errors: Array<{ message: string }> }).errors[0].message).toBe(
      'repository quota exceeded: team/app holds 1000 bytes, over perch.quota.repositoryBytes of 1000 bytes; delete tags or manifests it no longer needs (garbage collection then frees their blobs) or raise perch.quota.repositoryBytes',
    );
    expect((await usageSnapshot(store)).repositories).toEqual([
      { name: 'team/app', bytes: 1000, items: 2 },
      { name: 'team/other', bytes: 900, items: 1 },
    ]);
  });

  it('perch.quota.totalBytes counts deduplicated content once, and GC gives room back', async () => {
    const store = makeStore();
    const { base, config } = await serve(store, { totalBytes: 2000 });
    const shared = randomBlob(1200);
    await pushBlob(base, 'a', shared);
    await pushBlob(base, 'b', shared); // already stored: adds nothing to the total
    const refused = await refusal(pushBlob(base, 'c', randomBlob(1000)));
    expect(refused.status).toBe(403);
    expect(refused.message).toBe(
      'registry quota exceeded: the registry stores 1200 bytes (1.2 KiB) and this upload adds 1000 bytes, over perch.quota.totalBytes of 2000 bytes (2 KiB); delete content no longer needed (garbage collection then frees it) or raise perch.quota.totalBytes',
    );
    expect((await usageSnapshot(store)).totalBytes).toBe(1200);
    // Unreferenced and old: GC removes it from both repositories, and the push fits.
    config.storage.gcDelayMs = 50;
    await sleep(120);
    const report = await collectGarbage(store, gcOptionsFrom(config, { usage: storageUsage(store) }));
    expect(report.bytesFreed).toBe(1200);
    expect((await usageSnapshot(store)).totalBytes).toBe(0);
    await pushBlob(base, 'c', randomBlob(1000));
  });

  it('concurrent finishes cannot together pass a quota each fits alone', async () => {
    const { base } = await serve(makeStore(), { repositoryBytes: 1000 });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => pushBlobChunked(base, 'race', randomBlob(300))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as HttpError).status).toBe(403);
  });

  it('a manifest counts toward the repository quota too', async () => {
    const { base } = await serve(makeStore(), { repositoryBytes: 700 });
    const layer = blobOf(Buffer.alloc(500, 1));
    const refused = await refusal(pushImage(base, 'img', 'v1', [layer]));
    // config (~100 bytes) and the layer fit; the manifest (~400 bytes) does not.
    expect(refused.status).toBe(403);
    expect(refused.message).toMatch(/^repository quota exceeded: img holds \d+ bytes and this manifest adds \d+ bytes, over perch\.quota\.repositoryBytes of 700 bytes;/);
  });
});
