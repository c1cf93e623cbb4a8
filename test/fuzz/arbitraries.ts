/**
 * Generators of hostile input for the registry API, each comment saying what class of hostility
 * it produces. Every value is in wire form (what goes on the request line or in a header),
 * and every generator is built so that the request it ends up in is refused by a correct
 * registry: a name or reference that *decodes* to something valid is filtered out, since
 * perch (like distribution, whose router matches the decoded path) reads `%2F` as `/`.
 *
 * The grammars below are the distribution spec's, written out here rather than imported from
 * registry-image/src, so a bug in perch's own validators cannot hide itself.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';

// ---- the spec's grammars ----

/** distribution spec, "Pulling manifests": `<name>`. */
export const SPEC_NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
/** distribution spec, "Pulling manifests": `<reference>` as a tag. */
export const SPEC_TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** The two algorithms perch accepts (image spec "Digests": registered algorithms, lower-case hex). */
export const SPEC_DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
export const MAX_NAME_LENGTH = 255;

/** What the server matches routes against: the path percent-decoded, or as sent when it cannot be decoded. */
export function decoded(wire: string): string {
  try {
    return decodeURIComponent(wire);
  } catch {
    return wire;
  }
}

export function isSpecName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && SPEC_NAME.test(name);
}

/**
 * Path segments that are words of the route table: a decoded value holding one of them is a
 * different request (`a%2Fmanifests%2Fv1` is the repository `.../a`, tag `v1`), not a hostile
 * value for the route it was put in, so generators leave them out.
 */
const ROUTE_WORDS = new Set(['v2', 'manifests', 'blobs', 'uploads', 'tags', 'list', 'referrers', '_catalog', 'token', '_ui', 'api', 'repositories']);
function hasRouteWord(value: string): boolean {
  return value.split('/').some((segment) => ROUTE_WORDS.has(segment));
}

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
export function sha512(data: Uint8Array | string): string {
  return `sha512:${createHash('sha512').update(data).digest('hex')}`;
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';

function stringOf(chars: string, minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...chars), minLength, maxLength });
}

/** A valid name component, for building hostile names around valid parts. */
export const validComponent = stringOf(LOWER, 1, 12);

/** Non-ASCII text percent-encoded as UTF-8 (é, 中, emoji, right-to-left override, fullwidth slash). */
const encodedNonAscii = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }).filter((s) => /[^\x00-\x7f]/.test(s)),
  fc.constantFrom('é', 'ß', '中', '🐳', '\u202e', '\uff0f', '\u2215', 'İ', 'ǅ'),
).map((s) => encodeURIComponent(s));

/** Escapes that are not UTF-8 (overlong `/`, a lone surrogate, 0xFF) or control characters. */
const brokenEscape = fc.constantFrom('%C0%AF', '%E0%80%AF', '%ED%A0%80', '%FF', '%fe', '%', '%2', '%G0', '%00', '%0A', '%0D%0A', '%09', '%7F');

