/**
 * The worked examples of AWS's S3 API Reference (SigV4 pages "Signature Calculations for the
 * Authorization Header: Transferring Payload in a Single Chunk", "... in Multiple Chunks
 * (Chunked Upload)", "Signature calculations for trailing headers" and "Authenticating
 * Requests: Using Query Parameters"): the same access key, secret, date and signatures, run
 * through the verifier. They pin the canonical form and, for aws-chunked, published values
 * for signed chunks besides those minio-go sends in clients.test.ts. (The signed-trailer mode
 * is covered by minio-go alone: the trailer page's example was not reproduced here.)
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { createPayloadVerifier, S3AuthError, SigV4Verifier, type IncomingRequestLike } from '../../registry-image/src/s3api/sigv4';
import { signaturesEqual } from '../../registry-image/src/s3api/sigv4/signing-key';

const ACCESS = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const EXAMPLE_TIME = Date.UTC(2013, 4, 24, 0, 0, 0);

function verifier(now = EXAMPLE_TIME): SigV4Verifier {
  return new SigV4Verifier({ lookupSecret: (key) => (key === ACCESS ? SECRET : undefined), region: 'us-east-1', now: () => now });
}

function request(method: string, url: string, headers: Record<string, string>, signedHeaders: string, signature: string): IncomingRequestLike {
  const raw = Object.entries(headers).flat();
  raw.push('Authorization', `AWS4-HMAC-SHA256 Credential=${ACCESS}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signedHeaders},Signature=${signature}`);
  return { method, url, rawHeaders: raw };
}

/** Pipes `body` through the payload verifier; resolves with the decoded bytes. */
async function decode(verified: Awaited<ReturnType<SigV4Verifier['verify']>>, body: Buffer, pieces = 7919): Promise<Buffer> {
  const out: Buffer[] = [];
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += pieces) parts.push(body.subarray(i, i + pieces));
  await pipeline(
    Readable.from(parts),
    createPayloadVerifier(verified),
    new Writable({
      write(chunk: Buffer, _e, done) {
        out.push(chunk);
        done();
      },
    }),
  );
  return Buffer.concat(out);
}

/** The fulfilment handler of a promise that must reject. */
function refused(): never {
  throw new Error('expected the verifier to refuse');
}

