/**
 * A loopback S3 stand-in for the SigV4 tests (test/s3api): it verifies every request with
 * registry-image/src/s3api/sigv4 (request, then body through the payload verifier), records
 * what the client sent and what verification said, and answers just enough S3 for a client's
 * command to succeed: CreateBucket, PutObject (ETag = MD5, as single-part S3), GetObject,
 * HeadObject, DeleteObject, ListBuckets, ListObjects v1/v2, GetBucketLocation. Objects live in
 * a Map. It is not S3; it is there so real clients compute real signatures against it.
 *
 *   const s3 = await startS3Capture({ credentials: { KEY: 'SECRET' }, tls });
 *   ... run a client against s3.httpUrl / s3.httpsUrl ...
 *   s3.requests   // [{ method, url, contentSha256, result: 'ok' | 'SignatureDoesNotMatch', ... }]
 *   await s3.close();
 *
 * `tamper` flips one body byte on the way in (the first data byte of aws-chunked, else the
 * first byte), as a network in the middle would, to show the payload checks catching it.
 * `clockOffsetMs` moves the verifier's clock (expired presigned URLs, skew).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createPayloadVerifier, S3AuthError, SigV4Verifier, type VerifiedRequest } from '../../registry-image/src/s3api/sigv4';

export interface CapturedRequest {
  method: string;
  /** The request target as received. */
  url: string;
  rawHeaders: string[];
  /** x-amz-content-sha256 as sent, or the presigned form's UNSIGNED-PAYLOAD; undefined for anonymous. */
  contentSha256: string | undefined;
  auth: VerifiedRequest['auth'] | undefined;
  /** x-amz-trailer, x-amz-checksum-* headers, Content-MD5, content-encoding, transfer-encoding. */
  extras: Record<string, string>;
  /** 'ok' or the S3 error code verification gave. */
  result: string;
  message?: string;
  /** Decoded body bytes that passed (all of them when result is ok). */
  bodyBytes: number;
  tampered: boolean;
}

export interface S3CaptureOptions {
  credentials: Record<string, string>;
  /** PEM files for a second, HTTPS listener (botocore sends trailers only over TLS). */
  tls?: { certPath: string; keyPath: string };
  region?: string;
}

export interface S3Capture {
  httpUrl: string;
  httpsUrl: string | undefined;
  requests: CapturedRequest[];
  objects: Map<string, { body: Buffer; etag: string; modified: Date }>;
  /** Flip one byte of each request body from now on (until set false). */
  tamper: boolean;
  clockOffsetMs: number;
  /** Requests recorded since `mark` (an index from `requests.length`). */
  since(mark: number): CapturedRequest[];
  close(): Promise<void>;
}

const EXTRA_HEADERS = /^(x-amz-trailer|x-amz-checksum-.*|x-amz-sdk-checksum-algorithm|content-md5|content-encoding|transfer-encoding|x-amz-decoded-content-length|content-length)$/;

function xml(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  xml(res, status, `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><RequestId>capture</RequestId></Error>`, { connection: 'close' });
}

/** Flips the first data byte: after the first CRLF of an aws-chunked body, else byte 0. */
class FlipOneByte extends Transform {
  private seen = 0;
  private done = false;
  private afterCrlf: boolean;

  constructor(private readonly chunked: boolean) {
    super();
    this.afterCrlf = !chunked;
  }

  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    if (!this.done) {
      const copy = Buffer.from(chunk);
      for (let i = 0; i < copy.length && !this.done; i++) {
        if (this.afterCrlf) {
          copy[i] = copy[i]! ^ 0x01;
          this.done = true;
        } else if (this.chunked && copy[i] === 0x0a) {
          this.afterCrlf = true;
        }
      }
      this.seen += chunk.length;
      cb(null, copy);
      return;
    }
    cb(null, chunk);
  }
}