/** `..`, `.` and `/` in every spelling a path decoder might resolve: raw, %2e, %2F, double-encoded, backslash. */
const traversalToken = fc.constantFrom('..', '.', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%2e', '%2F', '%2f', '%2F%2F', '%252F', '%252e%252e', '%5C', '%5c..%5c', '..%2F', '%2e%2e%2f');

// ---- repository names ----

/**
 * Names breaking the grammar in plain ASCII: upper case, separators doubled, leading or
 * trailing, empty or dot-only components, components starting with `_` (the storage layout's
 * own folders), characters outside [a-z0-9._-/].
 */
const grammarBreakingName = stringOf("abz09._-/ABZ~!$&'()*+,;=:@", 1, 40);

/** Valid components joined around `..`, `.` and `/` in raw and percent-encoded spellings. */
const traversalName = fc
  .array(fc.oneof({ weight: 2, arbitrary: validComponent }, { weight: 3, arbitrary: traversalToken }), { minLength: 1, maxLength: 6 })
  .chain((parts) => fc.array(fc.constantFrom('/', '%2F', '%2f', ''), { minLength: parts.length, maxLength: parts.length }).map((joins) => parts.map((p, i) => (i ? joins[i] : '') + p).join('')));

/** Valid components past the 255-character limit on the whole name (up to ~8 KB, under Node's 16 KB header limit). */
const overLongName = fc.tuple(validComponent, fc.integer({ min: MAX_NAME_LENGTH + 1, max: 8000 })).map(([component, length]) => {
  let name = component;
  while (name.length < length) name += `/${component}`;
  return name;
});

/** A valid name with non-ASCII text or a broken escape inserted somewhere. */
const nonAsciiName = fc.tuple(validComponent, fc.oneof(encodedNonAscii, brokenEscape), validComponent, fc.constantFrom('', '/')).map(([a, bad, b, sep]) => `${a}${sep}${bad}${b}`);

/** A seeded repository's name with its case changed (`Seed/Image`): the right repository in the wrong case. */
export function caseChangedName(names: string[]): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...names), fc.array(fc.boolean(), { minLength: 1, maxLength: 40 })).map(([name, flips]) =>
    [...name].map((c, i) => (flips[i % flips.length] ? c.toUpperCase() : c)).join(''),
  );
}

/** Every class of hostile name, wire form; the decoded form is never a valid name. */
export function hostileName(seededNames: string[]): fc.Arbitrary<string> {
  return fc
    .oneof(grammarBreakingName, traversalName, overLongName, nonAsciiName, caseChangedName(seededNames))
    .filter((wire) => !wire.includes('?') && !wire.includes('#') && !wire.includes(' '))
    .filter((wire) => !isSpecName(decoded(wire)) && !hasRouteWord(decoded(wire)));
}

// ---- tags and references ----

/** Tags outside the grammar: leading `.` or `-`, characters outside [A-Za-z0-9._-], 129 and more characters. */
const grammarBreakingTag = fc.oneof(
  fc.tuple(fc.constantFrom('.', '-', '..', '.-'), stringOf('abcXYZ019._-', 0, 20)).map(([a, b]) => a + b),
  stringOf("aZ09._-~!$&'()*+,;=@", 1, 30),
  fc.integer({ min: 129, max: 4000 }).map((n) => 'v'.repeat(n)),
);

/** Tags with percent-encoded `/`, `..`, NUL, CR LF or non-ASCII text. */
const encodedTag = fc.oneof(
  fc.tuple(stringOf('abc01', 0, 6), fc.oneof(traversalToken, encodedNonAscii, brokenEscape), stringOf('abc01', 0, 6)).map(([a, t, b]) => a + t + b),
  traversalName,
);

/** Tags (wire form) that are not tags once decoded, and not digests either. */
export const hostileTag = fc
  .oneof(grammarBreakingTag, encodedTag)
  .filter((wire) => wire.length > 0 && !wire.includes('?') && !wire.includes('#') && !wire.includes(' '))
  .filter((wire) => {
    const tag = decoded(wire);
    return !SPEC_TAG.test(tag) && !SPEC_DIGEST.test(tag) && !hasRouteWord(tag);
  });

/** Valid tags that nothing was pushed under (they start with `absent-`, which no seeded tag does). */
export const absentTag = stringOf('abcXYZ019._-', 0, 40).map((s) => `absent-${s}`);

/**
 * Digests that break the OCI grammar: upper-case hex (of a seeded digest, so only the case is
 * wrong), algorithms perch does not take, encoded parts of the wrong length, non-hex digits,
 * missing or doubled parts, sha256 and sha512 lengths swapped.
 */
