/**
 * Every route's success and error paths, through real HTTP against the registry in this
 * process (MemoryStore, no auth). Names follow the route: "METHOD /path status".
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../registry-image/src/storage/memory-store';
import { startInProcess, type InProcessRegistry } from '../helpers/in-process';
import { pushBlob, pushImage, sha256 } from '../helpers/oci-client';

let reg: InProcessRegistry;
let base: string;
beforeAll(async () => {
  reg = await startInProcess(new MemoryStore());
  base = reg.url;
});
afterAll(() => reg.close());

function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.path = path;
    req.on('error', reject);
    req.end();
  });
}

async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { errors: Array<{ code: string }> };
  return body.errors[0].code;
}

describe('base and health', () => {
  it('GET /v2/ 200 with the API version header', async () => {
    const res = await fetch(`${base}/v2/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    expect(await res.json()).toEqual({});
  });
  it.each(['/livez', '/readyz', '/startupz'])('GET %s 200', async (path) => {
    const res = await fetch(`${base}${path}`);
    expect(res.status).toBe(200);
  });
  it('GET /nope 404 NOT_FOUND', async () => {
    const res = await fetch(`${base}/nope`);
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe('NOT_FOUND');
  });
  it('POST /v2/a/manifests/x 405 UNSUPPORTED', async () => {
    const res = await fetch(`${base}/v2/a/manifests/x`, { method: 'POST' });
    expect(res.status).toBe(405);
    expect(await errorCode(res)).toBe('UNSUPPORTED');
  });
});

describe('blobs', () => {
  const bytes = Buffer.from('hello blob world');
  const digest = sha256(bytes);
  beforeAll(async () => {
    await pushBlob(base, 'blobs/repo', bytes);
  });

  it('HEAD /v2/:name/blobs/:digest 200 with length and digest', async () => {
    const res = await fetch(`${base}/v2/blobs/repo/blobs/${digest}`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(bytes.length));
    expect(res.headers.get('docker-content-digest')).toBe(digest);
  });
  it('GET /v2/:name/blobs/:digest 200 returns the bytes', async () => {
    const res = await fetch(`${base}/v2/blobs/repo/blobs/${digest}`);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
  });
  it.each([
    ['bytes=0-4', 206, 'hello', 'bytes 0-4/16'],
    ['bytes=6-', 206, 'blob world', 'bytes 6-15/16'],
    ['bytes=-5', 206, 'world', 'bytes 11-15/16'],
    ['bytes=11-100', 206, 'world', 'bytes 11-15/16'],
  ])('GET /v2/:name/blobs/:digest Range %s %i', async (range, status, body, contentRange) => {
    const res = await fetch(`${base}/v2/blobs/repo/blobs/${digest}`, { headers: { Range: range } });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-range')).toBe(contentRange);
    expect(await res.text()).toBe(body);
  });
  it('GET /v2/:name/blobs/:digest Range past the end 416', async () => {
    const res = await fetch(`${base}/v2/blobs/repo/blobs/${digest}`, { headers: { Range: 'bytes=100-200' } });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe('bytes */16');
  });
  it('GET /v2/:name/blobs/:digest 404 BLOB_UNKNOWN in another repository (no leaks across repositories)', async () => {
    const res = await fetch(`${base}/v2/other/repo/blobs/${digest}`);
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe('BLOB_UNKNOWN');
  });
  it('GET /v2/:name/blobs/:digest 400 DIGEST_INVALID', async () => {
    const res = await fetch(`${base}/v2/blobs/repo/blobs/sha256:abc`);
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('DIGEST_INVALID');
  });
  it('GET /v2/:name/blobs/:digest 400 NAME_INVALID', async () => {
    const res = await fetch(`${base}/v2/Bad_Name/blobs/${digest}`);
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('NAME_INVALID');
  });
  it('GET /v2/../../etc/blobs/:digest never leaves the storage root', async () => {
    // fetch() would normalise the dots away; send the raw path.
    const { status, body } = await rawGet(`${base}`, `/v2/%2e%2e/%2e%2e/etc/blobs/${digest}`);
    expect(status).toBe(400);
    expect(JSON.parse(body).errors[0].code).toBe('NAME_INVALID');
  });
  it('DELETE /v2/:name/blobs/:digest 202 then 404', async () => {
    const d = await pushBlob(base, 'blobs/del', Buffer.from('to delete'));
    expect((await fetch(`${base}/v2/blobs/del/blobs/${d}`, { method: 'DELETE' })).status).toBe(202);
    const res = await fetch(`${base}/v2/blobs/del/blobs/${d}`, { method: 'DELETE' });
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe('BLOB_UNKNOWN');
  });
});

