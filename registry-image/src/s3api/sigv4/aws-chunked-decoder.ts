/**
 * A Transform that decodes an aws-chunked body to the object's bytes and verifies it on the
 * way (S3 API Reference, "Signature Calculations for the Authorization Header: Transferring
 * Payload in Multiple Chunks" and "Signature calculations for trailing headers"):
 *
 *   signed:    hex-size;chunk-signature=<sig>\r\n <data> \r\n ... 0;chunk-signature=<sig>\r\n \r\n
 *   signed + trailer:   ... 0;chunk-signature=<sig>\r\n x-amz-checksum-crc32c:<b64>\n \r\n
 *                       x-amz-trailer-signature:<sig>\r\n \r\n   (minio-go; AWS's example the same)
 *   unsigned + trailer: hex-size\r\n <data> \r\n ... 0\r\n x-amz-checksum-crc32:<b64>\r\n \r\n
 *
 * Chunk n's signature is HMAC(signing key, string to sign) over
 *   AWS4-HMAC-SHA256-PAYLOAD \n x-amz-date \n scope \n signature(n-1) \n SHA256("") \n SHA256(data n)
 * with signature(0) the request's own (the seed), so chunks cannot be dropped, reordered or
 * replayed into another request. The trailer's is
 *   AWS4-HMAC-SHA256-TRAILER \n x-amz-date \n scope \n last chunk's signature \n SHA256(trailer lines)
 * where the trailer lines are `name:value\n` each.
 *
 * Memory: nothing is held back but a chunk header line (at most MAX_LINE bytes). Data is
 * passed on as it arrives and hashed as it goes; a chunk's signature is checked when its last
 * byte has arrived, and the stream errors then. As with a hex x-amz-content-sha256, the
 * consumer learns that the body is good only at its end ('end' versus 'error'), and must keep
 * nothing of a body that ended in error.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { BodyChecks } from './body-checks';
import { redactSignature, S3AuthError } from './errors';
import { EMPTY_SHA256, sha256Hex, signaturesEqual } from './signing-key';
import type { ChunkSigner } from './verify-request';

/** Longest chunk header or trailer line accepted (a signed header is about 90 bytes). */
const MAX_LINE = 4096;
/** Largest chunk size accepted: S3's 5 GiB object limit. */
const MAX_CHUNK = 5 * 1024 ** 3;

type State = 'size-line' | 'data' | 'data-crlf' | 'final-crlf' | 'trailer' | 'done';

export interface AwsChunkedOptions {
  checks: BodyChecks;
  /** Present for STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER): chunks (and trailer) are signed. */
  signer?: ChunkSigner;
  /** A trailer section follows the last chunk. */
  trailer: boolean;
}

export class AwsChunkedDecoder extends Transform {
  private state: State = 'size-line';
  private line: Buffer[] = [];
  private lineLength = 0;
  private remaining = 0;
  private crlfSeen = 0;
  private chunkIndex = 0;
  private chunkHash: Hash | undefined;
  private chunkSignature = '';
  private previousSignature: string;
  private finalChunk = false;
  private readonly trailerLines: string[] = [];