export function malformedDigest(seededDigests: string[]): fc.Arbitrary<string> {
  const hex = (min: number, max: number) => stringOf(HEX, min, max);
  return fc
    .oneof(
      fc.constantFrom(...seededDigests).map((d) => d.toUpperCase()),
      fc.tuple(fc.constantFrom(...seededDigests), fc.nat()).map(([d, i]) => {
        const colon = d.indexOf(':') + 1;
        const at = colon + (i % (d.length - colon));
        return d.slice(0, at) + d[at].toUpperCase().replace(/[0-9]/, 'A') + d.slice(at + 1);
      }),
      fc.tuple(fc.constantFrom('md5', 'sha1', 'sha384', 'SHA256', 'Sha512', 'sha256+b64', 'blake3', 'sha-256', ''), hex(32, 128)).map(([a, h]) => `${a}:${h}`),
      fc.tuple(fc.constantFrom('sha256', 'sha512'), fc.oneof(hex(0, 63), hex(65, 127), hex(129, 300))).map(([a, h]) => `${a}:${h}`),
      fc.constantFrom('sha256', 'sha512').map((a) => `${a}:${'0'.repeat(a === 'sha256' ? 128 : 64)}`),
      fc.tuple(fc.constantFrom('sha256', 'sha512'), hex(64, 64), fc.constantFrom('g', 'z', '-', '.', '%00', '%0A', ':', '%20', '%2F')).map(([a, h, bad]) => `${a}:${h.slice(0, 10)}${bad}${h.slice(11)}`),
      fc.constantFrom(...seededDigests).map((d) => d.replace(':', '::')),
      fc.constantFrom(...seededDigests).map((d) => d.split(':')[1]),
      fc.constantFrom(...seededDigests).map((d) => `${d}:${d}`),
      fc.constantFrom(...seededDigests).map((d) => d.replace(':', '%3A').replace(/^sha/, 'SHA')),
    )
    .filter((wire) => wire.length > 0 && !SPEC_DIGEST.test(decoded(wire)) && !decoded(wire).includes('/'));
}

/** Well-formed digests of content nobody pushed (the bytes start with a marker the seed never uses). */
export const absentDigest = fc.tuple(fc.uint8Array({ maxLength: 64 }), fc.boolean()).map(([bytes, long]) => {
  const data = Buffer.concat([Buffer.from('never-pushed:'), bytes]);
  return long ? sha512(data) : sha256(data);
});

/** A manifest reference that names nothing: a hostile tag, an absent tag, a malformed or absent digest. */
export function hostileReference(seededDigests: string[]): fc.Arbitrary<string> {
  return fc.oneof(hostileTag, absentTag, malformedDigest(seededDigests), absentDigest);
}

/** Upload session ids that are not a live session of the repository: traversal, wrong case, random, suffixed. */
export function hostileUploadId(liveIdOfAnotherRepository: string): fc.Arbitrary<string> {
  return fc
    .oneof(
      fc.constantFrom('..', '.', '%2e%2e', '..%2F..%2Fblobs', '%2e%2e%2fseed', '_', '-'),
      fc.uuid().map((u) => u.toUpperCase()),
      fc.uuid(),
      fc.uuid().map((u) => `${u}.json`),
      fc.uuid().map((u) => `${u.slice(0, 35)}%00`),
      fc.constant(liveIdOfAnotherRepository),
      fc.constant(`${liveIdOfAnotherRepository}%2F..`),
      stringOf('abcdef0123456789-', 1, 60),
      traversalName,
    )
    .filter((wire) => !wire.includes('?') && !wire.includes('#') && !hasRouteWord(decoded(wire)));
}

// ---- headers ----

/**
 * Range headers a blob of `size` bytes cannot meet, or that are not valid `bytes` ranges:
 * starts at or past the end, a zero-length suffix, first after last, numbers past 2^64,
 * garbage, signs, spaces inside, non-ASCII digits (Latin-1, as a header carries them).
 */