function listObjects(capture: S3Capture, bucket: string, query: URLSearchParams): string {
  const prefix = query.get('prefix') ?? '';
  const v2 = query.get('list-type') === '2';
  const contents = [...capture.objects]
    .filter(([k]) => k.startsWith(`${bucket}/${prefix}`))
    .map(([k, o]) => {
      const key = k.slice(bucket.length + 1);
      return `<Contents><Key>${escapeXml(key)}</Key><LastModified>${o.modified.toISOString()}</LastModified><ETag>${o.etag}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
    });
  const count = v2 ? `<KeyCount>${contents.length}</KeyCount>` : '<Marker></Marker>';
  return `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${escapeXml(bucket)}</Name><Prefix>${escapeXml(prefix)}</Prefix>${count}<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents.join('')}</ListBucketResult>`;
}

export async function startS3Capture(options: S3CaptureOptions): Promise<S3Capture> {
  const verifier = new SigV4Verifier({
    lookupSecret: (key) => options.credentials[key],
    region: options.region ?? 'us-east-1',
    now: () => Date.now() + capture.clockOffsetMs,
  });
  const buckets = new Set<string>(['perch-test']);

  const capture: S3Capture = {
    httpUrl: '',
    httpsUrl: undefined,
    requests: [],
    objects: new Map(),
    tamper: false,
    clockOffsetMs: 0,
    since: (mark) => capture.requests.slice(mark),
    close: async () => {
      for (const s of servers) {
        s.closeAllConnections();
        s.close();
        await once(s, 'close');
      }
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const extras: Record<string, string> = {};
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!.toLowerCase();
      if (EXTRA_HEADERS.test(name)) extras[name] = req.rawHeaders[i + 1]!;
    }
    const record: CapturedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      rawHeaders: req.rawHeaders,
      contentSha256: undefined,
      auth: undefined,
      extras,
      result: 'ok',
      bodyBytes: 0,
      tampered: false,
    };
    capture.requests.push(record);
    let body: Buffer;
    try {
      const verified = await verifier.verify(req);
      record.auth = verified.auth;
      record.contentSha256 =
        verified.auth === 'anonymous' ? undefined : (verified.headers.get('x-amz-content-sha256')?.[0] ?? (verified.auth === 'presigned' ? 'UNSIGNED-PAYLOAD' : undefined));
      if (verified.auth === 'anonymous') throw new S3AuthError('AccessDenied', 'anonymous requests are not accepted here');
      const parts: Buffer[] = [];
      const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream> = [req];
      const chunked = verified.payload.kind === 'streaming-signed' || verified.payload.kind === 'streaming-unsigned-trailer';
      if (capture.tamper && (req.method === 'PUT' || req.method === 'POST')) {
        record.tampered = true;
        stages.push(new FlipOneByte(chunked));
      }
      stages.push(createPayloadVerifier(verified));
      stages.push(
        new Writable({
          write(chunk: Buffer, _e, done) {
            parts.push(chunk);
            record.bodyBytes += chunk.length;
            done();
          },
        }),
      );
      // pipeline's overloads want a fixed arity; the stages are all streams.
      await (pipeline as unknown as (...streams: unknown[]) => Promise<void>)(...stages);
      body = Buffer.concat(parts);
    } catch (err) {
      if (err instanceof S3AuthError) {
        record.result = err.code;
        record.message = err.message;
        s3Error(res, err.status, err.code, err.message);
        return;
      }
      throw err;
    }
    answer(req, res, body);
  }

  function answer(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://capture');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const method = req.method ?? 'GET';
    if (bucket === '') {
      const list = [...buckets].map((b) => `<Bucket><Name>${b}</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate></Bucket>`).join('');
      return xml(res, 200, `<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>perch</ID><DisplayName>perch</DisplayName></Owner><Buckets>${list}</Buckets></ListAllMyBucketsResult>`);
    }
    if (key === '') {
      if (method === 'PUT') {
        buckets.add(bucket);
        res.writeHead(200, { location: `/${bucket}`, 'content-length': 0 }).end();
        return;
      }
      if (!buckets.has(bucket)) return s3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
      if (method === 'HEAD') return void res.writeHead(200, { 'x-amz-bucket-region': 'us-east-1' }).end();
      if (url.searchParams.has('location')) return xml(res, 200, '<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>');
      if (method === 'GET') return xml(res, 200, listObjects(capture, bucket, url.searchParams));
      return s3Error(res, 501, 'NotImplemented', `${method} on a bucket is not part of this stand-in`);
    }
    const id = `${bucket}/${key}`;
    switch (method) {
      case 'PUT': {
        const etag = `"${createHash('md5').update(body).digest('hex')}"`;
        capture.objects.set(id, { body, etag, modified: new Date() });
        res.writeHead(200, { etag, 'content-length': 0 }).end();
        return;
      }
      case 'GET':
      case 'HEAD': {
        const obj = capture.objects.get(id);
        if (!obj) {
          if (method === 'HEAD') return void res.writeHead(404, { 'content-length': 0 }).end();
          return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
        }
        res.writeHead(200, {
          etag: obj.etag,
          'content-length': obj.body.length,
          'content-type': 'application/octet-stream',
          'last-modified': obj.modified.toUTCString(),
          'accept-ranges': 'bytes',
        });
        res.end(method === 'GET' ? obj.body : undefined);
        return;
      }
      case 'DELETE':
        capture.objects.delete(id);
        res.writeHead(204).end();
        return;
      default:
        return s3Error(res, 501, 'NotImplemented', `${method} on an object is not part of this stand-in`);
    }
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => s3Error(res, 500, 'InternalError', String(err)));
  };
  const servers: Server[] = [];
  const http = createHttpServer(onRequest);
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  servers.push(http);
  capture.httpUrl = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  if (options.tls) {
    const https = createHttpsServer({ cert: readFileSync(options.tls.certPath), key: readFileSync(options.tls.keyPath) }, onRequest);
    https.listen(0, '127.0.0.1');
    await once(https, 'listening');
    servers.push(https as unknown as Server);
    capture.httpsUrl = `https://127.0.0.1:${(https.address() as { port: number }).port}`;
  }
  return capture;
}
