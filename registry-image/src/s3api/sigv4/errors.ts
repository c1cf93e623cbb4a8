/**
 * The errors of SigV4 verification, each registered once with S3's error code and HTTP status
 * (S3 API Reference, "Error responses": the code list), and the one exception type that carries
 * them. A later S3 listener turns an `S3AuthError` into S3's XML error body; nothing here writes
 * a response.
 *
 * `message` is written for the log and may also go to the client: it never holds the secret
 * key, a signing key or a full signature (see `redactSignature`), only the access key id,
 * the credential scope and what did not match.
 */

export const S3_AUTH_ERRORS = {
  /** The signature we computed differs from the one sent (wrong secret, altered request). */
  SignatureDoesNotMatch: { status: 403 },
  /** A presigned URL past its X-Amz-Expires, not valid yet, or unsigned x-amz-* headers. */
  AccessDenied: { status: 403 },
  /** x-amz-date more than 15 minutes from the server's clock (header form). */
  RequestTimeTooSkewed: { status: 403 },
  /** The credential lookup knows no such access key. */
  InvalidAccessKeyId: { status: 403 },
  /** The Authorization header cannot be parsed, or its scope is wrong (date, region, service). */
  AuthorizationHeaderMalformed: { status: 400 },
  /** The presigned query parameters cannot be parsed or are out of range (X-Amz-Expires). */
  AuthorizationQueryParametersError: { status: 400 },
  /** A required header is missing (x-amz-content-sha256, x-amz-date). */
  MissingSecurityHeader: { status: 400 },
  /** A header value S3 refuses (x-amz-content-sha256 neither hex nor a known mode). */
  InvalidArgument: { status: 400 },
  /** An algorithm or encoding we do not verify (a trailing checksum we cannot compute). */
  InvalidRequest: { status: 400 },
  /** The body's SHA-256 differs from the signed x-amz-content-sha256. */
  XAmzContentSHA256Mismatch: { status: 400 },
  /** The body ended early, or its aws-chunked framing or decoded length is wrong. */
  IncompleteBody: { status: 400 },
  /** aws-chunked without x-amz-decoded-content-length. */
  MissingContentLength: { status: 411 },
  /** A checksum header or trailer that is not a valid value for its algorithm (Content-MD5 too). */
  InvalidDigest: { status: 400 },
  /** A checksum (Content-MD5, x-amz-checksum-*) that does not match the body. */
  BadDigest: { status: 400 },
  /** The trailer section of an aws-chunked body cannot be parsed or misses the announced header. */
  MalformedTrailerError: { status: 400 },
} as const satisfies Record<string, { status: number }>;

export type S3AuthErrorCode = keyof typeof S3_AUTH_ERRORS;

/** Thrown by the request verifier and emitted (as a stream error) by the payload verifiers. */
export class S3AuthError extends Error {
  readonly code: S3AuthErrorCode;
  readonly status: number;
  /**
   * For SignatureDoesNotMatch, what we signed, as S3 returns it in its error body (no secret
   * is in either): a client's author compares it with their own.
   */
  readonly detail: { canonicalRequest: string; stringToSign: string } | undefined;

  constructor(code: S3AuthErrorCode, message: string, detail?: { canonicalRequest: string; stringToSign: string }) {
    super(message);
    this.name = 'S3AuthError';
    this.code = code;
    this.status = S3_AUTH_ERRORS[code].status;
    this.detail = detail;
  }
}

/** Enough of a signature to tell two apart in a log, not enough to replay one: "4f232c43…". */
export function redactSignature(signature: string): string {
  return signature.length <= 8 ? '…' : `${signature.slice(0, 8)}…`;
}
