/** The periodic collection `perch serve` starts (gc/scheduler.ts). */
import { describe, expect, it } from 'vitest';
import { createGcScheduler, startGcScheduler } from '../../registry-image/src/gc/scheduler';
import { createLogger } from '../../registry-image/src/log';
import { MemoryStore } from '../../registry-image/src/storage/memory-store';
import { startInProcess, testConfig } from '../helpers/in-process';
import { blobStatus, pushBlob, randomBlob, sleep } from './registry-client';

function recordingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  return { log: createLogger('info', (line) => lines.push(JSON.parse(line))), lines };
}

describe('GC scheduler', () => {
  it('collects every storage.gcInterval while storage.gc is true, and stops', async () => {
    const store = new MemoryStore();
    const config = testConfig();
    config.storage.gc = true;
    config.storage.gcIntervalMs = 100;
    config.storage.gcDelayMs = 100;
    const registry = await startInProcess(store, undefined, config);
    const { log, lines } = recordingLogger();
    const scheduler = startGcScheduler(store, config, log);
    try {
      const orphan = randomBlob(321);
      await pushBlob(registry.url, 'sched', orphan);
      for (let i = 0; i < 50 && (await store.statBlob(orphan.digest)); i++) await sleep(50);
      expect(await store.statBlob(orphan.digest)).toBeNull();
      expect(await blobStatus(registry.url, 'sched', orphan.digest)).toBe(404);
      expect(scheduler.history.some((r) => r.blobsRemoved === 1 && r.bytesFreed === 321)).toBe(true);
      expect(lines.find((l) => l.message === 'gc on')).toMatchObject({ intervalMs: 100, delayMs: 100 });
      expect(lines.some((l) => l.message === 'gc finished' && l.blobsRemoved === 1)).toBe(true);
    } finally {
      await scheduler.stop();
      await registry.close();
    }
    const runs = scheduler.history.length;
    await sleep(300);
    expect(scheduler.history.length).toBe(runs);
  });

  it('does not run with storage.gc false or gcInterval 0, and says why', async () => {
    for (const [gc, interval, reason] of [
      [false, 100, 'storage.gc is false'],
      [true, 0, 'storage.gcInterval is 0'],
    ] as const) {
      const config = testConfig();
      config.storage.gc = gc;
      config.storage.gcIntervalMs = interval;
      const { log, lines } = recordingLogger();
      const scheduler = createGcScheduler(new MemoryStore(), config, log);
      scheduler.start();
      await sleep(250);
      expect(scheduler.history).toHaveLength(0);
      expect(lines).toEqual([expect.objectContaining({ message: 'gc off', reason })]);
      await scheduler.stop();
    }
  });

  it('runNow collects at once, after any run in progress', async () => {
    const store = new MemoryStore();
    const config = testConfig();
    config.storage.gcDelayMs = 0;
    const registry = await startInProcess(store, undefined, config);
    await pushBlob(registry.url, 'now', randomBlob(10));
    await sleep(10); // older than gcDelay 0 by a clock tick
    const scheduler = createGcScheduler(store, config, createLogger('error', () => {}));
    const [first, second] = await Promise.all([scheduler.runNow(), scheduler.runNow()]);
    expect(first.blobsRemoved + second.blobsRemoved).toBe(1);
    expect(second.startedMs).toBeGreaterThanOrEqual(first.startedMs + first.durationMs);
    await registry.close();
  });
});
