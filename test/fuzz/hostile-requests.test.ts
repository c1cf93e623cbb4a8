/**
 * Property-based hostile input against every route, on the registry in this process and on
 * the bundled server as a child process (the same properties, fewer runs against the
 * process). Generators are in arbitraries.ts, the checks made after every request in
 * harness.ts: a 4xx with an OCI error body, no 5xx in the server's log, stored bytes
 * unchanged, nothing written outside the storage root; after each property the server is alive.
 *
 * FUZZ_SEED=<n> replays a run (fast-check prints the seed and the shrunk counterexample of a
 * failure). A counterexample that once failed is kept as a named case in regressions.test.ts.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  absentDigest,
  absentTag,
  badContentRange,
  badPagination,
  badRange,
  decoded,
  disallowedMethod,
  foreignUnitRange,
  hostileManifest,
  hostileName,
  hostileReference,
  hostileTag,
  hostileUploadId,
  malformedDigest,
  malformedHttp,
  outOfRangeLast,
  sha256,
  SPEC_TAG,
} from './arbitraries';
import { assertRefused, describeRequest, inProcessTarget, processTarget, runOptions, sendHostile, snapshot, type Snapshot, type Target } from './harness';
import { rawRequest, type RawRequest } from './raw-http';

const OCTETS: [string, string] = ['Content-Type', 'application/octet-stream'];
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

function withBody(method: string, path: string, body: Buffer, headers: Array<[string, string]> = []): RawRequest {
  return { method, path, headers: [...headers, ['Content-Length', String(body.length)]], body };
}

/** Every repository route, with the repository name as the only thing that varies. */
function repositoryRoutes(target: Target): Array<{ route: string; build: (name: string) => RawRequest }> {
  const s = target.seeded;
  const blob = s.heldBlob.digest;
  const bytes = Buffer.from('bytes for a monolithic push');
  const routes = [
    { route: 'GET manifest', build: (n: string) => ({ method: 'GET', path: `/v2/${n}/manifests/${s.image.tag}` }) },
    { route: 'HEAD manifest', build: (n: string) => ({ method: 'HEAD', path: `/v2/${n}/manifests/${s.image.digest}` }) },
    { route: 'PUT manifest', build: (n: string) => withBody('PUT', `/v2/${n}/manifests/${s.image.tag}`, s.image.manifest, [['Content-Type', OCI_MANIFEST]]) },
    { route: 'DELETE manifest', build: (n: string) => ({ method: 'DELETE', path: `/v2/${n}/manifests/${s.image.digest}` }) },
    { route: 'GET blob', build: (n: string) => ({ method: 'GET', path: `/v2/${n}/blobs/${blob}` }) },
    { route: 'HEAD blob', build: (n: string) => ({ method: 'HEAD', path: `/v2/${n}/blobs/${blob}` }) },
    { route: 'DELETE blob', build: (n: string) => ({ method: 'DELETE', path: `/v2/${n}/blobs/${blob}` }) },
    { route: 'POST upload', build: (n: string) => ({ method: 'POST', path: `/v2/${n}/blobs/uploads/` }) },
    { route: 'POST monolithic', build: (n: string) => withBody('POST', `/v2/${n}/blobs/uploads/?digest=${sha256(bytes)}`, bytes, [OCTETS]) },
    { route: 'POST mount', build: (n: string) => ({ method: 'POST', path: `/v2/${n}/blobs/uploads/?mount=${blob}&from=seed/image` }) },
    { route: 'GET upload', build: (n: string) => ({ method: 'GET', path: `/v2/${n}/blobs/uploads/${s.otherSession.id}` }) },
    { route: 'PATCH upload', build: (n: string) => withBody('PATCH', `/v2/${n}/blobs/uploads/${s.otherSession.id}`, bytes, [OCTETS]) },
    { route: 'PUT upload', build: (n: string) => withBody('PUT', `/v2/${n}/blobs/uploads/${s.otherSession.id}?digest=${sha256(bytes)}`, bytes, [OCTETS]) },
    { route: 'DELETE upload', build: (n: string) => ({ method: 'DELETE', path: `/v2/${n}/blobs/uploads/${s.otherSession.id}` }) },
    { route: 'GET tags', build: (n: string) => ({ method: 'GET', path: `/v2/${n}/tags/list` }) },
    { route: 'GET referrers', build: (n: string) => ({ method: 'GET', path: `/v2/${n}/referrers/${s.subject}` }) },
  ];
  if (target.label === 'process') {
    routes.push(
      { route: 'GET UI tags', build: (n: string) => ({ method: 'GET', path: `/_ui/api/repositories/${n}/tags/list` }) },
      { route: 'GET UI manifest', build: (n: string) => ({ method: 'GET', path: `/_ui/api/repositories/${n}/manifests/${s.image.tag}` }) },
    );
  }
  return routes;
}