export function badRange(size: number): fc.Arbitrary<string> {
  const big = fc.constantFrom('18446744073709551616', '99999999999999999999999', '9007199254740993', '1e3', '0x10');
  return fc.oneof(
    fc.tuple(fc.integer({ min: size, max: size + 1_000_000 }), fc.option(fc.nat(), { nil: undefined })).map(([start, len]) => `bytes=${start}-${len === undefined ? '' : start + len}`),
    fc.constant('bytes=-0'),
    fc.tuple(fc.integer({ min: 1, max: size + 100 }), fc.integer({ min: 1, max: 100 })).map(([first, d]) => `bytes=${first}-${Math.max(0, first - d)}`).filter((r) => {
      const [a, b] = r.slice(6).split('-').map(Number);
      return a > b;
    }),
    big.map((n) => `bytes=${n}-`),
    fc.constantFrom(
      'bytes=',
      'bytes=-',
      'bytes=abc',
      'bytes=1-2-3',
      'bytes=--1',
      'bytes=-1-',
      'bytes=1 - 2',
      'bytes=+1-2',
      'bytes=1.5-2',
      'bytes=-1.5',
      'bytes=0-1,abc',
      'bytes=,',
      'bytes=\xb2-\xb3',
      'bytes=\xe9',
      'bytes==0-1',
      'bytes 0-1',
      'bytes0-1',
    ),
  );
}

/** Range headers in a unit other than bytes: RFC 9110 §14.2 says a server MUST ignore them. */
export const foreignUnitRange = fc.tuple(fc.constantFrom('items', 'Bytes2', 'lines', 'x-bytes', 'none'), fc.nat(), fc.nat()).map(([unit, a, b]) => `${unit}=${a}-${b}`);

/**
 * Content-Range headers for a chunk of `length` bytes on a session holding `size`: starting
 * anywhere but the end of the session, ending before they start, disagreeing with the
 * chunk's length, numbers past 2^53, and malformed text.
 */
export function badContentRange(size: number, length: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.integer({ min: 0, max: size + 1000 }).filter((start) => start !== size).map((start) => `${start}-${start + Math.max(0, length - 1)}`),
    fc.integer({ min: 1, max: 1000 }).map((d) => `${size + d}-${size}`),
    fc.integer({ min: 1, max: 1000 }).map((d) => `${size}-${size + length - 1 + d}`),
    fc.constantFrom('', '-', 'abc', `${size}`, `${size}-`, `-${size}`, `bytes ${size}-x`, `${size}-99999999999999999999`, `${size}.0-${size + length - 1}`, `${size} - ${size + length - 1}`, `bytes=${size}-${size}-${size}`, `\xe9${size}-1`),
  );
}

// ---- manifests ----

export interface ManifestFixtures {
  /** A blob the target repository holds: digest and size. */
  heldBlob: { digest: string; size: number };
  /** A blob stored in another repository only. */
  foreignBlob: { digest: string; size: number };
  /** A manifest the target repository holds. */
  heldManifest: { digest: string; size: number; mediaType: string };
}

export interface HostileManifest {
  /** What makes it hostile, for the failure message. */
  kind: string;
  body: Buffer;
  contentType: string;
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const KNOWN_TYPES = new Set([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, 'application/vnd.docker.distribution.manifest.list.v2+json']);

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function imageManifest(f: ManifestFixtures, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: f.heldBlob.digest, size: f.heldBlob.size },
    layers: [],
    ...over,
  };
}

/** A JSON value nested `depth` levels deep, built without recursion. */
function nested(depth: number, open: string, close: string, inner: string): Buffer {
  return Buffer.from(open.repeat(depth) + inner + close.repeat(depth));
}

/**
 * Manifests a registry must refuse, each with the content type it is sent with:
 * - not JSON (random bytes, a valid manifest cut short or with trailing garbage or a BOM);
 * - JSON that is not an object;
 * - a valid manifest with one field of the wrong type or value;
 * - nesting thousands of levels deep where a descriptor is expected;
 * - arrays of tens of thousands of descriptors (invalid ones, or ones of blobs nobody pushed);
 * - bodies past the 4 MiB manifest limit (valid JSON padded with spaces);
 * - a media type perch does not store (text/html, vendor types, non-ASCII, 5000 characters);
 * - blobs and child manifests the repository does not hold (absent, or held by another
 *   repository only), and sizes that disagree with the stored blob;
 * - a subject that does not exist, always together with one of the flaws above (a subject that
 *   does not exist is no reason to refuse: the spec says to accept it, see hostile-requests);
 * - Content-Type disagreeing with the body's mediaType, Docker schema 1.
 */
