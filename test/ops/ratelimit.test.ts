/**
 * http.ratelimit: token buckets per client address (zot's tollbooth semantics), checked with a
 * fake clock for exact numbers, then a burst against the bundled server: 429 TOOMANYREQUESTS
 * with Retry-After, while the probes keep answering.
 */
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryError } from '../../registry-image/src/http/errors';
import { RateLimiter, TokenBucket } from '../../registry-image/src/ratelimit';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { send } from './harness';

function fakeRequest(method: string, remoteAddress: string): IncomingMessage {
  return { method, socket: { remoteAddress } } as unknown as IncomingMessage;
}

/** admit() as a result: 'ok' or the Retry-After it answered with. */
function attempt(limiter: RateLimiter, method: string, client = '10.0.0.1', route = 'manifest'): 'ok' | string {
  try {
    limiter.admit(fakeRequest(method, client), route);
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(RegistryError);
    const e = err as RegistryError;
    expect(e.status).toBe(429);
    expect(e.code).toBe('TOOMANYREQUESTS');
    return e.headers['Retry-After'];
  }
}

describe('TokenBucket', () => {
  it('holds `burst` tokens, refills at `rate` per second, and says how long until the next', () => {
    const bucket = new TokenBucket(2, 2, 0);
    expect([bucket.take(0), bucket.take(0)]).toEqual([0, 0]);
    expect(bucket.take(0)).toBe(500); // one token every 500 ms
    expect(bucket.take(250)).toBe(250);
    expect(bucket.take(500)).toBe(0);
    expect(bucket.isFull(1000)).toBe(false);
    expect(bucket.isFull(1500)).toBe(true);
    // Never more than burst, however long it idles.
    expect([bucket.take(60_000), bucket.take(60_000), bucket.take(60_000)]).toEqual([0, 0, 500]);
  });
});

describe('RateLimiter', () => {
  it('allows `rate` requests a second per client, then refuses with Retry-After until a token is back', () => {
    let now = 0;
    const limiter = new RateLimiter({ rate: 3, methods: [] }, { now: () => now });
    expect([1, 2, 3, 4].map(() => attempt(limiter, 'GET'))).toEqual(['ok', 'ok', 'ok', '1']);
    // Another client has its own bucket.
    expect(attempt(limiter, 'GET', '10.0.0.2')).toBe('ok');
    now = 340; // one token is back after 1/3 s
    expect([attempt(limiter, 'GET'), attempt(limiter, 'GET')]).toEqual(['ok', '1']);
  });

  it('applies a method limit to that method only, on top of the overall one', () => {
    let now = 0;
    const limiter = new RateLimiter({ rate: 100, methods: [{ method: 'PUT', rate: 1 }] }, { now: () => now });
    expect([attempt(limiter, 'PUT'), attempt(limiter, 'PUT')]).toEqual(['ok', '1']);
    expect(attempt(limiter, 'GET')).toBe('ok');
    now = 1000;
    expect(attempt(limiter, 'PUT')).toBe('ok');
  });

  it('Retry-After is whole seconds, rounded up, never 0', () => {
    const limiter = new RateLimiter({ methods: [{ method: 'DELETE', rate: 1 }] }, { now: () => 0 });
    const slow = new RateLimiter({ rate: 1, methods: [] }, { now: () => 0 });
    expect([attempt(limiter, 'DELETE'), attempt(limiter, 'DELETE')]).toEqual(['ok', '1']);
    expect(attempt(limiter, 'GET')).toBe('ok'); // no overall rate configured: only DELETE is limited
    expect([attempt(slow, 'GET'), attempt(slow, 'GET')]).toEqual(['ok', '1']);
  });

  it('never limits the probes', () => {
    const limiter = new RateLimiter({ rate: 1, methods: [] }, { now: () => 0 });
    attempt(limiter, 'GET');
    for (const route of ['livez', 'readyz', 'startupz']) for (let i = 0; i < 5; i++) expect(attempt(limiter, 'GET', '10.0.0.1', route)).toBe('ok');
    expect(attempt(limiter, 'GET', '10.0.0.1', 'health')).toBe('1');
  });

  it('forgets idle clients, so many addresses do not pile up', () => {
    let now = 0;
    const limiter = new RateLimiter({ rate: 5, methods: [] }, { now: () => now });
    for (let i = 0; i < 5000; i++) attempt(limiter, 'GET', `10.1.${i >> 8}.${i & 255}`);
    expect(limiter.size).toBe(5000); // all active within the second: all remembered
    now = 10_000; // every one of them idle long enough to be full again
    for (let i = 0; i < 10_000; i++) attempt(limiter, 'GET', `10.2.${i >> 8}.${i & 255}`);
    // The 5000 idle clients are gone; only the 10000 active ones are left.
    expect(limiter.size).toBe(10_000);
  });
});

describe('a burst against the bundled server', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ config: { http: { ratelimit: { rate: 5, methods: [{ method: 'DELETE', rate: 1 }] } } } });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('answers 429 TOOMANYREQUESTS with Retry-After over the rate, keeps answering the probes, and recovers', async () => {
    const burst = await Promise.all(Array.from({ length: 20 }, () => send(`${registry.url}/v2/`)));
    const ok = burst.filter((r) => r.status === 200);
    const limited = burst.filter((r) => r.status === 429);
    expect(ok.length + limited.length).toBe(20);
    // 5 tokens at the start, plus at most one more refilled while the burst arrives.
    expect(ok.length).toBeGreaterThanOrEqual(5);
    expect(ok.length).toBeLessThanOrEqual(6);
    for (const r of limited) {
      expect(JSON.parse(r.body.toString()).errors[0].code).toBe('TOOMANYREQUESTS');
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(r.headers['cache-control']).toBe('no-store');
    }
    // The access log names the route of a refused request, not "unknown".
    expect(registry.logs.some((l) => l.includes('"route":"base","status":429'))).toBe(true);
    // While the client is limited, the probes answer.
    for (const probe of ['/livez', '/readyz', '/startupz']) expect((await send(`${registry.url}${probe}`)).status, probe).toBe(200);
    expect((await send(`${registry.url}/v2/`)).status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, Number(limited[0].headers['retry-after']) * 1000));
    expect((await send(`${registry.url}/v2/`)).status).toBe(200);
  });

  it('limits a method on its own', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const first = await send(`${registry.url}/v2/limited/app/manifests/sha256:${'0'.repeat(64)}`, { method: 'DELETE' });
    const second = await send(`${registry.url}/v2/limited/app/manifests/sha256:${'0'.repeat(64)}`, { method: 'DELETE' });
    expect(first.status).not.toBe(429);
    expect(second.status).toBe(429);
    expect(JSON.parse(second.body.toString()).errors[0].message).toContain('DELETE');
    expect((await send(`${registry.url}/v2/`)).status).toBe(200);
  });
});