/** Every route with the methods it allows (HEAD goes with GET), and a path that reaches it. */
function allRoutes(target: Target): Array<{ path: string; allowed: string[] }> {
  const s = target.seeded;
  const routes = [
    { path: '/livez', allowed: ['GET'] },
    { path: '/readyz', allowed: ['GET'] },
    { path: '/startupz', allowed: ['GET'] },
    { path: '/v2/', allowed: ['GET'] },
    { path: '/v2/token', allowed: ['GET', 'POST'] },
    { path: '/v2/_catalog', allowed: ['GET'] },
    { path: '/v2/seed/image/blobs/uploads/', allowed: ['POST'] },
    { path: s.otherSession.location, allowed: ['GET', 'PATCH', 'PUT', 'DELETE'] },
    { path: `/v2/seed/image/blobs/${s.heldBlob.digest}`, allowed: ['GET', 'DELETE'] },
    { path: `/v2/seed/image/manifests/${s.image.tag}`, allowed: ['GET', 'PUT', 'DELETE'] },
    { path: '/v2/seed/nested/deep.name_x-y/tags/list', allowed: ['GET'] },
    { path: `/v2/seed/image/referrers/${s.subject}`, allowed: ['GET'] },
  ];
  if (target.label === 'process') {
    routes.push(
      { path: '/health', allowed: ['GET'] },
      { path: '/metrics', allowed: ['GET'] },
      { path: '/', allowed: ['GET'] },
      { path: '/_ui/app.js', allowed: ['GET'] },
      { path: '/_ui/login', allowed: ['GET'] },
      { path: '/_ui/api/repositories', allowed: ['GET'] },
      { path: '/_ui/api/repositories/seed/image/tags/list', allowed: ['GET'] },
      { path: `/_ui/api/repositories/seed/image/manifests/${s.image.tag}`, allowed: ['GET'] },
    );
  }
  return routes;
}

