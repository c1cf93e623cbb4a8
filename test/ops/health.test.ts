/**
 * GET /health, the report for people: its checks from the bundled server, a storage root made
 * unwritable (its tmp/ folder replaced by a file, which stops root too), and in-process with
 * injected sources: a nearly full disk, GC history, certificates near and past expiry, an
 * htpasswd file that cannot be loaded. A store with no space left: what pushes and /readyz
 * answer (test/reliability/full-disk.test.ts fills a real disk).
 */
import type { StatsFs } from 'node:fs';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Auth } from '../../registry-image/src/auth/types';
import type { PerchConfig } from '../../registry-image/src/config/types';
import type { GcReport } from '../../registry-image/src/gc/report';
import { healthReportRoute, type HealthReport, type HealthSources } from '../../registry-image/src/handlers/health-report';
import { NoSpaceWatch, REFUSAL_MEMORY_MS } from '../../registry-image/src/handlers/no-space-watch';
import type { RequestEvent } from '../../registry-image/src/http/hooks';
import { silentLogger } from '../../registry-image/src/log';
import { createRegistry } from '../../registry-image/src/server';
import { MemoryStore } from '../../registry-image/src/storage/memory-store';
import { StorageError } from '../../registry-image/src/storage/types';
import { allowAll, testConfig } from '../helpers/in-process';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { tempDir } from '../helpers/temp-dir';
import { basic, pushTiny, send, tinyImage, writeHtpasswd } from './harness';

function check(report: HealthReport, name: string) {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no ${name} check in ${JSON.stringify(report)}`);
  return found;
}

describe('GET /health from the bundled server', () => {
  let registry: RunningRegistry;
  const dir = tempDir('perch-health-');
  const htpasswd = join(dir, 'htpasswd');
  beforeAll(async () => {
    writeHtpasswd(htpasswd, { admin: 'admin-pass' });
    registry = await startRegistry({
      config: {
        http: { auth: { htpasswd: { path: htpasswd } }, accessControl: { repositories: { '**': { policies: [{ users: ['admin'], actions: ['read', 'create'] }] } } } },
        perch: { tls: { selfSigned: { hosts: ['registry.roost.test'] } } },
      },
    });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  const ca = () => readFileSync(join(registry.dataDir, 'tls', 'cert.pem'));

  async function report(): Promise<{ status: number; body: HealthReport; headers: Record<string, unknown> }> {
    const res = await send(`https://127.0.0.1:${registry.port}/health`, { ca: ca() });
    return { status: res.status, body: JSON.parse(res.body.toString()), headers: res.headers };
  }

  it('answers without credentials with every check, and names no repository, user or path', async () => {
    await pushTiny(`https://127.0.0.1:${registry.port}`, 'secret-team/hidden-app', 'v1', tinyImage('health'), { ca: ca(), headers: basic('admin', 'admin-pass') });

    const { status, body, headers } = await report();
    expect(status).toBe(200);
    expect(headers['cache-control']).toBe('no-store');
    expect(body.status).toBe('ok');
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Date.parse(body.startedAt)).toBeLessThanOrEqual(Date.now());
    expect(body.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(body.checks.map((c) => c.name)).toEqual(['storage', 'disk', 'auth', 'gc', 'tls']);

    const storage = check(body, 'storage');
    expect(storage).toMatchObject({ status: 'ok', repositories: 1 });
    expect(storage.storedBytes).toBeGreaterThan(4096);
    const disk = check(body, 'disk');
    expect(disk.totalBytes as number).toBeGreaterThan(disk.freeBytes as number);
    expect(disk.freePercent as number).toBeGreaterThan(0);
    expect(disk.freePercent as number).toBeLessThanOrEqual(100);
    const auth = check(body, 'auth');
    expect(auth).toMatchObject({ status: 'ok', challenge: 'basic' });
    expect(Math.abs(Date.parse(auth.htpasswdModifiedAt as string) - Date.now())).toBeLessThan(120_000);
    const tls = check(body, 'tls');
    expect(tls).toMatchObject({ status: 'ok', source: 'self-signed', names: ['registry.roost.test', 'localhost', '127.0.0.1'] });
    expect(tls.daysLeft).toBeGreaterThan(390);

    const text = JSON.stringify(body);
    for (const secret of ['secret-team', 'hidden-app', 'admin', registry.dataDir, htpasswd, 'BEGIN']) expect(text).not.toContain(secret);
  });

  it('shows a failing storage check, and answers 503, while the storage root cannot be written', async () => {
    // Replace tmp/ (where every write starts) by a file: writes fail with ENOTDIR, even as root.
    const tmp = join(registry.dataDir, 'tmp');
    renameSync(tmp, `${tmp}.away`);
    writeFileSync(tmp, 'not a folder');
    try {
      const { status, body } = await report();
      expect(status).toBe(503);
      expect(body.status).toBe('fail');
      expect(check(body, 'storage')).toMatchObject({ status: 'fail', message: expect.stringContaining('ENOTDIR') });
      expect(check(body, 'disk').status).toBe('ok');
      expect(registry.logs.some((l) => l.includes('"message":"health report: failing"') && l.includes('storage'))).toBe(true);
    } finally {
      rmSync(tmp);
      renameSync(`${tmp}.away`, tmp);
    }
    const { status, body } = await report();
    expect(status).toBe(200);
    expect(check(body, 'storage').status).toBe('ok');
  });
});