export function hostileManifest(f: ManifestFixtures): fc.Arbitrary<HostileManifest> {
  const valid = imageManifest(f);
  const validBytes = json(valid);
  const absentBlob = absentDigest.map((digest) => ({ mediaType: OCI_LAYER, digest, size: 10 }));
  const maybeMissingSubject = fc.option(absentDigest.map((digest) => ({ mediaType: OCI_MANIFEST, digest, size: 123 })), { nil: undefined });
  const withSubject = (m: Record<string, unknown>, subject: unknown) => (subject === undefined ? m : { ...m, subject });
  const wrongValue = fc.oneof(
    fc.constantFrom(null, true, 0, -1, 1.5, 2 ** 53, '', 'x', [], {}, [1], { a: 1 }),
    fc.string({ maxLength: 10 }),
  );

  return fc.oneof(
    // Not JSON.
    fc.uint8Array({ minLength: 0, maxLength: 200 }).map((b) => ({ kind: 'random bytes', body: Buffer.from(b), contentType: OCI_MANIFEST })),
    fc.integer({ min: 0, max: validBytes.length - 1 }).map((n) => ({ kind: 'truncated JSON', body: validBytes.subarray(0, n), contentType: OCI_MANIFEST })),
    fc.constantFrom('}', ']', 'x', ',{}', '\u0000', '{}').map((tail) => ({ kind: 'trailing garbage', body: Buffer.concat([validBytes, Buffer.from(tail)]), contentType: OCI_MANIFEST })),
    fc.constant({ kind: 'byte order mark', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), validBytes]), contentType: OCI_MANIFEST }),
    // JSON, but not an object.
    fc.constantFrom('null', 'true', '2', '"manifest"', '[]', '[{}]', '-0', '1e400').map((s) => ({ kind: 'not an object', body: Buffer.from(s), contentType: OCI_MANIFEST })),
    // One field of the wrong type or value.
    fc
      .tuple(fc.constantFrom('schemaVersion', 'config', 'layers', 'mediaType', 'annotations', 'subject', 'artifactType'), wrongValue)
      .filter(([field, v]) => !(field === 'layers' && Array.isArray(v) && v.length === 0) && !(field === 'mediaType' && v === OCI_MANIFEST))
      .filter(([field, v]) => !(field === 'annotations' && v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string')))
      .filter(([field, v]) => !(field === 'artifactType' && typeof v === 'string'))
      .map(([field, v]) => ({ kind: `wrong ${field}: ${JSON.stringify(v)}`, body: json(imageManifest(f, { [field]: v })), contentType: OCI_MANIFEST })),
    fc
      .tuple(fc.constantFrom('mediaType', 'digest', 'size'), wrongValue, fc.constantFrom('config', 'layer'))
      .filter(([field, v]) => !(field === 'mediaType' && typeof v === 'string' && v !== ''))
      .map(([field, v, where]) => {
        const d = { mediaType: OCI_CONFIG, digest: f.heldBlob.digest, size: f.heldBlob.size, [field]: v };
        return { kind: `wrong ${where}.${field}: ${JSON.stringify(v)}`, body: json(where === 'config' ? imageManifest(f, { config: d }) : imageManifest(f, { layers: [d] })), contentType: OCI_MANIFEST };
      }),
    // Deep nesting where a descriptor is expected, or as the whole document.
    fc.tuple(fc.integer({ min: 1000, max: 200_000 }), fc.constantFrom('array', 'object', 'config', 'layers', 'subject')).map(([depth, where]) => {
      let body: Buffer;
      if (where === 'array') body = nested(depth, '[', ']', '');
      else if (where === 'object') body = nested(depth, '{"a":', '}', '1');
      else {
        const inner = nested(depth, '[', ']', '').toString();
        body = Buffer.from(JSON.stringify(imageManifest(f, { [where]: '@' })).replace('"@"', inner));
      }
      return { kind: `nested ${depth} deep (${where})`, body, contentType: OCI_MANIFEST };
    }),
    // Huge arrays: invalid descriptors, or descriptors of blobs nobody pushed.
    fc.tuple(fc.integer({ min: 1000, max: 5000 }), fc.constantFrom('numbers', 'absent layers', 'absent children'), maybeMissingSubject).map(([n, what, subject]) => {
      let body: Buffer;
      if (what === 'numbers') body = json(withSubject(imageManifest(f, { layers: Array.from({ length: n }, (_, i) => i) }), subject));
      else if (what === 'absent layers') {
        const layers = Array.from({ length: n }, (_, i) => ({ mediaType: OCI_LAYER, digest: sha256(`never-pushed:${i}`), size: i }));
        body = json(withSubject(imageManifest(f, { layers }), subject));
      } else {
        const manifests = Array.from({ length: n }, (_, i) => ({ mediaType: OCI_MANIFEST, digest: sha256(`never-pushed:${i}`), size: i }));
        body = json(withSubject({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }, subject));
      }
      return { kind: `${n} ${what}${subject ? ' and a missing subject' : ''}`, body, contentType: what === 'absent children' ? OCI_INDEX : OCI_MANIFEST };
    }),
    // Past the size limit: valid JSON, padded.
    fc.integer({ min: 1, max: 64 * 1024 }).map((extra) => {
      const pad = MAX_MANIFEST_BYTES + extra - validBytes.length;
      return { kind: `${MAX_MANIFEST_BYTES + extra} bytes`, body: Buffer.concat([validBytes.subarray(0, -1), Buffer.alloc(pad, ' '), Buffer.from('}')]), contentType: OCI_MANIFEST };
    }),
    // Media types perch does not store, in the body or (with none in the body) in Content-Type.
    fc
      .tuple(
        fc.oneof(
          fc.constantFrom('text/html', 'text/html; charset=utf-8', 'application/json', 'application/vnd.example.thing.v1+json', 'application/vnd.oci.artifact.manifest.v1+json', 'image/svg+xml', 'a/é', 'a/\u0100', 'x\r\ny', ''),
          fc.integer({ min: 300, max: 6000 }).map((n) => `application/${'x'.repeat(n)}`),
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
        ),
        fc.boolean(),
      )
      .map(([type, inBody]): HostileManifest & { main: string } => {
        if (inBody) return { kind: `unknown mediaType ${JSON.stringify(type.slice(0, 40))}`, body: json({ ...valid, mediaType: type }), contentType: 'application/json', main: type };
        // A header carries only what a header can: Latin-1 without control characters, trimmed.
        const header = /^[\x20-\x7e\x80-\xff]*$/.test(type) ? type.trim() : 'application/x-unknown';
        const body = json({ schemaVersion: 2, config: valid.config, layers: [], annotations: { a: '<script>alert(1)</script>' } });
        return { kind: `unknown Content-Type ${JSON.stringify(header.slice(0, 40))}`, body, contentType: header, main: header.split(';')[0].trim() };
      })
      // Not a type perch stores; and a header with no type in it makes the body's shape decide.
      .filter((m) => !KNOWN_TYPES.has(m.main) && (m.kind.startsWith('unknown mediaType') || m.main !== ''))
      .map(({ kind, body, contentType }) => ({ kind, body, contentType })),
    // Blobs or children the repository does not hold, or sizes that disagree; maybe a missing subject too.
    fc.tuple(fc.constantFrom('absent config', 'absent layer', 'foreign layer', 'wrong size', 'absent child', 'foreign child'), absentBlob, maybeMissingSubject).map(([what, absent, subject]) => {
      let m: Record<string, unknown>;
      if (what === 'absent config') m = imageManifest(f, { config: { ...absent, mediaType: OCI_CONFIG } });
      else if (what === 'absent layer') m = imageManifest(f, { layers: [absent] });
      else if (what === 'foreign layer') m = imageManifest(f, { layers: [{ mediaType: OCI_LAYER, ...f.foreignBlob }] });
      else if (what === 'wrong size') m = imageManifest(f, { layers: [{ mediaType: OCI_LAYER, digest: f.heldBlob.digest, size: f.heldBlob.size + 1 }] });
      else if (what === 'absent child') m = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ ...f.heldManifest }, { ...absent, mediaType: OCI_MANIFEST }] };
      else m = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, ...f.foreignBlob }] };
      return { kind: `${what}${subject ? ' and a missing subject' : ''}`, body: json(withSubject(m, subject)), contentType: (m.mediaType as string) ?? OCI_MANIFEST };
    }),
    // A subject that is not a descriptor, Content-Type disagreeing with mediaType, schema 1.
    fc.constantFrom(
      { kind: 'subject with a malformed digest', body: json(imageManifest(f, { subject: { mediaType: OCI_MANIFEST, digest: 'sha256:abc', size: 1 } })), contentType: OCI_MANIFEST },
      { kind: 'Content-Type disagrees with mediaType', body: validBytes, contentType: DOCKER_MANIFEST },
      { kind: 'Content-Type index, body a manifest', body: validBytes, contentType: OCI_INDEX },
      { kind: 'Docker schema 1', body: json({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }), contentType: 'application/vnd.docker.distribution.manifest.v1+prettyjws' },
      { kind: 'index without manifests', body: json({ schemaVersion: 2, mediaType: OCI_INDEX }), contentType: OCI_INDEX },
      { kind: 'Docker manifest without layers', body: json({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: valid.config }), contentType: DOCKER_MANIFEST },
    ),
  );
}

