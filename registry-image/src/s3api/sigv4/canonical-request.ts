/**
 * The canonical request and the string to sign of SigV4 for S3 (S3 API Reference,
 * "Signature Calculations for the Authorization Header" and "Authenticating Requests: Using
 * Query Parameters"):
 *
 *   <HTTPMethod>\n<CanonicalURI>\n<CanonicalQueryString>\n<CanonicalHeaders>\n<SignedHeaders>\n<HashedPayload>
 *
 *   AWS4-HMAC-SHA256\n<x-amz-date>\n<yyyymmdd>/<region>/s3/aws4_request\n<hex SHA-256 of the canonical request>
 *
 * Canonical headers are the signed ones only, lower-case names sorted, each `name:value\n`
 * with the value trimmed and inner runs of spaces collapsed to one; a header sent more than
 * once has its values joined by `,` in the order they came. HashedPayload is the
 * x-amz-content-sha256 value as sent (hex, UNSIGNED-PAYLOAD or a STREAMING-* mode).
 */
import { canonicalQueryString, canonicalUri, type QueryParameter } from './uri-encoding';
import { sha256Hex } from './signing-key';

/** Header values by lower-case name, every occurrence in the order received. */
export type HeaderValues = ReadonlyMap<string, readonly string[]>;

/**
 * Headers as Node gives them: `rawHeaders` (name, value, name, value, ...) keeps repeated
 * headers apart, which `IncomingMessage.headers` folds (and for `host`, drops).
 */
export function headerValues(rawHeaders: readonly string[]): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const list = values.get(name);
    if (list) list.push(rawHeaders[i + 1]!);
    else values.set(name, [rawHeaders[i + 1]!]);
  }
  return values;
}

function canonicalHeaderValue(values: readonly string[]): string {
  return values.map((v) => v.trim().replace(/ +/g, ' ')).join(',');
}

export interface CanonicalRequestParts {
  method: string;
  /** The path as received, before `?`. */
  rawPath: string;
  query: readonly QueryParameter[];
  /** Left out of the canonical query: X-Amz-Signature in the presigned form. */
  omitQueryParameter?: string;
  headers: HeaderValues;
  /** Lower-case names, sorted, as listed in SignedHeaders. */
  signedHeaders: readonly string[];
  hashedPayload: string;
}

export function canonicalRequest(parts: CanonicalRequestParts): string {
  const headerLines = parts.signedHeaders.map((name) => `${name}:${canonicalHeaderValue(parts.headers.get(name) ?? [])}\n`).join('');
  return [
    parts.method.toUpperCase(),
    canonicalUri(parts.rawPath),
    canonicalQueryString(parts.query, parts.omitQueryParameter),
    headerLines,
    parts.signedHeaders.join(';'),
    parts.hashedPayload,
  ].join('\n');
}

/** `yyyymmdd/region/service/aws4_request`. */
export function credentialScope(date: string, region: string, service: string): string {
  return `${date}/${region}/${service}/aws4_request`;
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}
