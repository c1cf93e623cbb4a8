/**
 * Garbage collection on a store several replicas share: a run first takes the store's lease
 * (storage/object/bucket-lease.ts), renews it while it works, and stops between batches when
 * the lease is lost (a renewal that failed: another replica may be collecting by then). A
 * replica that finds the lease held skips its turn; one that died holding it is replaced once
 * the lease expires. The grace rules (gc/collector.ts) protect the other replicas' pushes as
 * they protect a `perch gc` beside a server: docs/storage.md.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log';
import type { SharedStore } from '../storage/types';
import { emptyReport, type GcReport } from './report';

/** How long a lease lasts without renewal; a holder renews at a third of it. */
export const GC_LEASE_MS = 60_000;

/** This process, as lease holders are named: host (the pod's name in Kubernetes), pid, a nonce. */
const HOLDER = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;

export async function withGcLease(store: SharedStore, stop: AbortSignal, log: Logger, collect: (signal: AbortSignal) => Promise<GcReport>, ttlMs = GC_LEASE_MS): Promise<GcReport> {
  const lease = store.gcLease(HOLDER, ttlMs);
  if (!(await lease.acquire())) {
    const holder = (await lease.current())?.holder ?? 'another replica';
    log.debug('gc skipped', { reason: `the GC lease is held by ${holder}` });
    return { ...emptyReport(false, Date.now()), skippedFor: holder };
  }
  const lost = new AbortController();
  const renewal = setInterval(() => {
    lease
      .renew()
      .then((kept) => {
        if (!kept) lost.abort(new Error('the GC lease was lost (not renewed in time); another replica may be collecting'));
      })
      .catch((err) => lost.abort(err));
  }, ttlMs / 3);
  renewal.unref();
  try {
    return await collect(AbortSignal.any([stop, lost.signal]));
  } finally {
    clearInterval(renewal);
    await lease.release().catch((err) => log.warn('gc lease release failed', { error: String(err) }));
  }
}