// ---- pagination ----

/**
 * Query strings for the paginated lists with `n` out of range or malformed (negative, a
 * fraction, an exponent, hex, past 2^53, empty, non-ASCII digits), or `n` or `last` given twice.
 */
export const badPagination = fc.oneof(
  fc.constantFrom('-1', '-0', '1.5', '1e3', '0x10', 'abc', '', '%201', '1%20', '+1', '%2B1', '1%0A', '9007199254740993', '99999999999999999999', '%EF%BC%91', '%00', '1%00', 'Infinity', 'NaN').map((n) => `n=${n}`),
  fc.tuple(fc.nat({ max: 1000 }), fc.nat({ max: 1000 })).map(([a, b]) => `n=${a}&n=${b}`),
  fc.tuple(fc.nat({ max: 1000 }), stringOf(LOWER, 0, 10), stringOf(LOWER, 0, 10)).map(([n, a, b]) => `n=${n}&last=${a}&last=${b}`),
  fc.tuple(stringOf(LOWER, 0, 10), stringOf(LOWER, 0, 10)).map(([a, b]) => `last=${a}&last=${b}`),
);

/** `last` past the end, before the start, over-long or non-ASCII: a valid request whose page is empty or partial. */
export const outOfRangeLast = fc.oneof(
  fc.constantFrom('zzzzzzzz', '~', '%7F', '0', '', '-', '%00'),
  fc.integer({ min: 256, max: 4000 }).map((n) => 'z'.repeat(n)),
  encodedNonAscii,
);

