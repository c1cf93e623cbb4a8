/**
 * S3's flexible checksums (S3 User Guide, "Checking object integrity"): the algorithms a
 * client names in `x-amz-checksum-<algorithm>` (a header, or a trailer announced by
 * x-amz-trailer) and in Content-MD5, each value base64 of the big-endian digest.
 *
 * CRC32 is zlib's (ISO-HDLC), CRC32C the Castagnoli polynomial (table below), SHA-1, SHA-256
 * and MD5 come from node:crypto. CRC64NVME (the SDKs' newest default for some operations) is
 * recognised and refused by name, with an S3 InvalidRequest saying so.
 */
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { S3AuthError } from './errors';

export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

const NOT_DIGESTS = ['algorithm', 'type', 'mode'];

/** Algorithms S3 knows that we do not compute. */
const KNOWN_UNSUPPORTED = ['crc64nvme'];

const DIGEST_BYTES: Record<ChecksumAlgorithm | 'md5', number> = { crc32: 4, crc32c: 4, sha1: 20, sha256: 32, md5: 16 };

/** A running digest of a body. */
export interface BodyDigest {
  update(bytes: Uint8Array): void;
  /** Base64 of the digest, as S3 writes it. */
  digestBase64(): string;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32cUpdate(crc: number, bytes: Uint8Array): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC32C_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function crcDigest(update: (crc: number, bytes: Uint8Array) => number): BodyDigest {
  let crc = 0;
  return {
    update(bytes) {
      crc = update(crc, bytes);
    },
    digestBase64() {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(crc >>> 0);
      return out.toString('base64');
    },
  };
}

function hashDigest(hash: Hash): BodyDigest {
  return {
    update: (bytes) => void hash.update(bytes),
    digestBase64: () => hash.digest('base64'),
  };
}

export function createBodyDigest(algorithm: ChecksumAlgorithm | 'md5'): BodyDigest {
  switch (algorithm) {
    case 'crc32':
      return crcDigest((crc, bytes) => crc32(bytes, crc));
    case 'crc32c':
      return crcDigest(crc32cUpdate);
    case 'sha1':
    case 'sha256':
    case 'md5':
      return hashDigest(createHash(algorithm));
  }
}

/**
 * `x-amz-checksum-crc32` -> `crc32`; undefined for a name that is no checksum header;
 * InvalidRequest for an algorithm S3 has and we do not compute.
 */
export function checksumAlgorithmOf(headerName: string): ChecksumAlgorithm | undefined {
  const name = headerName.toLowerCase();
  if (!name.startsWith('x-amz-checksum-')) return undefined;
  const algorithm = name.slice('x-amz-checksum-'.length);
  if ((CHECKSUM_ALGORITHMS as readonly string[]).includes(algorithm)) return algorithm as ChecksumAlgorithm;
  // Headers of the family that carry no digest: x-amz-checksum-algorithm: CRC32C (minio-go),
  // x-amz-checksum-type: FULL_OBJECT|COMPOSITE, x-amz-checksum-mode: ENABLED (GetObject).
  if (NOT_DIGESTS.includes(algorithm)) return undefined;
  const known = KNOWN_UNSUPPORTED.includes(algorithm) ? 'S3 has it, this server does not compute it' : 'unknown algorithm';
  throw new S3AuthError('InvalidRequest', `checksum ${headerName} is not supported (${known}); use one of ${CHECKSUM_ALGORITHMS.map((a) => `x-amz-checksum-${a}`).join(', ')}`);
}

/** A base64 value of the right length for its algorithm, or InvalidDigest. */
export function checkDigestSyntax(algorithm: ChecksumAlgorithm | 'md5', value: string, where: string): void {
  const bytes = /^[A-Za-z0-9+/]*={0,2}$/.test(value) && value.length % 4 === 0 ? Buffer.from(value, 'base64') : undefined;
  if (bytes === undefined || bytes.length !== DIGEST_BYTES[algorithm]) {
    throw new S3AuthError('InvalidDigest', `${where} "${value.slice(0, 64)}" is not a base64 ${algorithm} (${DIGEST_BYTES[algorithm]} bytes)`);
  }
}
