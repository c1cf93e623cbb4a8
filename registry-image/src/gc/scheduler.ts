/**
 * Periodic collection inside `perch serve`: every storage.gcInterval while storage.gc is true
 * (zot's keys and meaning). Runs never overlap (the next one is scheduled when one ends), the
 * timer does not keep the process alive, and stop() aborts a run between batches and waits
 * for it, so a shutdown is quick and leaves nothing half done (every removal is one call).
 *
 * start() also loads the usage totals (quota/usage.ts), GC or not, so the first push does not
 * pay for the scan; every run keeps them in step with what it removed.
 */
import type { PerchConfig } from '../config/types';
import type { Logger } from '../log';
import { storageUsage } from '../quota/usage';
import { isShared, type Store } from '../storage/types';
import { collectGarbage, gcOptionsFrom } from './collector';
import { withGcLease } from './lease';
import type { GcReport } from './report';

export interface GcScheduler {
  /** Loads the usage totals and starts the timer (no timer when storage.gc is false or gcInterval is 0). */
  start(): void;
  /** Stops the timer and waits for a run in progress, which stops at its next batch. */
  stop(): Promise<void>;
  /** Runs one collection now (after any run in progress); for tests and admin use. */
  runNow(): Promise<GcReport>;
  /** Reports of finished runs, newest last (at most 10). */
  readonly history: readonly GcReport[];
}

export function createGcScheduler(store: Store, config: PerchConfig, log: Logger): GcScheduler {
  const { gc, gcIntervalMs } = config.storage;
  const usage = storageUsage(store);
  const history: GcReport[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<GcReport> | undefined;
  let abort = new AbortController();
  let stopped = true;

  async function runOnce(): Promise<GcReport> {
    const collect = (signal: AbortSignal) => collectGarbage(store, gcOptionsFrom(config, { usage, log, signal }));
    // Replicas on one object store: one collects at a time, the others skip their turn.
    const report = isShared(store) ? await withGcLease(store, abort.signal, log, collect) : await collect(abort.signal);
    if (report.skippedFor) return report;
    history.push(report);
    if (history.length > 10) history.shift();
    log.info('gc finished', {
      blobsRemoved: report.blobsRemoved,
      bytesFreed: report.bytesFreed,
      manifestsRemoved: report.manifestsRemoved,
      tagsRemoved: report.tagsRemoved,
      linksRemoved: report.linksRemoved,
      uploadsPurged: report.uploadsPurged,
      kept: report.kept,
      duration_ms: report.durationMs,
    });
    return report;
  }

  function run(): Promise<GcReport> {
    const previous = running ?? Promise.resolve(undefined);
    const next: Promise<GcReport> = previous.catch(() => undefined).then(runOnce);
    running = next;
    next.finally(() => {
      if (running === next) running = undefined;
    }).catch(() => {});
    return next;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      run()
        .catch((err) => {
          if (!abort.signal.aborted) log.error('gc failed', { error: String((err as Error)?.stack ?? err) });
        })
        .finally(schedule);
    }, gcIntervalMs);
    timer.unref();
  }

  return {
    history,
    start() {
      if (!stopped) return;
      // The quota totals are needed with or without GC: load them now, not at the first push.
      usage.ready().catch((err) => log.error('storage usage scan failed', { error: String(err) }));
      if (!gc || gcIntervalMs <= 0) {
        log.info('gc off', { reason: gc ? 'storage.gcInterval is 0' : 'storage.gc is false' });
        return;
      }
      stopped = false;
      abort = new AbortController();
      log.info('gc on', { intervalMs: gcIntervalMs, delayMs: config.storage.gcDelayMs, uploadTTLMs: config.perch.uploadTTLMs });
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      abort.abort();
      await running?.catch(() => {});
    },
    runNow: run,
  };
}

/** The scheduler, started: what `perch serve` calls after the registry listens. */
export function startGcScheduler(store: Store, config: PerchConfig, log: Logger): GcScheduler {
  const scheduler = createGcScheduler(store, config, log);
  scheduler.start();
  return scheduler;
}