// ---- methods ----

/**
 * Methods Node's HTTP parser accepts, less CONNECT: Node hands a tunnel request to the server's
 * 'connect' event, never to a route (regressions.test.ts has its case).
 */
export const PARSED_METHODS = ['ACL', 'BIND', 'CHECKOUT', 'COPY', 'DELETE', 'GET', 'HEAD', 'LINK', 'LOCK', 'M-SEARCH', 'MERGE', 'MKACTIVITY', 'MKCALENDAR', 'MKCOL', 'MOVE', 'NOTIFY', 'OPTIONS', 'PATCH', 'POST', 'PROPFIND', 'PROPPATCH', 'PURGE', 'PUT', 'QUERY', 'REBIND', 'REPORT', 'SEARCH', 'SOURCE', 'SUBSCRIBE', 'TRACE', 'UNBIND', 'UNLINK', 'UNLOCK', 'UNSUBSCRIBE'];

/** A method the route does not allow (HEAD counts as allowed where GET is). */
export function disallowedMethod(allowed: readonly string[]): fc.Arbitrary<string> {
  const ok = new Set(allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed);
  return fc.constantFrom(...PARSED_METHODS.filter((m) => !ok.has(m)));
}

// ---- requests HTTP itself refuses ----

export interface MalformedHttp {
  kind: string;
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body?: Buffer;
  endAfterBody?: boolean;
}