describe('uploads', () => {
  async function start(repo = 'up/repo'): Promise<string> {
    const res = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    expect(res.status).toBe(202);
    expect(res.headers.get('range')).toBe('0-0');
    expect(res.headers.get('docker-upload-uuid')).toBeTruthy();
    return res.headers.get('location')!;
  }

  it('POST, PATCH chunks, GET status, PUT ?digest= 201', async () => {
    const data = Buffer.from('0123456789abcdef');
    const loc = await start();
    let res = await fetch(`${base}${loc}`, { method: 'PATCH', body: data.subarray(0, 10), headers: { 'Content-Range': '0-9', 'Content-Type': 'application/octet-stream' } });
    expect(res.status).toBe(202);
    expect(res.headers.get('range')).toBe('0-9');
    res = await fetch(`${base}${loc}`);
    expect(res.status).toBe(204);
    expect(res.headers.get('range')).toBe('0-9');
    res = await fetch(`${base}${loc}`, { method: 'PATCH', body: data.subarray(10), headers: { 'Content-Range': '10-15' } });
    expect(res.status).toBe(202);
    res = await fetch(`${base}${loc}?digest=${sha256(data)}`, { method: 'PUT' });
    expect(res.status).toBe(201);
    expect(res.headers.get('docker-content-digest')).toBe(sha256(data));
    expect(res.headers.get('location')).toBe(`/v2/up/repo/blobs/${sha256(data)}`);
    expect(await (await fetch(`${base}/v2/up/repo/blobs/${sha256(data)}`)).text()).toBe(data.toString());
  });
  it.each([
    ['out of order', '5-9'],
    ['overlapping', '0-3'],
    ['malformed', 'bytes 7'],
  ])('PATCH /v2/:name/blobs/uploads/:id %s Content-Range 416', async (_what, range) => {
    const loc = await start();
    await fetch(`${base}${loc}`, { method: 'PATCH', body: 'abcd', headers: { 'Content-Range': '0-3' } });
    const res = await fetch(`${base}${loc}`, { method: 'PATCH', body: 'efgh', headers: { 'Content-Range': range } });
    expect(res.status).toBe(416);
    expect(await errorCode(res)).toBe('BLOB_UPLOAD_INVALID');
    // The session is unharmed: still 4 bytes.
    expect((await fetch(`${base}${loc}`)).headers.get('range')).toBe('0-3');
  });
  it('PUT with the last chunk in the body 201', async () => {
    const loc = await start();
    await fetch(`${base}${loc}`, { method: 'PATCH', body: 'abc' });
    const res = await fetch(`${base}${loc}?digest=${sha256('abcdef')}`, { method: 'PUT', body: 'def', headers: { 'Content-Range': '3-5' } });
    expect(res.status).toBe(201);
  });
  it('PUT ?digest= wrong digest 400 DIGEST_INVALID, blob not visible', async () => {
    const loc = await start();
    const wrong = sha256('something else');
    const res = await fetch(`${base}${loc}?digest=${wrong}`, { method: 'PUT', body: 'actual' });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('DIGEST_INVALID');
    expect((await fetch(`${base}/v2/up/repo/blobs/${wrong}`, { method: 'HEAD' })).status).toBe(404);
    // Its body is in the session now, so the session ends (as distribution does): a retry of the same PUT cannot append it twice.
    const status = await fetch(`${base}${loc}`);
    expect(status.status).toBe(404);
    expect(await errorCode(status)).toBe('BLOB_UPLOAD_UNKNOWN');
  });
  it('PUT ?digest= wrong digest without a body 400 DIGEST_INVALID, and the session stays for a retry with the right one', async () => {
    const loc = await start();
    await fetch(`${base}${loc}`, { method: 'PATCH', body: 'kept' });
    expect((await fetch(`${base}${loc}?digest=${sha256('not it')}`, { method: 'PUT' })).status).toBe(400);
    expect((await fetch(`${base}${loc}?digest=${sha256('kept')}`, { method: 'PUT' })).status).toBe(201);
  });
  it('PUT without ?digest= 400 DIGEST_INVALID', async () => {
    const loc = await start();
    const res = await fetch(`${base}${loc}`, { method: 'PUT' });
    expect(res.status).toBe(400);
  });
  it('POST ?digest= monolithic 201; wrong digest 400 and nothing stored', async () => {
    const ok = await fetch(`${base}/v2/up/mono/blobs/uploads/?digest=${sha256('mono')}`, { method: 'POST', body: 'mono' });
    expect(ok.status).toBe(201);
    const bad = await fetch(`${base}/v2/up/mono/blobs/uploads/?digest=${sha256('x')}`, { method: 'POST', body: 'y' });
    expect(bad.status).toBe(400);
    expect(await errorCode(bad)).toBe('DIGEST_INVALID');
  });
  it('POST ?mount=&from= 201 when mounted, 202 when the source lacks it', async () => {
    const d = await pushBlob(base, 'mount/src', Buffer.from('mount me'));
    const res = await fetch(`${base}/v2/mount/dst/blobs/uploads/?mount=${d}&from=mount/src`, { method: 'POST' });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v2/mount/dst/blobs/${d}`);
    expect((await fetch(`${base}/v2/mount/dst/blobs/${d}`, { method: 'HEAD' })).status).toBe(200);
    const miss = await fetch(`${base}/v2/mount/dst2/blobs/uploads/?mount=${d}&from=mount/none`, { method: 'POST' });
    expect(miss.status).toBe(202);
  });
  it('DELETE /v2/:name/blobs/uploads/:id 204, then GET 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const loc = await start();
    expect((await fetch(`${base}${loc}`, { method: 'DELETE' })).status).toBe(204);
    const res = await fetch(`${base}${loc}`);
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe('BLOB_UPLOAD_UNKNOWN');
  });
  it('GET /v2/:name/blobs/uploads/:id of another repository 404', async () => {
    const loc = await start('up/one');
    const res = await fetch(`${base}${loc.replace('up/one', 'up/two')}`);
    expect(res.status).toBe(404);
  });
});

describe('manifests, tags, referrers, catalog', () => {
  it('PUT, HEAD, GET by tag and digest; DELETE by tag removes the tag only', async () => {
    const img = await pushImage(base, 'm/app', 'v1', [Buffer.from('layer-a')]);
    const head = await fetch(`${base}/v2/m/app/manifests/v1`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('docker-content-digest')).toBe(img.digest);
    expect(head.headers.get('content-length')).toBe(String(img.manifest.length));
    expect(head.headers.get('content-type')).toBe('application/vnd.oci.image.manifest.v1+json');
    const get = await fetch(`${base}/v2/m/app/manifests/${img.digest}`);
    expect(Buffer.from(await get.arrayBuffer())).toEqual(img.manifest);
    expect((await fetch(`${base}/v2/m/app/manifests/v1`, { method: 'DELETE' })).status).toBe(202);
    const gone = await fetch(`${base}/v2/m/app/manifests/v1`);
    expect(gone.status).toBe(404);
    expect(await errorCode(gone)).toBe('MANIFEST_UNKNOWN');
    expect((await fetch(`${base}/v2/m/app/manifests/${img.digest}`)).status).toBe(200);
  });
  it('DELETE by digest removes the manifest and its tags', async () => {
    const img = await pushImage(base, 'm/del', 'v1', [Buffer.from('layer-del')]);
    expect((await fetch(`${base}/v2/m/del/manifests/${img.digest}`, { method: 'DELETE' })).status).toBe(202);
    expect((await fetch(`${base}/v2/m/del/manifests/v1`)).status).toBe(404);
    expect(((await (await fetch(`${base}/v2/m/del/tags/list`)).json()) as { tags: string[] }).tags).toEqual([]);
  });
  it('PUT a Helm manifest without mediaType: the type comes from Content-Type', async () => {
    const config = Buffer.from('{"name":"c","version":"1.0.0"}');
    const layer = Buffer.from('chart bytes');
    const cd = await pushBlob(base, 'm/helm', config);
    const ld = await pushBlob(base, 'm/helm', layer);
    const body = JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: cd, size: config.length },
      layers: [{ mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', digest: ld, size: layer.length }],
    });
    const res = await fetch(`${base}/v2/m/helm/manifests/1.0.0`, { method: 'PUT', body, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
    expect(res.status).toBe(201);
    const head = await fetch(`${base}/v2/m/helm/manifests/1.0.0`, { method: 'HEAD' });
    expect(head.headers.get('content-type')).toBe('application/vnd.oci.image.manifest.v1+json');
  });
  it.each([
    ['not JSON', '{nope', 'MANIFEST_INVALID', 400],
    ['no config', JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [] }), 'MANIFEST_INVALID', 400],
    ['wrong schemaVersion', JSON.stringify({ schemaVersion: 1, mediaType: 'application/vnd.oci.image.manifest.v1+json' }), 'MANIFEST_INVALID', 400],
    [
      'missing blob',
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('absent'), size: 6 }, layers: [] }),
      'MANIFEST_BLOB_UNKNOWN',
      400,
    ],
    [
      'missing child manifest',
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256('nochild'), size: 7 }] }),
      'MANIFEST_BLOB_UNKNOWN',
      400,
    ],
  ])('PUT /v2/:name/manifests/:ref %s %s', async (_what, body, code, status) => {
    const contentType = body.includes('image.index') ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json';
    const res = await fetch(`${base}/v2/m/bad/manifests/t`, { method: 'PUT', body, headers: { 'Content-Type': contentType } });
    expect(res.status).toBe(status);
    expect(await errorCode(res)).toBe(code);
  });
  it('PUT /v2/:name/manifests/:ref over 4 MiB 413 SIZE_INVALID', async () => {
    const res = await fetch(`${base}/v2/m/big/manifests/t`, { method: 'PUT', body: Buffer.alloc(4 * 1024 * 1024 + 1, 32), headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe('SIZE_INVALID');
  });
  it('PUT by digest that does not match the body 400 DIGEST_INVALID', async () => {
    const res = await fetch(`${base}/v2/m/bad/manifests/${sha256('other')}`, { method: 'PUT', body: '{}', headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('DIGEST_INVALID');
  });
  it('PUT with an invalid tag 400 TAG_INVALID', async () => {
    const res = await fetch(`${base}/v2/m/bad/manifests/-bad`, { method: 'PUT', body: '{}' });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('TAG_INVALID');
  });
  it('GET and HEAD of a reference that is neither a tag nor a digest 404 MANIFEST_UNKNOWN, as distribution and zot answer', async () => {
    for (const reference of ['-bad', 'sha256:short', 'md5:' + 'a'.repeat(32), 'x'.repeat(129), 'sha256:' + 'A'.repeat(64)]) {
      const get = await fetch(`${base}/v2/m/bad/manifests/${encodeURIComponent(reference)}`);
      expect(get.status, reference).toBe(404);
      expect(await errorCode(get)).toBe('MANIFEST_UNKNOWN');
      const head = await fetch(`${base}/v2/m/bad/manifests/${encodeURIComponent(reference)}`, { method: 'HEAD' });
      expect(head.status, reference).toBe(404);
    }
    const del = await fetch(`${base}/v2/m/bad/manifests/-bad`, { method: 'DELETE' });
    expect(del.status).toBe(400);
    expect(await errorCode(del)).toBe('TAG_INVALID');
  });
  it('index with children, nested', async () => {
    const a = await pushImage(base, 'm/idx', 'a', [Buffer.from('amd64')]);
    const index = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: a.digest, size: a.manifest.length }] });
    expect((await fetch(`${base}/v2/m/idx/manifests/inner`, { method: 'PUT', body: index, headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json' } })).status).toBe(201);
    const outer = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha256(index), size: index.length }] });
    expect((await fetch(`${base}/v2/m/idx/manifests/outer`, { method: 'PUT', body: outer, headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json' } })).status).toBe(201);
  });
  it('GET /v2/:name/tags/list with n, last and Link', async () => {
    for (const tag of ['c', 'a', 'b', 'd']) await pushImage(base, 'm/tags', tag, []);
    const all = await fetch(`${base}/v2/m/tags/tags/list`);
    expect(await all.json()).toEqual({ name: 'm/tags', tags: ['a', 'b', 'c', 'd'] });
    const page = await fetch(`${base}/v2/m/tags/tags/list?n=2`);
    expect(((await page.json()) as { tags: string[] }).tags).toEqual(['a', 'b']);
    expect(page.headers.get('link')).toBe('</v2/m/tags/tags/list?n=2&last=b>; rel="next"');
    const rest = await fetch(`${base}/v2/m/tags/tags/list?n=2&last=b`);
    expect(((await rest.json()) as { tags: string[] }).tags).toEqual(['c', 'd']);
    expect(rest.headers.get('link')).toBeNull();
  });
  it('GET /v2/:name/tags/list unknown repository 404 NAME_UNKNOWN', async () => {
    const res = await fetch(`${base}/v2/never/pushed/tags/list`);
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe('NAME_UNKNOWN');
  });
  it('GET /v2/:name/tags/list?n=x 400', async () => {
    expect((await fetch(`${base}/v2/m/tags/tags/list?n=x`)).status).toBe(400);
  });
  it('referrers: OCI-Subject on PUT (subject not pushed yet), listing, artifactType filter', async () => {
    const subject = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256('future subject'), size: 14 };
    const sig = await pushImage(base, 'm/ref', 'sig', [], { artifactType: 'application/vnd.example.sig', subject });
    const sbom = await pushImage(base, 'm/ref', 'sbom', [], { artifactType: 'application/vnd.example.sbom', subject });
    const list = await fetch(`${base}/v2/m/ref/referrers/${subject.digest}`);
    expect(list.headers.get('content-type')).toBe('application/vnd.oci.image.index.v1+json');
    const body = (await list.json()) as { manifests: Array<{ digest: string; artifactType: string }> };
    expect(body.manifests.map((m) => m.digest).sort()).toEqual([sig.digest, sbom.digest].sort());
    const filtered = await fetch(`${base}/v2/m/ref/referrers/${subject.digest}?artifactType=application/vnd.example.sbom`);
    expect(filtered.headers.get('oci-filters-applied')).toBe('artifactType');
    expect(((await filtered.json()) as typeof body).manifests.map((m) => m.digest)).toEqual([sbom.digest]);
    const put = await fetch(`${base}/v2/m/ref/manifests/sig2`, {
      method: 'PUT',
      body: sig.manifest,
      headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(put.headers.get('oci-subject')).toBe(subject.digest);
  });
  it('GET /v2/_catalog with n, last and Link', async () => {
    const res = await fetch(`${base}/v2/_catalog`);
    const repos = ((await res.json()) as { repositories: string[] }).repositories;
    expect(repos).toContain('m/tags');
    expect([...repos].sort()).toEqual(repos);
    const page = await fetch(`${base}/v2/_catalog?n=1`);
    expect(((await page.json()) as { repositories: string[] }).repositories).toEqual([repos[0]]);
    expect(page.headers.get('link')).toBe(`</v2/_catalog?n=1&last=${encodeURIComponent(repos[0])}>; rel="next"`);
  });
});

describe('anonymous mount', () => {
  it('POST ?mount= without from 201 when a readable repository holds the blob', async () => {
    const d = await pushBlob(base, 'anon/src', Buffer.from('anonymous mount'));
    const res = await fetch(`${base}/v2/anon/dst/blobs/uploads/?mount=${d}`, { method: 'POST' });
    expect(res.status).toBe(201);
    const miss = await fetch(`${base}/v2/anon/dst/blobs/uploads/?mount=${sha256('held by nobody')}`, { method: 'POST' });
    expect(miss.status).toBe(202);
  });
});
