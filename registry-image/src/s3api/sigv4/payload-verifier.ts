/**
 * The body half of verification: `createPayloadVerifier(verified)` gives the Transform to pipe
 * a request body through. It passes on the object's bytes (aws-chunked framing removed) and
 * ends with 'end' only when every check passed; otherwise it errors with an S3AuthError
 * (XAmzContentSHA256Mismatch, SignatureDoesNotMatch for a chunk, IncompleteBody, BadDigest,
 * ...). Bytes flow before the verdict: keep nothing of a body whose stream errored (write to a
 * temporary place and rename on 'end', as the registry's uploads do).
 *
 *   const verified = await verifier.verify(req);        // throws S3AuthError
 *   await pipeline(req, createPayloadVerifier(verified), sink);
 *
 * Headers that cannot be honoured (an unsupported checksum algorithm, a *-TRAILER mode without
 * x-amz-trailer, aws-chunked without x-amz-decoded-content-length) throw here, before any byte.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { AwsChunkedDecoder } from './aws-chunked-decoder';
import { BodyChecks } from './body-checks';
import { S3AuthError } from './errors';
import type { VerifiedRequest } from './verify-request';

export interface PayloadVerifierOptions {
  /**
   * Check x-amz-checksum-* headers and Content-MD5 against the body (default true). Off for
   * operations where those headers describe something else than the body, such as
   * CompleteMultipartUpload's whole-object checksum.
   */
  headerChecksums?: boolean;
}

/** A body sent as is (hex SHA-256 or UNSIGNED-PAYLOAD): passed through, checked at its end. */
class PlainBodyVerifier extends Transform {
  constructor(private readonly checks: BodyChecks) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.checks.update(chunk);
      callback(null, chunk);
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.checks.finish();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }
}

export function createPayloadVerifier(verified: VerifiedRequest, options: PayloadVerifierOptions = {}): Transform {
  const headers =
    options.headerChecksums === false
      ? new Map([...verified.headers].filter(([name]) => name !== 'content-md5' && !name.startsWith('x-amz-checksum-')))
      : verified.headers;
  const { payload } = verified;
  const checks = new BodyChecks(payload, headers);
  switch (payload.kind) {
    case 'sha256':
    case 'unsigned':
      return new PlainBodyVerifier(checks);
    case 'streaming-unsigned-trailer':
      return new AwsChunkedDecoder({ checks, trailer: true });
    case 'streaming-signed':
      if (verified.auth === 'anonymous') throw new S3AuthError('AccessDenied', 'a signed aws-chunked body needs a signed request');
      return new AwsChunkedDecoder({ checks, trailer: payload.trailer, signer: verified.signer });
  }
}