async function startSession(target: Target, repository: string): Promise<string> {
  const res = await fetch(`${target.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  expect(res.status).toBe(202);
  return res.headers.get('location')!;
}

const TARGETS = [
  { label: 'in-process', start: inProcessTarget, runs: Number(process.env.FUZZ_RUNS ?? 100) },
  { label: 'process', start: processTarget, runs: Number(process.env.FUZZ_PROCESS_RUNS ?? 30) },
] as const;

describe.each(TARGETS)('hostile requests, $label', ({ start, runs }) => {
  let target: Target;
  let seeded: Snapshot;
  beforeAll(async () => {
    target = await start();
    seeded = await snapshot(target.root);
  });
  afterAll(async () => {
    await target?.close();
  });

  /** Runs the property, then checks the server is alive. */
  async function check<Ts>(numRuns: number, prop: fc.IAsyncProperty<Ts>): Promise<void> {
    await fc.assert(prop, runOptions(numRuns) as fc.Parameters<Ts>);
    await target.assertAlive();
  }

  it('names: invalid grammar, percent-encoded / and .., over-long, non-ASCII, wrong case, on every repository route: 400 NAME_INVALID (404 where no route matches)', async () => {
    const routes = repositoryRoutes(target);
    await check(runs * 2, fc.asyncProperty(hostileName(target.seeded.repositories), fc.constantFrom(...routes), async (name, route) => {
      // 404 NOT_FOUND when the decoded name holds a line break, which no route pattern's `.` matches.
      await sendHostile(target, route.build(name), { status: [400, 404], codes: ['NAME_INVALID', 'NOT_FOUND'] });
    }));
  });

  it('references: tags and digests that name nothing, on manifests, blobs, referrers and uploads', async () => {
    const s = target.seeded;
    const digests = s.digests;
    const manifestBody = s.image.manifest;
    const repository = fc.constantFrom(...s.repositories);
    const cases = fc.oneof(
      fc.tuple(repository, hostileReference(digests), fc.constantFrom('GET', 'HEAD')).map(([repo, ref, method]) => ({
        request: { method, path: `/v2/${repo}/manifests/${ref}` } as RawRequest,
        expected: { status: [404], codes: ['MANIFEST_UNKNOWN', 'NOT_FOUND'] },
      })),
      fc.tuple(repository, hostileReference(digests)).map(([repo, ref]) => ({
        request: { method: 'DELETE', path: `/v2/${repo}/manifests/${ref}` } as RawRequest,
        expected: { status: [400, 404], codes: ['TAG_INVALID', 'DIGEST_INVALID', 'MANIFEST_UNKNOWN', 'NOT_FOUND'] },
      })),
      // A manifest that is fine but for the reference it is put under.
      // (A bare hex string is malformed as a digest but a valid tag: the filter keeps it out.)
      fc.tuple(fc.oneof(hostileTag, malformedDigest(digests).filter((d) => !SPEC_TAG.test(decoded(d))), absentDigest)).map(([ref]) => ({
        request: withBody('PUT', `/v2/seed/image/manifests/${ref}`, manifestBody, [['Content-Type', OCI_MANIFEST]]),
        expected: { status: [400, 404], codes: ['TAG_INVALID', 'DIGEST_INVALID', 'NOT_FOUND'] },
      })),
      // Blobs: malformed digests, absent ones, manifests (not blobs), blobs of another repository.
      fc.tuple(fc.constantFrom('seed/image', 'seed/nested/deep.name_x-y'), fc.oneof(malformedDigest(digests), absentDigest, fc.constant(s.image.digest), fc.constant(s.foreignBlob.digest)), fc.constantFrom('GET', 'HEAD', 'DELETE')).map(
        ([repo, digest, method]) => ({
          request: { method, path: `/v2/${repo}/blobs/${digest}` } as RawRequest,
          expected: { status: [400, 404], codes: ['DIGEST_INVALID', 'BLOB_UNKNOWN', 'NOT_FOUND'] },
        }),
      ),
      fc.tuple(repository, malformedDigest(digests)).map(([repo, digest]) => ({
        request: { method: 'GET', path: `/v2/${repo}/referrers/${digest}` } as RawRequest,
        expected: { status: [400, 404], codes: ['DIGEST_INVALID', 'NOT_FOUND'] },
      })),
      fc.tuple(malformedDigest(digests), fc.constantFrom('digest', 'mount')).map(([digest, param]) => ({
        request: withBody('POST', `/v2/seed/image/blobs/uploads/?${param}=${digest}`, Buffer.from('x'), [OCTETS]),
        expected: { status: [400], codes: ['DIGEST_INVALID'] },
      })),
      // Upload ids that are no session of this repository (one is a live session of seed/other).
      fc.tuple(hostileUploadId(s.otherSession.id), fc.constantFrom('GET', 'PATCH', 'PUT', 'DELETE'), absentDigest).map(([id, method, digest]) => ({
        request: (method === 'GET' || method === 'DELETE'
          ? { method, path: `/v2/seed/image/blobs/uploads/${id}` }
          : withBody(method, `/v2/seed/image/blobs/uploads/${id}${method === 'PUT' ? `?digest=${digest}` : ''}`, Buffer.from('chunk'), [OCTETS])) as RawRequest,
        expected: { status: [404], codes: ['BLOB_UPLOAD_UNKNOWN', 'NOT_FOUND'] },
      })),
    );
    // The browse UI's manifest view (the process serves it) reads references the same way.
    const ui = fc.tuple(hostileReference(digests)).map(([ref]) => ({ request: { method: 'GET', path: `/_ui/api/repositories/seed/image/manifests/${ref}` } as RawRequest, expected: { status: [400, 404] } }));
    const all = target.label === 'process' ? fc.oneof({ weight: 8, arbitrary: cases }, { weight: 1, arbitrary: ui }) : cases;
    await check(runs * 2, fc.asyncProperty(all, async ({ request, expected }) => {
      await sendHostile(target, request, expected);
    }));
  });

  it('manifests: invalid JSON, wrong types, deep nesting, huge arrays, past the size limit, unknown media types, missing blobs and subjects: 400 or 413', async () => {
    const s = target.seeded;
    const fixtures = { heldBlob: s.heldBlob, foreignBlob: s.foreignBlob, heldManifest: { digest: s.image.digest, size: s.image.manifest.length, mediaType: OCI_MANIFEST } };
    await check(
      runs,
      fc.asyncProperty(
        hostileManifest(fixtures),
        fc.constantFrom('existing tag', 'new tag', 'digest'),
        absentTag,
        fc.boolean(),
        async (manifest, refKind, newTag, chunked) => {
          const ref = refKind === 'existing tag' ? s.image.tag : refKind === 'new tag' ? newTag : sha256(manifest.body);
          const path = `/v2/${s.image.repository}/manifests/${ref}`;
          const request: RawRequest = chunked
            ? { method: 'PUT', path, headers: [['Content-Type', manifest.contentType], ['Transfer-Encoding', 'chunked']], body: chunk(manifest.body) }
            : withBody('PUT', path, manifest.body, [['Content-Type', manifest.contentType]]);
          // The failure message names what makes the manifest hostile.
          const named = { ...request, path: `${request.path} (${manifest.kind})` };
          await sendHostile(target, request, { check: (res) => assertRefused(named, res, { status: [400, 413], codes: ['MANIFEST_INVALID', 'MANIFEST_BLOB_UNKNOWN', 'SIZE_INVALID'] }) });
        },
      ),
    );
  });

  it('Range: past the end, first after last, malformed: 416 with the blob size; another unit is ignored', async () => {
    const blobs = target.seeded.blobs;
    await check(
      runs,
      fc.asyncProperty(
        fc.constantFrom(...blobs).chain((blob) => fc.tuple(fc.constant(blob), fc.oneof({ weight: 5, arbitrary: badRange(blob.bytes.length).map((r) => ({ range: r, foreign: false })) }, { weight: 1, arbitrary: foreignUnitRange.map((r) => ({ range: r, foreign: true })) }))),
        fc.constantFrom('GET', 'HEAD'),
        async ([blob, { range, foreign }], method) => {
          const request: RawRequest = { method, path: `/v2/${blob.repository}/blobs/${blob.digest}`, headers: [['Range', range]] };
          if (foreign) {
            // RFC 9110 §14.2: a server MUST ignore a Range in a unit it does not understand.
            await sendHostile(target, request, {
              check: (res) => {
                expect(res.status, `${describeRequest(request)}`).toBe(200);
                if (method === 'GET') expect(sha256(res.body)).toBe(sha256(blob.bytes));
              },
            });
            return;
          }
          const res = await sendHostile(target, request, { status: [416], codes: ['BLOB_UPLOAD_INVALID'] });
          expect(res.headers['content-range'], describeRequest(request)).toBe(`bytes */${blob.bytes.length}`);
        },
      ),
    );
  });

  it('uploads: Content-Range out of order, overlapping or malformed, digests that do not match or are malformed: 4xx, the session as the store keeps it', async () => {
    const flaw = fc.oneof(
      fc.record({ kind: fc.constant('content-range' as const), chunk: fc.uint8Array({ minLength: 1, maxLength: 64 }), first: fc.uint8Array({ minLength: 0, maxLength: 32 }), chunked: fc.boolean() }).chain((c) =>
        badContentRange(c.first.length, c.chunk.length).map((contentRange) => ({ ...c, contentRange })),
      ),
      fc.record({ kind: fc.constantFrom('put-mismatch' as const, 'post-mismatch' as const), chunk: fc.uint8Array({ minLength: 0, maxLength: 64 }), first: fc.uint8Array({ minLength: 0, maxLength: 32 }), wrong: absentDigest }),
      fc.record({ kind: fc.constant('put-malformed' as const), digest: fc.option(malformedDigest(target.seeded.digests), { nil: undefined }), first: fc.uint8Array({ minLength: 0, maxLength: 32 }) }),
    );
    await check(runs, fc.asyncProperty(flaw, async (f) => {
      const first = Buffer.from(f.first);
      if (f.kind === 'post-mismatch') {
        const body = Buffer.concat([first, Buffer.from(f.chunk)]);
        const digest = f.wrong === sha256(body) ? sha256(Buffer.concat([body, Buffer.from('x')])) : f.wrong;
        await sendHostile(target, withBody('POST', `/v2/seed/image/blobs/uploads/?digest=${digest}`, body, [OCTETS]), { status: [400], codes: ['DIGEST_INVALID'] });
        return;
      }
      // A session with `first` in it, started and filled as a client would.
      const location = await startSession(target, 'seed/image');
      if (first.length) {
        const res = await fetch(`${target.url}${location}`, { method: 'PATCH', body: new Uint8Array(first), headers: { 'Content-Type': 'application/octet-stream' } });
        expect(res.status).toBe(202);
      }
      if (f.kind === 'content-range') {
        const chunkBytes = Buffer.from(f.chunk);
        const request: RawRequest = f.chunked
          ? { method: 'PATCH', path: location, headers: [OCTETS, ['Content-Range', f.contentRange], ['Transfer-Encoding', 'chunked']], body: chunk(chunkBytes) }
          : withBody('PATCH', location, chunkBytes, [OCTETS, ['Content-Range', f.contentRange]]);
        await sendHostile(target, request, { status: [400, 416], codes: ['BLOB_UPLOAD_INVALID', 'SIZE_INVALID'] });
      } else if (f.kind === 'put-mismatch') {
        const rest = Buffer.from(f.chunk);
        const digest = f.wrong === sha256(Buffer.concat([first, rest])) ? sha256('other') : f.wrong;
        await sendHostile(target, withBody('PUT', `${location}?digest=${digest}`, rest, [OCTETS]), { status: [400], codes: ['DIGEST_INVALID'] });
        // The store keeps a session whose digest did not match (storage/types.ts finishUpload),
        // with the PUT's own chunk appended: it holds `first` and `rest`, or is gone.
        const after = await fetch(`${target.url}${location}`);
        if (after.status !== 404) {
          expect(after.status).toBe(204);
          expect(after.headers.get('range')).toBe(`0-${Math.max(0, first.length + rest.length - 1)}`);
          expect((await fetch(`${target.url}${location}`, { method: 'DELETE' })).status).toBe(204);
        }
        return;
      } else if (f.kind === 'put-malformed') {
        const query = f.digest === undefined ? '' : `?digest=${f.digest}`;
        await sendHostile(target, withBody('PUT', `${location}${query}`, Buffer.alloc(0), [OCTETS]), { status: [400], codes: ['DIGEST_INVALID'] });
      }
      // The refused request left the session as it was: it still holds `first`.
      const status = await fetch(`${target.url}${location}`);
      expect(status.status, `${location} after the refusal`).toBe(204);
      expect(status.headers.get('range')).toBe(`0-${Math.max(0, first.length - 1)}`);
      expect((await fetch(`${target.url}${location}`, { method: 'DELETE' })).status).toBe(204);
    }));
  });

  it('pagination: n out of range or malformed, n or last repeated: 400 PAGINATION_NUMBER_INVALID', async () => {
    const lists = ['/v2/_catalog', ...target.seeded.repositories.map((r) => `/v2/${r}/tags/list`)];
    await check(runs, fc.asyncProperty(fc.constantFrom(...lists), badPagination, async (list, query) => {
      await sendHostile(target, { method: 'GET', path: `${list}?${query}` }, { status: [400], codes: ['PAGINATION_NUMBER_INVALID'] });
    }));
  });

  it('pagination: last past the end, before the start, over-long or non-ASCII is a valid request (200, a possibly empty page)', async () => {
    const s = target.seeded;
    await check(Math.ceil(runs / 2), fc.asyncProperty(fc.constantFrom(...s.repositories), outOfRangeLast, fc.option(fc.nat({ max: 5 }), { nil: undefined }), async (repository, last, n) => {
      const request: RawRequest = { method: 'GET', path: `/v2/${repository}/tags/list?last=${last}${n === undefined ? '' : `&n=${n}`}` };
      await sendHostile(target, request, {
        check: (res) => {
          expect(res.status, describeRequest(request)).toBe(200);
          const tags = (JSON.parse(res.body.toString()) as { tags: string[] }).tags;
          const decodedLast = decodeURIComponent(last);
          const expected = s.tags[repository].filter((t) => t > decodedLast);
          expect(tags).toEqual(n === undefined ? expected : expected.slice(0, n));
        },
      });
    }));
  });

  it('methods a route does not allow: 405 UNSUPPORTED', async () => {
    const routes = allRoutes(target);
    await check(
      runs,
      fc.asyncProperty(
        fc.constantFrom(...routes).chain((route) => fc.tuple(fc.constant(route), disallowedMethod(route.allowed))),
        async ([route, method]) => {
          await sendHostile(target, { method, path: route.path, headers: [['Content-Length', '0']] }, { status: [405], codes: ['UNSUPPORTED'] });
        },
      ),
    );
  });

  it('requests HTTP itself refuses (bad Content-Length, broken chunks, a body cut short, unknown methods, raw non-ASCII, an over-long request line): 4xx with an OCI error body', async () => {
    const s = target.seeded;
    const paths = { manifest: `/v2/seed/image/manifests/${s.image.tag}`, upload: s.otherSession.location, blob: `/v2/seed/image/blobs/${s.heldBlob.digest}` };
    await check(runs, fc.asyncProperty(malformedHttp(paths), async (m) => {
      const request: RawRequest = { method: m.method, path: m.path, headers: m.headers, body: m.body, endAfterBody: m.endAfterBody };
      await sendHostile(target, request, { routed: false, check: (res) => assertRefused({ ...request, path: `${request.path} (${m.kind})` }, res) });
    }));
    // The live session the cut-short PATCHes aimed at holds what it held before them.
    const res = await fetch(`${target.url}${s.otherSession.location}`);
    expect(res.status).toBe(204);
    expect(res.headers.get('range')).toBe(`0-${'partial'.length - 1}`);
  });

  it('the stored data is byte-identical to the seed after every property', async () => {
    expect(await snapshot(target.root)).toEqual(seeded);
    await target.assertAlive();
  });

  it('(not refused) a manifest whose subject does not exist is accepted, as the spec requires, and listed as a referrer', async () => {
    // distribution spec, "Push": "A registry MUST initially accept an otherwise valid manifest
    // with a subject field that references a manifest that does not exist in the repository".
    const s = target.seeded;
    const missing = sha256('a subject nobody pushed');
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: s.heldBlob.digest, size: s.heldBlob.size },
        layers: [],
        subject: { mediaType: OCI_MANIFEST, digest: missing, size: 10 },
      }),
    );
    const res = await rawRequest(target.port, withBody('PUT', `/v2/seed/image/manifests/${sha256(body)}`, body, [['Content-Type', OCI_MANIFEST]]));
    expect(res.status).toBe(201);
    expect(res.headers['oci-subject']).toBe(missing);
    const referrers = (await (await fetch(`${target.url}/v2/seed/image/referrers/${missing}`)).json()) as { manifests: Array<{ digest: string }> };
    expect(referrers.manifests.map((m) => m.digest)).toEqual([sha256(body)]);
  });
});

/** `body` in chunked transfer encoding, in pieces of up to 64 KiB. */
function chunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < body.length; at += 65536) {
    const piece = body.subarray(at, at + 65536);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}
