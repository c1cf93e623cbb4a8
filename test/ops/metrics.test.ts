/**
 * Prometheus metrics from the bundled server: a known workload of pushes, pulls and misses,
 * then /metrics read through a strict exposition parser and every request counter compared
 * with the workload, series by series. Then who may read /metrics under
 * http.accessControl.metrics.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushImage, sha256 } from '../helpers/oci-client';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { tempDir } from '../helpers/temp-dir';
import { basic, send, writeHtpasswd } from './harness';
import { parseExposition, type Exposition } from './prometheus-text';

describe('the exposition parser', () => {
  // It has to refuse what Prometheus refuses, or the suite below proves nothing about format.
  it.each([
    ['a value that is not a number', '# TYPE x counter\nx 1.2.3\n'],
    ['a word for a value', '# TYPE x counter\nx none\n'],
    ['an unquoted label value', '# TYPE x counter\nx{a=b} 1\n'],
    ['a duplicate series', '# TYPE x counter\nx{a="1"} 1\nx{a="1"} 2\n'],
    ['a TYPE after samples', 'x 1\n# TYPE x counter\n'],
    ['a family split in two', '# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx{a="2"} 1\n'],
    ['a histogram whose +Inf bucket is not its count', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
    ['buckets that decrease', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['a bad metric name', '# TYPE 1x counter\n'],
    ['a bad escape', '# TYPE x counter\nx{a="\\t"} 1\n'],
    ['a missing final newline', '# TYPE x counter\nx 1'],
  ])('refuses %s', (_what, text) => {
    expect(() => parseExposition(text)).toThrow();
  });

  it('reads labels with escapes, special values and timestamps', () => {
    const e = parseExposition('# HELP x a help\n# TYPE x gauge\nx{a="q\\"uote",b="back\\\\slash\\n"} +Inf 1700000000000\nx NaN\n');
    expect(e.value('x', { a: 'q"uote', b: 'back\\slash\n' })).toBe(Infinity);
    expect(e.value('x')).toBeNaN();
  });
});

describe('GET /metrics after a known workload', () => {
  let registry: RunningRegistry;
  let first: Exposition;
  let second: Exposition;
  const A = Buffer.alloc(1000, 'a');
  const B = Buffer.alloc(2000, 'b');
  const C = Buffer.alloc(500, 'c');
  let configBytes = 0;
  let manifestBytes = 0;

  beforeAll(async () => {
    registry = await startRegistry({ config: { extensions: { metrics: { enable: true, prometheus: { path: '/metrics' } } } } });
    const { url } = registry;
    // Pushes: 3 monolithic blob uploads (config, A, B) and a manifest.
    const image = await pushImage(url, 'ops/app', 'v1', [A, B]);
    configBytes = image.blobs[0].bytes.length;
    manifestBytes = image.manifest.length;
    // A chunked upload of C: POST 202, PATCH 202, PUT 201.
    const started = await send(`${url}/v2/ops/app/blobs/uploads/`, { method: 'POST' });
    expect(started.status).toBe(202);
    const location = started.headers.location!;
    expect((await send(`${url}${location}`, { method: 'PATCH', body: C, headers: { 'Content-Type': 'application/octet-stream' } })).status).toBe(202);
    expect((await send(`${url}${location}${location.includes('?') ? '&' : '?'}digest=${sha256(C)}`, { method: 'PUT' })).status).toBe(201);
    // A cross-repository mount: 201, but no bytes were uploaded.
    expect((await send(`${url}/v2/ops/other/blobs/uploads/?mount=${sha256(A)}&from=ops/app`, { method: 'POST' })).status).toBe(201);
    // Pulls.
    for (let i = 0; i < 2; i++) expect((await send(`${url}/v2/ops/app/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).status).toBe(200);
    expect((await send(`${url}/v2/ops/app/blobs/${sha256(A)}`)).status).toBe(200);
    expect((await send(`${url}/v2/ops/app/blobs/${sha256(B)}`, { method: 'HEAD' })).status).toBe(200);
    // Misses.
    for (let i = 0; i < 3; i++) expect((await send(`${url}/v2/ops/app/manifests/missing`)).status).toBe(404);
    expect((await send(`${url}/nope/${'x'.repeat(40)}`)).status).toBe(404);
    expect((await send(`${url}/v2/ops/app/blobs/${sha256('never pushed')}`)).status).toBe(404);

    const scrape = async () => {
      const res = await send(`${url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      return parseExposition(res.body.toString('utf8'));
    };
    first = await scrape();
    second = await scrape();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('counts every request by method, route name and status, and nothing else', () => {
    const counted = Object.fromEntries(first.samples('registry_http_requests_total').map((s) => [`${s.labels.method} ${s.labels.route} ${s.labels.status}`, s.value]));
    expect(counted).toEqual({
      'POST uploads 201': 4, // 3 monolithic pushes + the mount
      'POST uploads 202': 1,
      'PATCH upload 202': 1,
      'PUT upload 201': 1,
      'PUT manifest 201': 1,
      'GET manifest 200': 2,
      'GET blob 200': 1,
      'HEAD blob 200': 1,
      'GET manifest 404': 3,
      'GET unknown 404': 1, // the raw path never becomes a label
      'GET blob 404': 1,
    });
  });

  it('counts the scrape itself once it is answered', () => {
    expect(first.value('registry_http_requests_total', { method: 'GET', route: 'metrics', status: '200' })).toBeUndefined();
    expect(second.value('registry_http_requests_total', { method: 'GET', route: 'metrics', status: '200' })).toBe(1);
    // The scrape being answered is the one request in flight.
    expect(first.value('registry_http_in_flight_requests')).toBe(1);
  });

  it('times every request in a histogram with the same labels', () => {
    for (const s of first.samples('registry_http_requests_total')) {
      expect(first.value('registry_http_request_duration_seconds_count', s.labels), JSON.stringify(s.labels)).toBe(s.value);
      expect(first.value('registry_http_request_duration_seconds_sum', s.labels)).toBeGreaterThan(0);
    }
    expect(first.families.get('registry_http_request_duration_seconds')?.type).toBe('histogram');
  });

  it('counts completed blob uploads and their bytes (not the mount)', () => {
    expect(first.value('registry_storage_blob_upload_total')).toBe(4);
    expect(first.value('registry_storage_blob_upload_bytes_total')).toBe(configBytes + A.length + B.length + C.length);
  });

  it('reports storage bytes per repository and in all', () => {
    const all = configBytes + A.length + B.length + C.length + manifestBytes;
    expect(first.value('registry_storage_bytes')).toBe(all);
    expect(first.value('registry_storage_repositories')).toBe(2);
    expect(first.value('registry_storage_repository_bytes', { repository: 'ops/app' })).toBe(all);
    expect(first.value('registry_storage_repository_bytes', { repository: 'ops/other' })).toBe(A.length);
  });

  it('declares a type and help for every family it exposes', () => {
    for (const name of ['registry_http_requests_total', 'registry_http_in_flight_requests', 'registry_storage_blob_upload_total', 'registry_gc_runs_total', 'registry_build_info']) {
      const family = first.families.get(name);
      expect(family, name).toBeDefined();
      expect(family!.help, name).toBeTruthy();
    }
    expect(first.families.get('registry_http_requests_total')!.type).toBe('counter');
    expect(first.value('registry_gc_runs_total')).toBe(0);
    expect(first.samples('registry_build_info')[0].labels.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(first.families.has('process_resident_memory_bytes')).toBe(true);
  });
});

describe('who may read /metrics', () => {
  const dir = tempDir('perch-metrics-auth-');
  const htpasswd = join(dir, 'htpasswd');
  writeHtpasswd(htpasswd, { scraper: 'scrape-pass', pusher: 'push-pass' });
  const login = { auth: { htpasswd: { path: htpasswd } } };
  const repositories = { '**': { policies: [{ users: ['scraper', 'pusher'], actions: ['read', 'create'] }] } };
  let listed: RunningRegistry | undefined;
  let unlisted: RunningRegistry | undefined;
  let open: RunningRegistry | undefined;
  afterAll(async () => {
    await Promise.all([listed?.stop(), unlisted?.stop(), open?.stop()]);
  });

  it('with accessControl.metrics.users: only those users; anonymous 401 with a Basic challenge; others 403', async () => {
    listed = await startRegistry({
      config: { http: { ...login, accessControl: { repositories, metrics: { users: ['scraper'] } } }, extensions: { metrics: { enable: true, prometheus: { path: '/internal/metrics' } } } },
    });
    const at = `${listed.url}/internal/metrics`;
    const anonymous = await send(at);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic realm=/);
    const denied = await send(at, { headers: basic('pusher', 'push-pass') });
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.body.toString()).errors[0].code).toBe('DENIED');
    expect(JSON.parse(denied.body.toString()).errors[0].message).toContain('http.accessControl.metrics.users');
    expect((await send(at, { headers: basic('scraper', 'wrong') })).status).toBe(401);
    const allowed = await send(at, { headers: basic('scraper', 'scrape-pass') });
    expect(allowed.status).toBe(200);
    expect(parseExposition(allowed.body.toString()).families.has('registry_http_requests_total')).toBe(true);
    // The configured path replaces the default one.
    expect((await send(`${listed.url}/metrics`, { headers: basic('scraper', 'scrape-pass') })).status).toBe(404);
  });

  it('with login but no metrics users listed: any logged-in user', async () => {
    unlisted = await startRegistry({ config: { http: { ...login, accessControl: { repositories } }, extensions: { metrics: { enable: true } } } });
    expect((await send(`${unlisted.url}/metrics`)).status).toBe(401);
    expect((await send(`${unlisted.url}/metrics`, { headers: basic('pusher', 'push-pass') })).status).toBe(200);
  });

  it('with metrics.anonymousPolicy ["read"]: anyone scrapes without credentials, a wrong password is still 401, and nothing else opens', async () => {
    const anonymous = await startRegistry({
      config: { http: { ...login, accessControl: { repositories, metrics: { users: ['scraper'], anonymousPolicy: ['read'] } } }, extensions: { metrics: { enable: true } } },
    });
    try {
      const scraped = await send(`${anonymous.url}/metrics`);
      expect(scraped.status).toBe(200);
      expect(parseExposition(scraped.body.toString()).families.has('registry_http_requests_total')).toBe(true);
      expect((await send(`${anonymous.url}/metrics`, { headers: basic('scraper', 'wrong') })).status).toBe(401);
      // Metrics are open; the registry is not.
      expect((await send(`${anonymous.url}/v2/_catalog`)).status).toBe(401);
    } finally {
      await anonymous.stop();
    }
  });

  it("zot's examples/config-metrics-authn-anonymous-access.json as written (only its paths and port moved): metrics open, repositories closed", async () => {
    const config = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'zot-configs', 'config-metrics-authn-anonymous-access.json'), 'utf8'));
    const dir = tempDir('perch-zot-metrics-');
    config.storage.rootDirectory = join(dir, 'data');
    config.http.port = '0';
    config.http.auth.htpasswd.path = join(dir, 'htpasswd');
    writeHtpasswd(config.http.auth.htpasswd.path, { reader: 'reader-pass' });
    const example = await startRegistry({ config });
    try {
      expect((await send(`${example.url}/metrics`)).status).toBe(200);
      expect((await send(`${example.url}/v2/_catalog`)).status).toBe(401);
      expect((await send(`${example.url}/v2/_catalog`, { headers: basic('reader', 'reader-pass') })).status).toBe(200);
    } finally {
      await example.stop();
    }
  });

  it('without login: open; and absent when extensions.metrics is not enabled', async () => {
    open = await startRegistry({ config: { extensions: { metrics: { enable: true } } } });
    expect((await send(`${open.url}/metrics`)).status).toBe(200);
    const off = await startRegistry({ config: { extensions: { metrics: { enable: false } } } });
    try {
      expect((await send(`${off.url}/metrics`)).status).toBe(404);
    } finally {
      await off.stop();
    }
  });
});

describe('a client that goes away mid-request', () => {
  it('leaves no request in flight, and is counted as 499 on its route', async () => {
    const registry = await startRegistry({ config: { extensions: { metrics: { enable: true } } } });
    try {
      const started = await send(`${registry.url}/v2/gone/app/blobs/uploads/`, { method: 'POST' });
      const location = started.headers.location!;
      // A PATCH that promises 1 MiB, sends 1 KiB, and hangs up.
      await new Promise<void>((resolve) => {
        const req = request(`${registry.url}${location}`, { method: 'PATCH', headers: { 'Content-Length': 1024 * 1024, 'Content-Type': 'application/octet-stream' } });
        req.on('error', () => resolve());
        req.write(Buffer.alloc(1024, 'x'), () => setTimeout(() => req.destroy(), 100));
        req.on('close', () => resolve());
      });
      let metrics = parseExposition('');
      for (let i = 0; i < 40; i++) {
        metrics = parseExposition((await send(`${registry.url}/metrics`)).body.toString());
        if (metrics.value('registry_http_requests_total', { method: 'PATCH', route: 'upload', status: '499' }) === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(metrics.value('registry_http_requests_total', { method: 'PATCH', route: 'upload', status: '499' })).toBe(1);
      expect(metrics.value('registry_http_in_flight_requests')).toBe(1); // the scrape itself
      expect(metrics.value('registry_storage_blob_upload_total')).toBe(0);
    } finally {
      await registry.stop();
    }
  });
});

describe('garbage collection in metrics and /health', () => {
  it('shows the server\'s own GC runs: count, blobs removed, bytes freed, last run', async () => {
    const registry = await startRegistry({ config: { storage: { gc: true, gcDelay: '1s', gcInterval: '1s' }, extensions: { metrics: { enable: true } } } });
    try {
      // A blob no manifest references: the first run after the 1 s delay removes it.
      const orphan = Buffer.alloc(1234, 'o');
      const pushed = await send(`${registry.url}/v2/gc/orphan/blobs/uploads/?digest=${sha256(orphan)}`, { method: 'POST', body: orphan });
      expect(pushed.status).toBe(201);
      let metrics = parseExposition('');
      for (let i = 0; i < 60; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        metrics = parseExposition((await send(`${registry.url}/metrics`)).body.toString());
        if (metrics.value('registry_gc_blobs_removed_total') === 1) break;
      }
      expect(metrics.value('registry_gc_blobs_removed_total')).toBe(1);
      expect(metrics.value('registry_gc_bytes_freed_total')).toBe(1234);
      expect(metrics.value('registry_gc_runs_total')).toBeGreaterThanOrEqual(1);
      expect(Math.abs(metrics.value('registry_gc_last_run_timestamp_seconds')! - Date.now() / 1000)).toBeLessThan(10);
      expect(metrics.value('registry_storage_bytes')).toBe(0);

      const health = JSON.parse((await send(`${registry.url}/health`)).body.toString());
      const gc = health.checks.find((c: { name: string }) => c.name === 'gc');
      expect(gc).toMatchObject({ status: 'ok', intervalSeconds: 1 });
      expect(Date.parse(gc.lastRun.finishedAt)).toBeGreaterThan(Date.now() - 10_000);
    } finally {
      await registry.stop();
    }
  });
});