const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('AWS SigV4 examples: single chunk', () => {
  it('GET Object with a Range header', async () => {
    const v = await verifier().verify(
      request('GET', '/test.txt', { Host: 'examplebucket.s3.amazonaws.com', Range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY, 'x-amz-date': '20130524T000000Z' },
        'host;range;x-amz-content-sha256;x-amz-date', 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41'),
    );
    expect(v.auth).toBe('header');
  });

  it('PUT Object with a $ in the key and a signed body', async () => {
    const body = Buffer.from('Welcome to Amazon S3.');
    const v = await verifier().verify(
      request('PUT', '/test$file.text', {
        Host: 'examplebucket.s3.amazonaws.com', Date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-date': '20130524T000000Z', 'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
      }, 'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class', '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd'),
    );
    expect(v.payload).toEqual({ kind: 'sha256', hex: '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072' });
    expect((await decode(v, body)).toString()).toBe('Welcome to Amazon S3.');
    const err = await decode(v, Buffer.from('Welcome to Amazon S4.')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3AuthError);
    expect((err as S3AuthError).code).toBe('XAmzContentSHA256Mismatch');
  });

  it('GET Bucket lifecycle (a query parameter without a value)', async () => {
    await verifier().verify(
      request('GET', '/?lifecycle', { Host: 'examplebucket.s3.amazonaws.com', 'x-amz-date': '20130524T000000Z', 'x-amz-content-sha256': EMPTY },
        'host;x-amz-content-sha256;x-amz-date', 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543'),
    );
  });

  it('GET Bucket (list objects; query sorted)', async () => {
    await verifier().verify(
      request('GET', '/?max-keys=2&prefix=J', { Host: 'examplebucket.s3.amazonaws.com', 'x-amz-date': '20130524T000000Z', 'x-amz-content-sha256': EMPTY },
        'host;x-amz-content-sha256;x-amz-date', '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7'),
    );
  });

  it('a wrong secret is SignatureDoesNotMatch, with what we signed and no secret in the message', async () => {
    const v = new SigV4Verifier({ lookupSecret: () => 'not-the-secret', now: () => EXAMPLE_TIME });
    const err = await v
      .verify(request('GET', '/?lifecycle', { Host: 'examplebucket.s3.amazonaws.com', 'x-amz-date': '20130524T000000Z', 'x-amz-content-sha256': EMPTY },
        'host;x-amz-content-sha256;x-amz-date', 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543'))
      .then(refused, (e: unknown) => e as S3AuthError);
    expect(err.code).toBe('SignatureDoesNotMatch');
    expect(err.status).toBe(403);
    expect(err.message).not.toContain('not-the-secret');
    expect(err.message).not.toContain('fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543');
    expect(err.message).toContain('fea454ca…');
    expect(err.detail?.canonicalRequest).toBe(
      'GET\n/\nlifecycle=\nhost:examplebucket.s3.amazonaws.com\nx-amz-content-sha256:' + EMPTY + '\nx-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n' + EMPTY,
    );
  });
});

describe('AWS SigV4 examples: presigned URL', () => {
  const url =
    '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
  const req = { method: 'GET', url, rawHeaders: ['Host', 'examplebucket.s3.amazonaws.com'] };

  it('verifies within X-Amz-Expires (no clock skew limit besides the expiry)', async () => {
    const v = await verifier(EXAMPLE_TIME + 23 * 3600 * 1000).verify(req);
    expect(v).toMatchObject({ auth: 'presigned', accessKey: ACCESS, payload: { kind: 'unsigned' } });
  });

  it('is AccessDenied once expired', async () => {
    const err = await verifier(EXAMPLE_TIME + 86401 * 1000).verify(req).then(refused, (e: unknown) => e as S3AuthError);
    expect(err.code).toBe('AccessDenied');
    expect(err.message).toMatch(/expired/);
  });
});

describe('AWS SigV4 examples: aws-chunked', () => {
  const body66560 = Buffer.alloc(66560, 'a');

  function chunked(chunks: Array<[Buffer, string]>, final: string, trailer?: string): Buffer {
    const parts: Buffer[] = [];
    for (const [data, sig] of chunks) parts.push(Buffer.from(`${data.length.toString(16)};chunk-signature=${sig}\r\n`), data, Buffer.from('\r\n'));
    parts.push(Buffer.from(`0;chunk-signature=${final}\r\n`));
    parts.push(Buffer.from(trailer ?? '\r\n'));
    return Buffer.concat(parts);
  }

  const headers = {
    Host: 's3.amazonaws.com', 'x-amz-date': '20130524T000000Z', 'x-amz-storage-class': 'REDUCED_REDUNDANCY', 'Content-Encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560', 'Content-Length': '66824', 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  };
  const signed = 'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class';
  const SEED = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
  const C1 = 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648';
  const C2 = '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497';
  const FINAL = 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9';

  it('STREAMING-AWS4-HMAC-SHA256-PAYLOAD: seed, 64 KiB + 1 KiB chunks and the final chunk', async () => {
    const v = await verifier().verify(request('PUT', '/examplebucket/chunkObject.txt', headers, signed, SEED));
    expect(v.payload).toEqual({ kind: 'streaming-signed', trailer: false });
    const body = chunked([[body66560.subarray(0, 65536), C1], [body66560.subarray(65536), C2]], FINAL);
    expect(body.length).toBe(66824);
    for (const pieces of [1, 2, 100, 65536, 1 << 20]) {
      expect((await decode(v, body, pieces)).equals(body66560)).toBe(true);
    }
  });

  it('a changed byte in chunk 2 fails that chunk; a swapped chunk fails the chain', async () => {
    const v = await verifier().verify(request('PUT', '/examplebucket/chunkObject.txt', headers, signed, SEED));
    const tampered = Buffer.from(body66560);
    tampered[66000] = 0x62;
    const err = await decode(v, chunked([[tampered.subarray(0, 65536), C1], [tampered.subarray(65536), C2]], FINAL)).then(refused, (e: unknown) => e as S3AuthError);
    expect(err.code).toBe('SignatureDoesNotMatch');
    expect(err.message).toMatch(/chunk 1/);
    const err2 = await decode(v, chunked([[body66560.subarray(0, 65536), C1]], C2)).then(refused, (e: unknown) => e as S3AuthError);
    expect(err2.code).toBe('SignatureDoesNotMatch');
  });

  it('a body cut short is IncompleteBody', async () => {
    const v = await verifier().verify(request('PUT', '/examplebucket/chunkObject.txt', headers, signed, SEED));
    const body = chunked([[body66560.subarray(0, 65536), C1], [body66560.subarray(65536), C2]], FINAL);
    const err = await decode(v, body.subarray(0, 60000)).then(refused, (e: unknown) => e as S3AuthError);
    expect(err.code).toBe('IncompleteBody');
  });

});

describe('refusals, on the GET Object example', () => {
  const headers = { Host: 'examplebucket.s3.amazonaws.com', Range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY, 'x-amz-date': '20130524T000000Z' };
  const SIGNED = 'host;range;x-amz-content-sha256;x-amz-date';
  const SIG = 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41';
  const code = (v: SigV4Verifier, req: IncomingRequestLike) => v.verify(req).then(() => 'ok', (e: unknown) => (e as S3AuthError).code);

  it('15 minutes of clock skew pass, 16 are RequestTimeTooSkewed (either way)', async () => {
    const req = request('GET', '/test.txt', headers, SIGNED, SIG);
    expect(await code(verifier(EXAMPLE_TIME + 15 * 60_000), req)).toBe('ok');
    expect(await code(verifier(EXAMPLE_TIME + 16 * 60_000), req)).toBe('RequestTimeTooSkewed');
    expect(await code(verifier(EXAMPLE_TIME - 16 * 60_000), req)).toBe('RequestTimeTooSkewed');
  });

  it('an unknown key is InvalidAccessKeyId', async () => {
    const v = new SigV4Verifier({ lookupSecret: () => undefined, now: () => EXAMPLE_TIME });
    expect(await code(v, request('GET', '/test.txt', headers, SIGNED, SIG))).toBe('InvalidAccessKeyId');
  });

  it('another region or a scope date that is not the request day is AuthorizationHeaderMalformed', async () => {
    const v = new SigV4Verifier({ lookupSecret: () => SECRET, region: 'eu-west-1', now: () => EXAMPLE_TIME });
    expect(await code(v, request('GET', '/test.txt', headers, SIGNED, SIG))).toBe('AuthorizationHeaderMalformed');
    const req = request('GET', '/test.txt', headers, SIGNED, SIG);
    const raw = [...req.rawHeaders];
    raw[raw.length - 1] = raw[raw.length - 1]!.replace('/20130524/', '/20130525/');
    expect(await code(verifier(), { ...req, rawHeaders: raw })).toBe('AuthorizationHeaderMalformed');
  });

  it.each([
    ['AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, Signature=' + SIG, 'AuthorizationHeaderMalformed'],
    ['AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3, SignedHeaders=host, Signature=' + SIG, 'AuthorizationHeaderMalformed'],
    ['AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=xyz', 'AuthorizationHeaderMalformed'],
    ['AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=range;x-amz-date, Signature=' + SIG, 'AuthorizationHeaderMalformed'],
    ['AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=x-amz-date;host, Signature=' + SIG, 'AuthorizationHeaderMalformed'],
    ['AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=', 'InvalidRequest'],
  ])('%s is %s', async (authorization, expected) => {
    const raw = [...Object.entries(headers).flat(), 'Authorization', authorization];
    expect(await code(verifier(), { method: 'GET', url: '/test.txt', rawHeaders: raw })).toBe(expected);
  });

  it('an x-amz-* header that is not signed is AccessDenied; a missing x-amz-content-sha256 MissingSecurityHeader', async () => {
    expect(await code(verifier(), request('GET', '/test.txt', { ...headers, 'x-amz-meta-extra': '1' }, SIGNED, SIG))).toBe('AccessDenied');
    const { 'x-amz-content-sha256': _, ...without } = headers;
    expect(await code(verifier(), request('GET', '/test.txt', without, SIGNED, SIG))).toBe('MissingSecurityHeader');
    expect(await code(verifier(), request('GET', '/test.txt', { ...headers, 'x-amz-content-sha256': 'NOT-A-MODE' }, SIGNED, SIG))).toBe('InvalidArgument');
  });

  it('a changed header value, method or path is SignatureDoesNotMatch', async () => {
    expect(await code(verifier(), request('GET', '/test.txt', { ...headers, Range: 'bytes=0-10' }, SIGNED, SIG))).toBe('SignatureDoesNotMatch');
    expect(await code(verifier(), request('HEAD', '/test.txt', headers, SIGNED, SIG))).toBe('SignatureDoesNotMatch');
    expect(await code(verifier(), request('GET', '/test.txt?x=1', headers, SIGNED, SIG))).toBe('SignatureDoesNotMatch');
  });

  it('no credentials at all is anonymous, left to the caller', async () => {
    const v = await verifier().verify({ method: 'GET', url: '/test.txt', rawHeaders: ['Host', 'h'] });
    expect(v.auth).toBe('anonymous');
  });

  it('a checksum S3 has and we do not compute (CRC64NVME) is InvalidRequest before any byte', async () => {
    const v = await verifier().verify(request('GET', '/test.txt', headers, SIGNED, SIG));
    const withCrc64 = { ...v, headers: new Map([...v.headers, ['x-amz-checksum-crc64nvme', ['AAAAAAAAAAA=']]]) };
    expect(() => createPayloadVerifier(withCrc64)).toThrow(/x-amz-checksum-crc64nvme is not supported/);
    const withTrailer = { ...v, payload: { kind: 'streaming-unsigned-trailer' as const }, headers: new Map([...v.headers, ['x-amz-trailer', ['x-amz-checksum-crc64nvme']], ['x-amz-decoded-content-length', ['1']]]) };
    expect(() => createPayloadVerifier(withTrailer)).toThrow(S3AuthError);
  });

  it('signatures compare by value, any case, not by length prefix', () => {
    expect(signaturesEqual(SIG, SIG.toUpperCase())).toBe(true);
    expect(signaturesEqual(SIG, SIG.slice(0, 63))).toBe(false);
    expect(signaturesEqual(SIG, `${SIG.slice(0, 63)}0`)).toBe(false);
  });
});