/**
 * Requests that are not valid HTTP/1.1, so that Node's parser refuses them before any route:
 * a Content-Length that is not a number (or negative, or past 2^64, or given twice with two
 * values, or beside Transfer-Encoding: chunked), malformed chunked encoding, a body shorter
 * than its Content-Length from a client that then stops sending, methods no parser knows,
 * raw non-ASCII or control bytes in the path, a request line past Node's 16 KB limit.
 */
export function malformedHttp(paths: { manifest: string; upload: string; blob: string }): fc.Arbitrary<MalformedHttp> {
  const h = (name: string, value: string): [string, string] => [name, value];
  const body = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b));
  // Routes that read the body: a manifest, a chunk, a monolithic push (the digest is of other bytes).
  const monolithic = `${paths.upload.replace(/[^/]+$/, '')}?digest=${sha256('not the body')}`;
  const target = fc.constantFrom<[string, string]>(['PUT', paths.manifest], ['PATCH', paths.upload], ['POST', monolithic]);
  return fc.oneof(
    fc.tuple(target, fc.constantFrom('abc', '-1', '1e3', '0x10', '+5', '18446744073709551616', '99999999999999999999999', '1.0', '', '5 5', '\xb2'), body).map(([[method, path], cl, b]) => ({
      kind: `Content-Length ${JSON.stringify(cl)}`,
      method,
      path,
      headers: [h('Content-Length', cl)],
      body: b,
    })),
    fc.tuple(target, body, fc.integer({ min: 1, max: 10 })).map(([[method, path], b, d]) => ({
      kind: 'Content-Length given twice with two values',
      method,
      path,
      headers: [h('Content-Length', String(b.length)), h('Content-Length', String(b.length + d))],
      body: b,
    })),
    fc.tuple(target, body).map(([[method, path], b]) => ({
      kind: 'Content-Length beside Transfer-Encoding: chunked',
      method,
      path,
      headers: [h('Content-Length', String(b.length)), h('Transfer-Encoding', 'chunked')],
      body: Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n0\r\n\r\n')]),
    })),
    fc.tuple(target, fc.constantFrom('zz\r\nab\r\n0\r\n\r\n', '5\r\nab\r\n0\r\n\r\n', '-1\r\n\r\n', '2\r\nabcd\r\n', '\r\n\r\n')).map(([[method, path], chunked]) => ({
      kind: `malformed chunked body ${JSON.stringify(chunked)}`,
      method,
      path,
      headers: [h('Transfer-Encoding', 'chunked')],
      body: Buffer.from(chunked),
      endAfterBody: true,
    })),
    fc.tuple(target, body, fc.integer({ min: 1, max: 100_000 })).map(([[method, path], b, d]) => ({
      kind: `Content-Length ${b.length + d}, ${b.length} bytes sent, then the client stops sending`,
      method,
      path,
      headers: [h('Content-Length', String(b.length + d))],
      body: b,
      endAfterBody: true,
    })),
    fc.constantFrom('FOO', 'get', 'G ET', 'PUTT', 'PRI', 'HEAD\t').map((method) => ({ kind: `method ${JSON.stringify(method)}`, method, path: paths.manifest, headers: [] })),
    fc.tuple(fc.constantFrom('é', '\xff', '\x00', '\x7f', '\t', '"', '<', '{', '\\'), fc.constantFrom(paths.manifest, paths.blob)).map(([c, path]) => ({
      kind: `raw ${JSON.stringify(c)} in the path`,
      method: 'GET',
      path: path.replace('/v2/', `/v2/${c}`),
      headers: [],
    })),
    fc.integer({ min: 17_000, max: 40_000 }).map((n) => ({ kind: `request line of ${n} bytes`, method: 'GET', path: `/v2/${'a'.repeat(n)}/tags/list`, headers: [] })),
  );
}
