/**
 * A lease several replicas agree on, kept as one object in the bucket and changed only with
 * conditional writes (create-if-absent, replace-if-unchanged): garbage collection takes it so
 * that one replica collects at a time. A holder renews it while it works; one that dies
 * holding it is replaced once the lease has expired (its `expiresMs` has passed on the
 * taker's clock: replicas' clocks must agree to well within the lease time, as NTP gives).
 */
import type { Lease } from '../types';
import type { Bucket } from './bucket';

interface LeaseRecord {
  holder: string;
  expiresMs: number;
}

export function bucketLease(bucket: Bucket, key: string, holder: string, ttlMs: number): Lease {
  /** The etag of the version this holder last wrote; null when it does not hold the lease. */
  let held: string | null = null;

  const body = () => Buffer.from(JSON.stringify({ holder, expiresMs: Date.now() + ttlMs } satisfies LeaseRecord));

  return {
    holder,
    async acquire() {
      const current = await bucket.read(key);
      if (!current) {
        held = await bucket.write(key, body(), { ifNoneMatch: true });
        return held !== null;
      }
      const record = JSON.parse(current.body.toString()) as LeaseRecord;
      const mine = record.holder === holder && held === current.info.etag;
      if (!mine && record.expiresMs > Date.now()) return false;
      // Ours to renew, or expired: replace exactly the version read, so two takers cannot both win.
      held = await bucket.write(key, body(), { ifMatch: current.info.etag });
      return held !== null;
    },
    async renew() {
      if (held === null) return false;
      held = await bucket.write(key, body(), { ifMatch: held });
      return held !== null;
    },
    async release() {
      if (held === null) return;
      // Expire it rather than delete it: a delete is not conditional everywhere, and an
      // expired record is as good as none to the next taker.
      await bucket.write(key, Buffer.from(JSON.stringify({ holder, expiresMs: 0 } satisfies LeaseRecord)), { ifMatch: held });
      held = null;
    },
    async current() {
      const got = await bucket.read(key);
      if (!got) return null;
      const record = JSON.parse(got.body.toString()) as LeaseRecord;
      return record.expiresMs > Date.now() ? record : null;
    },
  };
}
