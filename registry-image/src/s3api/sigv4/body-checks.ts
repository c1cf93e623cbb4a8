/**
 * Everything checked over the decoded body bytes, whatever their framing, verified once the
 * last byte has been seen:
 *
 * - the signed SHA-256 (x-amz-content-sha256 in hex)        -> XAmzContentSHA256Mismatch
 * - Content-MD5                                            -> InvalidDigest / BadDigest
 * - an x-amz-checksum-<algorithm> header                   -> InvalidDigest / BadDigest
 * - the trailing x-amz-checksum-<algorithm> named by x-amz-trailer (aws-chunked only; its
 *   value arrives after the body)                          -> MalformedTrailerError / BadDigest
 * - x-amz-decoded-content-length (aws-chunked only)        -> IncompleteBody
 *
 * The request's headers are read at construction, so a bad header fails before any byte.
 */
import { createHash, type Hash } from 'node:crypto';
import type { HeaderValues } from './canonical-request';
import { checkDigestSyntax, checksumAlgorithmOf, createBodyDigest, type BodyDigest, type ChecksumAlgorithm } from './checksums';
import { S3AuthError } from './errors';
import type { PayloadMode } from './payload-mode';

interface DigestCheck {
  where: string;
  algorithm: ChecksumAlgorithm | 'md5';
  digest: BodyDigest;
  /** Undefined for a trailer until it arrives. */
  expected: string | undefined;
}

function one(headers: HeaderValues, name: string): string | undefined {
  const values = headers.get(name);
  return values === undefined ? undefined : values.join(',').trim();
}

export class BodyChecks {
  private readonly sha256: { hash: Hash; expectedHex: string } | undefined;
  private readonly digests: DigestCheck[] = [];
  /** The trailing checksum x-amz-trailer announced, if any. */
  readonly trailer: { headerName: string; check: DigestCheck } | undefined;
  /** x-amz-decoded-content-length, for aws-chunked bodies. */
  readonly decodedLength: number | undefined;
  private seen = 0;

  constructor(payload: PayloadMode, headers: HeaderValues) {
    if (payload.kind === 'sha256') this.sha256 = { hash: createHash('sha256'), expectedHex: payload.hex };

    const md5 = one(headers, 'content-md5');
    if (md5 !== undefined) {
      checkDigestSyntax('md5', md5, 'Content-MD5');
      this.digests.push({ where: 'Content-MD5', algorithm: 'md5', digest: createBodyDigest('md5'), expected: md5 });
    }
    for (const name of headers.keys()) {
      const algorithm = checksumAlgorithmOf(name);
      if (algorithm === undefined) continue;
      const value = one(headers, name)!;
      checkDigestSyntax(algorithm, value, name);
      this.digests.push({ where: name, algorithm, digest: createBodyDigest(algorithm), expected: value });
    }

    const chunked = payload.kind === 'streaming-signed' || payload.kind === 'streaming-unsigned-trailer';
    const announced = one(headers, 'x-amz-trailer')?.toLowerCase();
    const wantsTrailer = payload.kind === 'streaming-unsigned-trailer' || (payload.kind === 'streaming-signed' && payload.trailer);
    if (wantsTrailer) {
      if (announced === undefined || announced === '') throw new S3AuthError('InvalidRequest', 'a *-TRAILER payload needs x-amz-trailer to name its checksum');
      const algorithm = checksumAlgorithmOf(announced);
      if (algorithm === undefined || announced.includes(',')) {
        throw new S3AuthError('InvalidRequest', `x-amz-trailer "${announced.slice(0, 80)}" does not name one x-amz-checksum-<algorithm>`);
      }
      const check: DigestCheck = { where: `trailer ${announced}`, algorithm, digest: createBodyDigest(algorithm), expected: undefined };
      this.digests.push(check);
      this.trailer = { headerName: announced, check };
    } else if (announced !== undefined) {
      throw new S3AuthError('InvalidRequest', `x-amz-trailer is only allowed with a *-TRAILER x-amz-content-sha256 (got ${payload.kind})`);
    }

    if (chunked) {
      const text = one(headers, 'x-amz-decoded-content-length');
      if (text === undefined) throw new S3AuthError('MissingContentLength', 'an aws-chunked body needs x-amz-decoded-content-length');
      if (!/^\d{1,15}$/.test(text)) throw new S3AuthError('InvalidArgument', `x-amz-decoded-content-length "${text.slice(0, 20)}" is not a byte count`);
      this.decodedLength = Number(text);
    }
  }

  /** Decoded body bytes, in order. Fails as soon as more arrive than x-amz-decoded-content-length. */
  update(bytes: Uint8Array): void {
    this.seen += bytes.length;
    if (this.decodedLength !== undefined && this.seen > this.decodedLength) {
      throw new S3AuthError('IncompleteBody', `the aws-chunked body holds more than the ${this.decodedLength} bytes x-amz-decoded-content-length announced`);
    }
    this.sha256?.hash.update(bytes);
    for (const d of this.digests) d.digest.update(bytes);
  }

  get bytesSeen(): number {
    return this.seen;
  }

  /** The trailing checksum's value, from the trailer section (syntax checked here). */
  setTrailerValue(value: string): void {
    if (!this.trailer) throw new S3AuthError('MalformedTrailerError', 'the body has a trailing checksum that x-amz-trailer did not announce');
    checkDigestSyntax(this.trailer.check.algorithm, value, this.trailer.headerName);
    this.trailer.check.expected = value;
  }

  /** After the last byte: throws the first check that fails. */
  finish(): void {
    if (this.decodedLength !== undefined && this.seen !== this.decodedLength) {
      throw new S3AuthError('IncompleteBody', `the aws-chunked body holds ${this.seen} bytes, x-amz-decoded-content-length announced ${this.decodedLength}`);
    }
    if (this.sha256) {
      const actual = this.sha256.hash.digest('hex');
      if (actual !== this.sha256.expectedHex) {
        throw new S3AuthError(
          'XAmzContentSHA256Mismatch',
          `the provided x-amz-content-sha256 does not match what was computed (client ${this.sha256.expectedHex}, body ${actual}, ${this.seen} bytes)`,
        );
      }
    }
    for (const d of this.digests) {
      if (d.expected === undefined) throw new S3AuthError('MalformedTrailerError', `the body ended without its ${d.where}`);
      const actual = d.digest.digestBase64();
      if (actual !== d.expected) {
        throw new S3AuthError('BadDigest', `the ${d.where} you specified did not match the calculated checksum (sent ${d.expected}, body ${actual})`);
      }
    }
  }
}
