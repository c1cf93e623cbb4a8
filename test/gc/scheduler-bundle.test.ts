/**
 * storage.gc in the bundled server (`perch serve`, the file the image runs): with gcDelay 1s
 * and gcInterval 2s, garbage pushed over HTTP disappears on its own, the log says so, and the
 * tagged image pulls back whole.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { abandonUpload, blobStatus, contentBytesOnDisk, manifestStatus, pullWhole, pushBlob, pushImage, randomBlob, sleep, uploadStatus } from './registry-client';

let server: RunningRegistry | undefined;
afterAll(async () => {
  await server?.stop();
});

describe('storage.gc in perch serve', () => {
  it('collects every gcInterval while serving', async () => {
    server = await startRegistry({ config: { storage: { gc: true, gcDelay: '1s', gcInterval: '2s' }, perch: { uploadTTL: '1s' } } });
    const base = server.url;
    const kept = await pushImage(base, 'sched/app', 'v1', [randomBlob(3000)]);
    const untagged = await pushImage(base, 'sched/app', undefined, [randomBlob(5000)]);
    const orphan = randomBlob(7000);
    await pushBlob(base, 'sched/app', orphan);
    const upload = await abandonUpload(base, 'sched/app', 2000);
    const before = await contentBytesOnDisk(server.dataDir);
    const garbageBytes = orphan.bytes.length + untagged.body.length + untagged.blobs.reduce((n, b) => n + b.bytes.length, 0) + 2000;
    for (let i = 0; i < 60 && (await uploadStatus(base, upload)) !== 404; i++) await sleep(250);
    for (let i = 0; i < 20 && before - (await contentBytesOnDisk(server.dataDir)) < garbageBytes; i++) await sleep(250);
    expect(await uploadStatus(base, upload)).toBe(404);
    expect(await manifestStatus(base, 'sched/app', untagged.digest)).toBe(404);
    expect(await blobStatus(base, 'sched/app', orphan.digest)).toBe(404);
    expect(before - (await contentBytesOnDisk(server.dataDir))).toBe(garbageBytes);
    await pullWhole(base, kept);
    const finished = server.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === 'gc finished');
    expect(finished.reduce((n, l) => n + (l.bytesFreed as number), 0)).toBe(garbageBytes);
  });
});