  constructor(private readonly options: AwsChunkedOptions) {
    super();
    this.previousSignature = options.signer?.seedSignature ?? '';
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (this.state === 'trailer' && this.lineLength === 0 && this.trailerLines.length > 0) {
        // The blank line that ends the trailer section never came; the trailer itself did.
        this.endTrailer();
      }
      if (this.state !== 'done') {
        throw new S3AuthError('IncompleteBody', `the aws-chunked body ended in the middle (${this.describeState()}, ${this.options.checks.bytesSeen} bytes decoded)`);
      }
      this.options.checks.finish();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  private describeState(): string {
    switch (this.state) {
      case 'data':
        return `chunk ${this.chunkIndex} short by ${this.remaining} bytes`;
      case 'trailer':
        return 'in the trailer';
      default:
        return `expecting ${this.state} of chunk ${this.chunkIndex}`;
    }
  }

  private consume(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      switch (this.state) {
        case 'size-line':
        case 'trailer': {
          const nl = buf.indexOf(0x0a, i);
          const end = nl < 0 ? buf.length : nl;
          this.lineLength += end - i;
          if (this.lineLength > MAX_LINE) throw new S3AuthError('IncompleteBody', `an aws-chunked ${this.state === 'trailer' ? 'trailer' : 'chunk header'} line is longer than ${MAX_LINE} bytes`);
          this.line.push(buf.subarray(i, end));
          if (nl < 0) return;
          i = nl + 1;
          let text = Buffer.concat(this.line).toString('latin1');
          this.line = [];
          this.lineLength = 0;
          if (text.endsWith('\r')) text = text.slice(0, -1);
          if (this.state === 'size-line') this.startChunk(text);
          else if (text !== '') this.trailerLines.push(text);
          // A blank line ends the trailer; in the signed form only after the signature line,
          // since SDKs write `name:value\n` then `\r\n` then `x-amz-trailer-signature:...`.
          else if (!this.options.signer || this.trailerLines.some((l) => l.toLowerCase().startsWith('x-amz-trailer-signature:'))) this.endTrailer();
          break;
        }
        case 'data': {
          const n = Math.min(this.remaining, buf.length - i);
          const data = buf.subarray(i, i + n);
          this.chunkHash?.update(data);
          this.options.checks.update(data);
          this.push(data);
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) this.state = 'data-crlf';
          break;
        }
        case 'data-crlf':
        case 'final-crlf': {
          const expected = this.crlfSeen === 0 ? 0x0d : 0x0a;
          if (buf[i] !== expected) throw new S3AuthError('IncompleteBody', `aws-chunked chunk ${this.chunkIndex} is not followed by CRLF (longer than its size says?)`);
          i++;
          if (++this.crlfSeen === 2) {
            this.crlfSeen = 0;
            if (this.state === 'final-crlf') this.state = 'done';
            else this.endChunk();
          }
          break;
        }
        case 'done':
          throw new S3AuthError('IncompleteBody', 'the aws-chunked body goes on after its final chunk');
      }
    }
  }

  /** `hex-size[;chunk-signature=sig][;other=ext]` */
  private startChunk(line: string): void {
    const [sizeText, ...extensions] = line.split(';');
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText ?? '')) {
      throw new S3AuthError('IncompleteBody', `aws-chunked chunk ${this.chunkIndex} has header "${line.slice(0, 100)}", not hex-size[;chunk-signature=...]`);
    }
    const size = parseInt(sizeText!, 16);
    if (size > MAX_CHUNK) throw new S3AuthError('IncompleteBody', `aws-chunked chunk ${this.chunkIndex} claims ${size} bytes, more than an object can hold`);
    if (this.options.signer) {
      const ext = extensions.find((e) => e.startsWith('chunk-signature='));
      const signature = ext?.slice('chunk-signature='.length) ?? '';
      if (!/^[0-9a-fA-F]{64}$/.test(signature)) throw new S3AuthError('IncompleteBody', `aws-chunked chunk ${this.chunkIndex} has no chunk-signature`);
      this.chunkSignature = signature.toLowerCase();
      this.chunkHash = createHash('sha256');
    }
    this.remaining = size;
    this.finalChunk = size === 0;
    if (this.finalChunk) {
      // A zero-size chunk ends the data. Its signature covers no bytes; then the trailer, or CRLF.
      this.endChunk();
    } else {
      this.state = 'data';
    }
  }

  private endChunk(): void {
    const { signer } = this.options;
    if (signer) {
      const dataHash = this.chunkHash!.digest('hex');
      const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', signer.amzDate, signer.scope, this.previousSignature, EMPTY_SHA256, dataHash].join('\n');
      if (!signaturesEqual(signer.sign(toSign), this.chunkSignature)) {
        throw new S3AuthError(
          'SignatureDoesNotMatch',
          `the chunk signature of aws-chunked chunk ${this.chunkIndex} does not match (got ${redactSignature(this.chunkSignature)})`,
        );
      }
      this.previousSignature = this.chunkSignature;
      this.chunkHash = undefined;
    }
    this.chunkIndex++;
    if (!this.finalChunk) this.state = 'size-line';
    else this.state = this.options.trailer ? 'trailer' : 'final-crlf';
  }

  /** The trailer lines are in: the checksum to BodyChecks, the trailer signature checked. */
  private endTrailer(): void {
    let signature: string | undefined;
    const signedLines: string[] = [];
    for (const line of this.trailerLines) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new S3AuthError('MalformedTrailerError', `the aws-chunked trailer line "${line.slice(0, 100)}" is not name:value`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'x-amz-trailer-signature') {
        signature = value.toLowerCase();
        continue;
      }
      signedLines.push(`${name}:${value}\n`);
      if (name === this.options.checks.trailer?.headerName) this.options.checks.setTrailerValue(value);
      else throw new S3AuthError('MalformedTrailerError', `the aws-chunked trailer has ${name}, which x-amz-trailer did not announce`);
    }
    const { signer } = this.options;
    if (signer) {
      if (signature === undefined) throw new S3AuthError('MalformedTrailerError', 'the signed aws-chunked trailer has no x-amz-trailer-signature');
      const toSign = ['AWS4-HMAC-SHA256-TRAILER', signer.amzDate, signer.scope, this.previousSignature, sha256Hex(signedLines.join(''))].join('\n');
      if (!signaturesEqual(signer.sign(toSign), signature)) {
        throw new S3AuthError('SignatureDoesNotMatch', `the x-amz-trailer-signature does not match (got ${redactSignature(signature)})`);
      }
    }
    this.state = 'done';
  }
}
