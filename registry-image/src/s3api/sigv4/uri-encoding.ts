/**
 * S3's URI encoding for the canonical request (S3 API Reference, "Create a canonical
 * request" / UriEncode): every byte except the unreserved characters `A-Z a-z 0-9 - _ . ~` as
 * `%XX` with upper-case hex, each byte of a UTF-8 sequence on its own; in the path `/` stays.
 *
 * The server sees the path and query as the client put them on the wire, which need not be
 * the form the client signed (curl sends the path as typed, botocore encodes `~` or not by
 * version). So both are percent-decoded to bytes first and encoded again the one canonical
 * way. S3 does this once: unlike other AWS services it does not encode the path twice, and it
 * does not normalise `.`, `..` or `//` (an object key may contain them).
 */

const HEX = '0123456789ABCDEF';

function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    byte === 0x2d || // -
    byte === 0x5f || // _
    byte === 0x2e || // .
    byte === 0x7e // ~
  );
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  return -1;
}

/**
 * Wire text to bytes: `%XX` becomes its byte, everything else its UTF-8 bytes. A `%` not
 * followed by two hex digits stays a literal `%` (S3 then encodes it as `%25`). `+` stays `+`:
 * in a path it is a plus, and SigV4 clients encode a space in a query as `%20`, not `+`.
 */
export function percentDecodeToBytes(text: string): Buffer {
  const raw = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i]!;
    if (byte === 0x25 && i + 2 < raw.length) {
      const hi = hexValue(raw[i + 1]!);
      const lo = hexValue(raw[i + 2]!);
      if (hi >= 0 && lo >= 0) {
        out[n++] = hi * 16 + lo;
        i += 2;
        continue;
      }
    }
    out[n++] = byte;
  }
  return out.subarray(0, n);
}

/** S3's UriEncode of bytes; `keepSlash` for the path, where `/` separates nothing but stays. */
export function uriEncodeBytes(bytes: Uint8Array, keepSlash: boolean): string {
  let out = '';
  for (const byte of bytes) {
    if (isUnreserved(byte) || (keepSlash && byte === 0x2f)) out += String.fromCharCode(byte);
    else out += `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}

/** S3's UriEncode of a string (its UTF-8 bytes), as a client computes it from an object key. */
export function uriEncode(text: string, keepSlash = false): string {
  return uriEncodeBytes(Buffer.from(text, 'utf8'), keepSlash);
}

/** The canonical URI from the path as received: decoded once, encoded once; `/` if empty. */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '/';
  return uriEncodeBytes(percentDecodeToBytes(rawPath), true);
}

/** One query parameter as received, decoded to its canonical encoded name and value. */
export interface QueryParameter {
  /** Canonically encoded (S3 UriEncode), as it goes into the canonical query string. */
  name: string;
  value: string;
  /** Decoded, for reading X-Amz-* parameters. */
  decodedName: string;
  decodedValue: string;
}

/** The raw query (without `?`) split into parameters; `a` and `a=` both have the value "". */
export function parseQuery(rawQuery: string): QueryParameter[] {
  if (rawQuery === '') return [];
  const params: QueryParameter[] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    const nameBytes = percentDecodeToBytes(rawName);
    const valueBytes = percentDecodeToBytes(rawValue);
    params.push({
      name: uriEncodeBytes(nameBytes, false),
      value: uriEncodeBytes(valueBytes, false),
      decodedName: nameBytes.toString('utf8'),
      decodedValue: valueBytes.toString('utf8'),
    });
  }
  return params;
}

/**
 * The canonical query string: `name=value` pairs sorted by encoded name, then by encoded value
 * (a repeated name keeps every value), joined by `&`; a parameter without a value is `name=`.
 * Sorting is by code unit, which for the ASCII of encoded text is byte order, as SigV4 says.
 */
export function canonicalQueryString(params: readonly QueryParameter[], omit?: string): string {
  return params
    .filter((p) => p.decodedName !== omit)
    .map((p) => [p.name, p.value] as const)
    .sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([n, v]) => `${n}=${v}`)
    .join('&');
}