describe('the report\'s checks, from injected sources', () => {
  const servers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((close) => close()));
  });

  const GB = 1024 ** 3;
  function fs(totalGb: number, freeGb: number): (path: string) => Promise<StatsFs> {
    return async () => ({ type: 0, bsize: 4096, blocks: (totalGb * GB) / 4096, bfree: (freeGb * GB) / 4096, bavail: (freeGb * GB) / 4096, files: 0, ffree: 0 }) as StatsFs;
  }

  function gcReport(startedMs: number, bytesFreed: number): GcReport {
    return { dryRun: false, startedMs, durationMs: 1500, blobsRemoved: 3, bytesFreed, manifestsRemoved: 1, uploadsPurged: 0, linksRemoved: 0, tagsRemoved: 0, kept: 0, removals: [] };
  }

  async function reportWith(sources: Partial<HealthSources>, config: PerchConfig = testConfig(), auth: Auth = allowAll): Promise<{ status: number; body: HealthReport }> {
    const store = new MemoryStore();
    await store.init();
    const registry = createRegistry({ config, store, auth, log: silentLogger }, { routes: [healthReportRoute({ startedMs: Date.now(), statfs: fs(100, 50), ...sources })] });
    const server = createServer(registry.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const res = await send(`http://127.0.0.1:${(server.address() as AddressInfo).port}/health`);
    return { status: res.status, body: JSON.parse(res.body.toString()) };
  }

  it('disk: ok above 10% free, warn below, fail below 2%', async () => {
    const ok = await reportWith({ statfs: fs(100, 50) });
    expect(check(ok.body, 'disk')).toMatchObject({ status: 'ok', freePercent: 50, freeBytes: 50 * GB, totalBytes: 100 * GB });
    const low = await reportWith({ statfs: fs(100, 5) });
    expect(low.status).toBe(200);
    expect(low.body.status).toBe('warn');
    expect(check(low.body, 'disk')).toMatchObject({ status: 'warn', freePercent: 5, message: expect.stringContaining('garbage collection') });
    const full = await reportWith({ statfs: fs(100, 1) });
    expect(full.status).toBe(503);
    expect(check(full.body, 'disk').status).toBe('fail');
  });

  it('disk: full under 1 MiB free, whatever the percentage', async () => {
    const tiny = async () => ({ type: 0, bsize: 4096, blocks: 1024, bfree: 100, bavail: 100, files: 0, ffree: 0 }) as StatsFs;
    const { status, body } = await reportWith({ statfs: tiny });
    expect(status).toBe(503);
    expect(check(body, 'disk')).toMatchObject({ status: 'fail', full: true, freeBytes: 409_600, message: expect.stringMatching(/^full: 400 KiB free, pushes are refused \(507\)/) });
    const noInodes = async () => ({ type: 0, bsize: 4096, blocks: (100 * GB) / 4096, bfree: (50 * GB) / 4096, bavail: (50 * GB) / 4096, files: 1000, ffree: 0 }) as StatsFs;
    expect(check((await reportWith({ statfs: noInodes })).body, 'disk')).toMatchObject({ status: 'fail', full: true, freeInodes: 0, message: expect.stringMatching(/^full: no inode left/) });
  });

  it('disk: a push refused for lack of space fails it until a write is stored, or for ten minutes', async () => {
    let now = Date.now();
    const space = new NoSpaceWatch(() => now);
    const answered = (method: string, status: number) => space.requestFinished({ method, status } as RequestEvent);
    const disk = async () => check((await reportWith({ space, now: () => now })).body, 'disk');

    answered('POST', 507);
    const refusedAt = new Date(now).toISOString();
    expect(await disk()).toMatchObject({ status: 'fail', full: true, lastRefusedAt: refusedAt, freePercent: 50, message: expect.stringContaining('a push was refused for lack of space') });
    answered('GET', 200);
    answered('POST', 202); // a session started: nothing stored yet
    expect((await disk()).status).toBe('fail');
    answered('PATCH', 202); // a chunk stored
    expect(await disk()).toMatchObject({ status: 'ok', message: '50% free' });

    answered('PUT', 507);
    expect((await disk()).status).toBe('fail');
    answered('PUT', 201); // a blob or manifest stored
    expect((await disk()).status).toBe('ok');

    answered('PATCH', 507);
    now += REFUSAL_MEMORY_MS;
    expect((await disk()).status).toBe('ok');
  });

  it('gc: off unless it runs here; the last run with what it freed; warn when runs stopped finishing', async () => {
    const off = await reportWith({});
    expect(check(off.body, 'gc')).toMatchObject({ status: 'off', message: 'storage.gc is false' });
    const config = testConfig();
    config.storage.gc = true;
    config.storage.gcIntervalMs = 60_000;
    const notRunHere = await reportWith({}, config);
    expect(check(notRunHere.body, 'gc').status).toBe('off');
    const now = Date.now();
    const ran = await reportWith({ gc: { history: [gcReport(now - 120_000, 1), gcReport(now - 10_000, 4096)] } }, config);
    expect(check(ran.body, 'gc')).toMatchObject({
      status: 'ok',
      intervalSeconds: 60,
      lastRun: { finishedAt: new Date(now - 8_500).toISOString(), durationMs: 1500, blobsRemoved: 3, manifestsRemoved: 1, bytesFreed: 4096 },
    });
    const stale = await reportWith({ gc: { history: [gcReport(now - 600_000, 1)] } }, config);
    expect(stale.body.status).toBe('warn');
    expect(check(stale.body, 'gc').status).toBe('warn');
    const never = await reportWith({ gc: { history: [] }, startedMs: now - 300_000 }, config);
    expect(check(never.body, 'gc')).toMatchObject({ status: 'warn', message: expect.stringContaining('gc failed') });
  });

  it('tls: days left; warn under 30, fail once expired', async () => {
    const tls = (days: number) => ({
      source: 'configured',
      current: () => ({ fingerprint256: 'AA:BB', notAfter: new Date(Date.now() + days * 86_400_000 + 60_000), names: ['r.test'] }),
      loadedAt: () => new Date(),
    });
    expect(check((await reportWith({})).body, 'tls')).toMatchObject({ status: 'off' });
    expect(check((await reportWith({ tls: tls(200) })).body, 'tls')).toMatchObject({ status: 'ok', daysLeft: 200 });
    expect(check((await reportWith({ tls: tls(10) })).body, 'tls')).toMatchObject({ status: 'warn', daysLeft: 10, message: expect.stringContaining('reloads') });
    const expired = await reportWith({ tls: tls(-3) });
    expect(expired.status).toBe(503);
    expect(check(expired.body, 'tls')).toMatchObject({ status: 'fail', message: expect.stringContaining('expired') });
  });

  it('auth: off without login; fail with the reason auth gives when the htpasswd file cannot be loaded', async () => {
    expect(check((await reportWith({})).body, 'auth').status).toBe('off');
    const config = testConfig();
    config.http.auth = { htpasswd: { path: '/nonexistent/htpasswd' }, failDelay: 0 };
    const broken: Auth = { ...allowAll, readiness: () => ({ ok: false, reason: 'htpasswd file cannot be read (ENOENT)' }) };
    const res = await reportWith({}, config, broken);
    expect(res.status).toBe(503);
    expect(check(res.body, 'auth')).toMatchObject({ status: 'fail', message: 'htpasswd file cannot be read (ENOENT)' });
    expect(check(res.body, 'auth').htpasswdModifiedAt).toBeUndefined();
  });
});

