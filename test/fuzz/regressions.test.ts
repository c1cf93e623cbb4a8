/**
 * Counterexamples the hostile-input properties (hostile-requests.test.ts) shrank to, kept as
 * named cases: each name says the input, what perch did, and what it does now. They run with
 * the same checks as the properties (harness.ts sendHostile: the answer, no 5xx in the log,
 * stored bytes unchanged, nothing outside the storage root), on both targets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from './arbitraries';
import { inProcessTarget, processTarget, sendHostile, type Target } from './harness';
import { rawRequest, type RawRequest } from './raw-http';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

function put(path: string, body: Buffer, contentType: string): RawRequest {
  return { method: 'PUT', path, headers: [['Content-Type', contentType], ['Content-Length', String(body.length)]], body };
}

/**
 * What the client of a body cut short is told comes from the server's 'clientError' listener
 * (the body's end is a parse error): its OCI body is the parser-refusal cases' business below.
 * These are about the handler that was reading the body, which must not fail as a 5xx.
 */
const answered400 = (res: { status: number }) => expect(res.status).toBe(400);

describe.each([
  { label: 'in-process', start: inProcessTarget },
  { label: 'process', start: processTarget },
])('regressions, $label', ({ start }) => {
  let target: Target;
  beforeAll(async () => {
    target = await start();
  });
  afterAll(async () => {
    await target?.close();
  });

  /** The seeded image's manifest with `over` merged in: valid but for what `over` changes. */
  function manifest(over: Record<string, unknown>): Buffer {
    return Buffer.from(JSON.stringify({ ...JSON.parse(target.seeded.image.manifest.toString()), ...over }));
  }

  describe('manifests of a media type perch does not store (oci/manifest.ts)', () => {
    it('PUT with body mediaType " " and Content-Type application/json: was 201 (stored as type " "), now 400 MANIFEST_INVALID', async () => {
      await sendHostile(target, put('/v2/seed/image/manifests/v1', manifest({ mediaType: ' ' }), 'application/json'), { status: [400], codes: ['MANIFEST_INVALID'] });
    });

    it('PUT with Content-Type text/html and no mediaType: was 201, and GET served the pusher\'s bytes as text/html from the registry\'s origin; now 400', async () => {
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, config: JSON.parse(target.seeded.image.manifest.toString()).config, layers: [], annotations: { a: '<script>alert(1)</script>' } }));
      await sendHostile(target, put('/v2/seed/image/manifests/html', body, 'text/html'), { status: [400], codes: ['MANIFEST_INVALID'] });
      const res = await rawRequest(target.port, { method: 'GET', path: '/v2/seed/image/manifests/html' });
      expect(res.status).toBe(404);
    });

    it('PUT with mediaType "a/\\u0100": was 201, then every GET of it answered 500 (no header can carry U+0100); now 400, and GET 404', async () => {
      const body = manifest({ mediaType: 'a/\u0100' });
      await sendHostile(target, put(`/v2/seed/image/manifests/${sha256(body)}`, body, 'application/json'), { status: [400], codes: ['MANIFEST_INVALID'] });
      await sendHostile(target, { method: 'GET', path: `/v2/seed/image/manifests/${sha256(body)}` }, { status: [404], codes: ['MANIFEST_UNKNOWN'] });
    });

    it('PUT with a 5000-character mediaType: was 500 (the link record is a symlink, whose target is at most 4095 bytes) leaving its body in blobs/; now 400 and nothing stored', async () => {
      await sendHostile(target, put('/v2/seed/image/manifests/long', manifest({ mediaType: `application/${'x'.repeat(5000)}` }), 'application/json'), { status: [400], codes: ['MANIFEST_INVALID'] });
    });
  });

  describe('Range (handlers/blobs.ts)', () => {
    it('GET blob with Range "bytes=": was 200 with the whole blob, now 416 with the blob size', async () => {
      const blob = target.seeded.blobs[1];
      const res = await sendHostile(target, { method: 'GET', path: `/v2/${blob.repository}/blobs/${blob.digest}`, headers: [['Range', 'bytes=']] }, { status: [416], codes: ['BLOB_UPLOAD_INVALID'] });
      expect(res.headers['content-range']).toBe(`bytes */${blob.bytes.length}`);
    });

    it('HEAD blob with Range "bytes=1 - 2" (spaces inside): was 200, now 416', async () => {
      const blob = target.seeded.blobs[0];
      await sendHostile(target, { method: 'HEAD', path: `/v2/${blob.repository}/blobs/${blob.digest}`, headers: [['Range', 'bytes=1 - 2']] }, { status: [416] });
    });
  });

  describe('pagination (handlers/validate.ts)', () => {
    it('GET /v2/_catalog?n=0&last=&last=: was 200 (the first last picked), now 400 PAGINATION_NUMBER_INVALID', async () => {
      await sendHostile(target, { method: 'GET', path: '/v2/_catalog?n=0&last=&last=' }, { status: [400], codes: ['PAGINATION_NUMBER_INVALID'] });
    });

    it('GET /v2/seed/image/tags/list?n=1&n=1000: was 200 (the first n picked), now 400 PAGINATION_NUMBER_INVALID', async () => {
      await sendHostile(target, { method: 'GET', path: '/v2/seed/image/tags/list?n=1&n=1000' }, { status: [400], codes: ['PAGINATION_NUMBER_INVALID'] });
    });
  });

  describe('bodies cut short (http/request-body.ts, storage/body-pump.ts)', () => {
    it('PUT manifest with Content-Length 2, 1 byte sent, then the client stops sending: was a 500 in the log ("request failed", aborted), now a 4xx', async () => {
      await sendHostile(target, { method: 'PUT', path: '/v2/seed/image/manifests/v1', headers: [['Content-Length', '2']], body: Buffer.from([0]), endAfterBody: true }, { routed: false, check: answered400 });
    });

    it('PATCH upload with Content-Length 2, 1 byte sent, then the client stops sending: was a 500 in the log, now a 4xx, the session unchanged', async () => {
      const { location } = target.seeded.otherSession;
      await sendHostile(target, { method: 'PATCH', path: location, headers: [['Content-Length', '2']], body: Buffer.from([0]), endAfterBody: true }, { routed: false, check: answered400 });
      const res = await fetch(`${target.url}${location}`);
      expect(res.headers.get('range')).toBe(`0-${'partial'.length - 1}`);
    });
  });

  describe('requests that never reach a route (http/respond.ts writeClientError and refuseConnect, which the server must listen with)', () => {
    it('PUT manifest with chunked body "zz\\r\\nab\\r\\n0\\r\\n\\r\\n": was Node\'s bare 400 without an OCI body (and a 500 in the log), now 400 SIZE_INVALID with an OCI body', async () => {
      const request: RawRequest = { method: 'PUT', path: '/v2/seed/image/manifests/v1', headers: [['Transfer-Encoding', 'chunked']], body: Buffer.from('zz\r\nab\r\n0\r\n\r\n'), endAfterBody: true };
      await sendHostile(target, request, { routed: false, status: [400], codes: ['SIZE_INVALID'] });
    });

    it('GET /v2/_catalog?n= 1 (a raw space in the request line): was Node\'s bare 400, now 400 with an OCI body', async () => {
      await sendHostile(target, { method: 'GET', path: '/v2/_catalog?n= 1' }, { routed: false, status: [400], codes: ['UNSUPPORTED'] });
    });

    it('GET with a request line of 17000 bytes: was Node\'s bare 431, now 431 with an OCI body', async () => {
      await sendHostile(target, { method: 'GET', path: `/v2/${'a'.repeat(17_000)}/tags/list` }, { routed: false, status: [431], codes: ['SIZE_INVALID'] });
    });

    it.each(['/v2/', '127.0.0.1:80'])('CONNECT %s: was a connection closed without an answer, now 405 UNSUPPORTED', async (path) => {
      await sendHostile(target, { method: 'CONNECT', path }, { routed: false, status: [405], codes: ['UNSUPPORTED'] });
    });
  });

  describe('kept as found (not a bug)', () => {
    it('GET /v2/a%0D%0Aa/manifests/v1 (a line break in the decoded name): 404 NOT_FOUND, since no route pattern\'s `.` matches it; never a 5xx', async () => {
      await sendHostile(target, { method: 'GET', path: '/v2/a%0D%0Aa/manifests/v1' }, { status: [404], codes: ['NOT_FOUND'] });
    });
  });
});
