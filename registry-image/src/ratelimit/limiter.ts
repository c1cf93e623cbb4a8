/**
 * `http.ratelimit`, as zot reads it: `rate` requests per second, and `methods: [{method, rate}]`
 * for one HTTP method each. zot applies each limit through tollbooth, which keeps one bucket
 * per client address; perch does the same, so one busy client cannot starve the others. A
 * request must fit every limit that applies to it (the overall one and its method's).
 *
 * The client address is the TCP peer. Forwarded-for headers are not trusted: any client
 * could send one and pick its own bucket. Behind a proxy or a Service that rewrites source
 * addresses every client shares the proxy's bucket (docs/operations.md says so).
 *
 * The health probes are never limited: a kubelet that gets 429 from /livez restarts the pod.
 * A refusal is 429 TOOMANYREQUESTS (distribution spec error code) with Retry-After in
 * seconds, the time until the bucket holds a token again.
 */
import type { IncomingMessage } from 'node:http';
import type { PerchConfig } from '../config/types';
import { RegistryError } from '../http/errors';
import type { RequestLimiter } from '../http/hooks';
import { TokenBucket } from './token-bucket';

/** Routes never limited (the names in http/routes.ts). */
export const UNLIMITED_ROUTES: ReadonlySet<string> = new Set(['livez', 'readyz', 'startupz']);

/** Buckets are forgotten once full again; a sweep runs when the map grows past this. */
const SWEEP_AT = 4096;

export type RateLimitConfig = NonNullable<PerchConfig['http']['ratelimit']>;

interface Limit {
  /** Which requests it counts: one method, or all of them. */
  method?: string;
  rate: number;
}

export interface RateLimiterOptions {
  now?: () => number;
}

export class RateLimiter implements RequestLimiter {
  private readonly limits: Limit[];
  private readonly buckets = new Map<string, TokenBucket>();
  private sweepAt = SWEEP_AT;
  private readonly now: () => number;

  constructor(config: RateLimitConfig, options: RateLimiterOptions = {}) {
    this.now = options.now ?? Date.now;
    this.limits = [...(config.rate !== undefined ? [{ rate: config.rate }] : []), ...config.methods.map((m) => ({ method: m.method, rate: m.rate }))];
  }

  admit(req: IncomingMessage, route: string): void {
    if (UNLIMITED_ROUTES.has(route)) return;
    const method = req.method ?? '';
    const client = req.socket?.remoteAddress ?? 'unknown';
    const now = this.now();
    for (const limit of this.limits) {
      if (limit.method !== undefined && limit.method !== method) continue;
      const key = `${limit.method ?? '*'} ${client}`;
      let bucket = this.buckets.get(key);
      if (!bucket) {
        // A second's worth of burst, as tollbooth sets it (burst = max(1, rate)).
        bucket = new TokenBucket(limit.rate, Math.max(1, limit.rate), now);
        this.buckets.set(key, bucket);
      }
      const waitMs = bucket.take(now);
      if (waitMs > 0) {
        const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
        const which = limit.method === undefined ? `http.ratelimit.rate (${limit.rate} per second)` : `the ${limit.method} limit in http.ratelimit.methods (${limit.rate} per second)`;
        throw new RegistryError('TOO_MANY_REQUESTS', `too many requests from this client: over ${which}; retry after ${retryAfter}s`, undefined, {
          'Retry-After': String(retryAfter),
        });
      }
    }
    if (this.buckets.size >= this.sweepAt) this.sweep(now);
  }

  /** How many clients are remembered (for tests: idle clients must not pile up). */
  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(key);
    // Still crowded (many clients active within a second): sweep again only after it doubles.
    this.sweepAt = Math.max(SWEEP_AT, this.buckets.size * 2);
  }
}