describe('a store with no space left, in process', () => {
  /** A MemoryStore that refuses writes as a full disk does: a system error, or the store's own NoSpace. */
  class FullStore extends MemoryStore {
    override async checkWritable(): Promise<void> {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    override async putManifest(): Promise<void> {
      throw new StorageError('NoSpace', 'no room');
    }
    override async appendUpload(): Promise<never> {
      throw Object.assign(new Error('EDQUOT: disk quota exceeded, write'), { code: 'EDQUOT' });
    }
  }

  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const store = new FullStore();
    await store.init();
    const registry = createRegistry({ config: testConfig(), store, auth: allowAll, log: silentLogger });
    const server = createServer(registry.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });
  afterAll(() => close());

  it('pushes answer 507 UNAVAILABLE "no space left", never 500', async () => {
    const layer = Buffer.from('layer bytes');
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] });
    const refusals = [
      await send(`${url}/v2/a/blobs/uploads/?digest=sha256:${'0'.repeat(64)}`, { method: 'POST', body: layer }),
      await send(`${url}/v2/a/manifests/v1`, { method: 'PUT', body: manifest, headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json' } }),
    ];
    for (const res of refusals) {
      expect(res.status).toBe(507);
      const body = JSON.parse(res.body.toString());
      expect(body.errors).toEqual([{ code: 'UNAVAILABLE', message: expect.stringMatching(/^no space left on the registry's storage: .*free space or grow the volume, then push again$/) }]);
    }
  });

  it('GET /readyz 200: ready, and says the storage is full', async () => {
    const res = await send(`${url}/readyz`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ status: 'ok', storage: 'full', warnings: [expect.stringMatching(/^storage is full \(a probe write was refused\)/)] });
  });
});
