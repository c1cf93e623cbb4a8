/**
 * The SigV4 signing key and the HMAC helpers around it (S3 API Reference, "Calculate the
 * signature"): kDate = HMAC("AWS4" + secret, yyyymmdd), kRegion = HMAC(kDate, region),
 * kService = HMAC(kRegion, service), kSigning = HMAC(kService, "aws4_request").
 *
 * A key is valid for one secret, day, region and service, so it is cached under those four:
 * a busy client signs thousands of requests a day with one key, and each aws-chunked chunk is
 * signed with it too. The cache is keyed by a SHA-256 of the secret, never the secret itself,
 * and is bounded (oldest entry out first).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export function hmac(key: Uint8Array | string, data: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The SHA-256 of no bytes, which the chunk string-to-sign carries as its empty "headers" hash. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = hmac(`AWS4${secret}`, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

/** Signing keys by (secret digest, date, region, service), at most `limit` of them. */
export class SigningKeyCache {
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly limit = 1024) {}

  get(secret: string, date: string, region: string, service: string): Buffer {
    const id = `${sha256Hex(secret)}/${date}/${region}/${service}`;
    const cached = this.keys.get(id);
    if (cached) return cached;
    const key = deriveSigningKey(secret, date, region, service);
    if (this.keys.size >= this.limit) this.keys.delete(this.keys.keys().next().value!);
    this.keys.set(id, key);
    return key;
  }

  get size(): number {
    return this.keys.size;
  }
}

/** Hex signatures compared in constant time (for equal lengths; a length differs in no secret). */
export function signaturesEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given.toLowerCase(), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
