/**
 * S3's canonical encoding (registry-image/src/s3api/sigv4/uri-encoding.ts and
 * canonical-request.ts): what the server rebuilds from the wire form must be what every client
 * signed. Edge cases: spaces, unicode, `+`, `=`, `~`, `%` itself, repeated query keys, empty
 * values, no path normalisation, header whitespace.
 */
import { describe, expect, it } from 'vitest';
import { canonicalRequest, headerValues } from '../../registry-image/src/s3api/sigv4/canonical-request';
import { canonicalQueryString, canonicalUri, parseQuery, uriEncode } from '../../registry-image/src/s3api/sigv4/uri-encoding';

describe('uriEncode (S3 UriEncode)', () => {
  it.each([
    ['a b', 'a%20b'],
    ['a+b', 'a%2Bb'],
    ['a=b', 'a%3Db'],
    ['~file-_.', '~file-_.'],
    ['ü', '%C3%BC'],
    ['✓', '%E2%9C%93'],
    ['😀', '%F0%9F%98%80'],
    ['a/b', 'a%2Fb'],
    ['100%', '100%25'],
    ["!*'()$&,;:@", '%21%2A%27%28%29%24%26%2C%3B%3A%40'],
  ])('%j -> %s', (text, encoded) => {
    expect(uriEncode(text)).toBe(encoded);
  });

  it('keeps / in a path', () => {
    expect(uriEncode('dir/a b.txt', true)).toBe('dir/a%20b.txt');
  });
});

describe('canonicalUri: decoded once, encoded once, never normalised', () => {
  it.each([
    ['', '/'],
    ['/', '/'],
    ['/bucket/a%20b', '/bucket/a%20b'],
    ['/bucket/a b', '/bucket/a%20b'], // curl sends what it is given
    ['/bucket/a+b', '/bucket/a%2Bb'], // + in a path is a plus, not a space
    ['/bucket/a%2Bb', '/bucket/a%2Bb'],
    ['/bucket/%7Efile', '/bucket/~file'], // ~ encoded or not on the wire, unreserved when signed
    ['/bucket/a=b', '/bucket/a%3Db'],
    ['/bucket/%c3%bc', '/bucket/%C3%BC'], // lower-case hex on the wire
    ['/bucket/ü', '/bucket/%C3%BC'],
    ['/bucket/a%2520b', '/bucket/a%2520b'], // a key holding "%20" literally: not decoded twice
    ['/bucket/100%', '/bucket/100%25'], // a stray % stays a %
    ['/bucket/%zz', '/bucket/%25zz'],
    ['/bucket//a/./b/../c', '/bucket//a/./b/../c'], // S3 keys may hold these: no normalisation
    ['/bucket/dir%2Fkey', '/bucket/dir/key'], // an encoded / is a /
  ])('%s -> %s', (raw, canonical) => {
    expect(canonicalUri(raw)).toBe(canonical);
  });
});

describe('canonical query string', () => {
  const canonical = (raw: string, omit?: string) => canonicalQueryString(parseQuery(raw), omit);

  it.each([
    ['', ''],
    ['lifecycle', 'lifecycle='], // a key without = has the empty value
    ['uploads=', 'uploads='],
    ['b=2&a=1', 'a=1&b=2'],
    ['a=2&a=1&a=10', 'a=1&a=10&a=2'], // repeated keys: all kept, sorted by value
    ['prefix=a+b', 'prefix=a%2Bb'], // + is a plus (SigV4 clients send spaces as %20)
    ['prefix=a%20b', 'prefix=a%20b'],
    ['prefix=dir/', 'prefix=dir%2F'], // / is encoded in the query
    ['prefix=%7E', 'prefix=~'],
    ['k=%E2%9C%93&k=%e2%9c%93', 'k=%E2%9C%93&k=%E2%9C%93'],
    ['x-id=PutObject&X-Amz-Date=1', 'X-Amz-Date=1&x-id=PutObject'], // byte order: upper case first
    ['a=&b&c=1', 'a=&b=&c=1'],
    ['a=1&&b=2', 'a=1&b=2'], // an empty pair is nothing
    ['key=a%3Db', 'key=a%3Db'],
    ['key=a=b', 'key=a%3Db'], // only the first = separates
  ])('%s -> %s', (raw, expected) => {
    expect(canonical(raw)).toBe(expected);
  });

  it('leaves out X-Amz-Signature for the presigned form', () => {
    expect(canonical('X-Amz-Signature=abc&X-Amz-Date=1', 'X-Amz-Signature')).toBe('X-Amz-Date=1');
  });

  it('decodes parameter names too', () => {
    expect(parseQuery('X%2DAmz%2DDate=20130524T000000Z')[0]!.decodedName).toBe('X-Amz-Date');
  });
});

describe('canonical headers', () => {
  it('lower-cases names, trims values, collapses inner spaces, joins repeated headers with ","', () => {
    const headers = headerValues(['Host', 'example.com', 'X-Amz-Meta-A', '  one   two  ', 'x-amz-meta-a', 'three', 'X-Amz-Date', '20130524T000000Z']);
    const text = canonicalRequest({
      method: 'put',
      rawPath: '/b/k',
      query: [],
      headers,
      signedHeaders: ['host', 'x-amz-date', 'x-amz-meta-a'],
      hashedPayload: 'UNSIGNED-PAYLOAD',
    });
    expect(text).toBe('PUT\n/b/k\n\nhost:example.com\nx-amz-date:20130524T000000Z\nx-amz-meta-a:one two,three\n\nhost;x-amz-date;x-amz-meta-a\nUNSIGNED-PAYLOAD');
  });

  it('keeps a signed header that was not sent as an empty value', () => {
    const text = canonicalRequest({ method: 'GET', rawPath: '/', query: [], headers: headerValues(['Host', 'h']), signedHeaders: ['host', 'range'], hashedPayload: 'x' });
    expect(text).toContain('host:h\nrange:\n');
  });
});
