/**
 * How the body of a request is signed, read from x-amz-content-sha256 (S3 API Reference,
 * "Common Request Headers" and "Signature Calculations for the Authorization Header"):
 *
 * | header value                                 | body                                          |
 * |----------------------------------------------|-----------------------------------------------|
 * | 64 hex digits                                | as is; its SHA-256 must be this               |
 * | UNSIGNED-PAYLOAD                             | as is; not checked (presigned URLs always)    |
 * | STREAMING-AWS4-HMAC-SHA256-PAYLOAD           | aws-chunked, each chunk signed, chained       |
 * | STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER   | the same, then a signed trailing checksum     |
 * | STREAMING-UNSIGNED-PAYLOAD-TRAILER           | aws-chunked unsigned, then a trailing checksum|
 *
 * SigV4a's STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD(-TRAILER) is refused as unsupported.
 */
import { S3AuthError } from './errors';

export type PayloadMode =
  | { kind: 'sha256'; hex: string }
  | { kind: 'unsigned' }
  | { kind: 'streaming-signed'; trailer: boolean }
  | { kind: 'streaming-unsigned-trailer' };

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

export function payloadMode(contentSha256: string): PayloadMode {
  if (/^[0-9a-fA-F]{64}$/.test(contentSha256)) return { kind: 'sha256', hex: contentSha256.toLowerCase() };
  switch (contentSha256) {
    case UNSIGNED_PAYLOAD:
      return { kind: 'unsigned' };
    case STREAMING_SIGNED:
      return { kind: 'streaming-signed', trailer: false };
    case STREAMING_SIGNED_TRAILER:
      return { kind: 'streaming-signed', trailer: true };
    case STREAMING_UNSIGNED_TRAILER:
      return { kind: 'streaming-unsigned-trailer' };
  }
  if (contentSha256.startsWith('STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD')) {
    throw new S3AuthError('InvalidRequest', `x-amz-content-sha256 "${contentSha256}" (SigV4a) is not supported`);
  }
  throw new S3AuthError(
    'InvalidArgument',
    `x-amz-content-sha256 must be UNSIGNED-PAYLOAD, ${STREAMING_SIGNED}, ${STREAMING_SIGNED_TRAILER}, ${STREAMING_UNSIGNED_TRAILER} or a SHA-256 in hex, not "${contentSha256.slice(0, 80)}"`,
  );
}

/** True for the modes whose body is aws-chunked. */
export function isAwsChunked(mode: PayloadMode): boolean {
  return mode.kind === 'streaming-signed' || mode.kind === 'streaming-unsigned-trailer';
}
