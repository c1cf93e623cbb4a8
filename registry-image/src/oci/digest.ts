/**
 * Digests as the OCI image spec defines them ("Digests"): `algorithm:encoded`.
 * perch accepts the two registered algorithms, sha256 and sha512, with lowercase hex.
 */
import { createHash, type Hash } from 'node:crypto';

export type DigestAlgorithm = 'sha256' | 'sha512';

const ENCODED_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const DIGEST = /^(sha256|sha512):([a-f0-9]+)$/;

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

/** The parsed digest, or null when it is not a well-formed sha256/sha512 digest. */
export function parseDigest(digest: string): ParsedDigest | null {
  const m = DIGEST.exec(digest);
  if (!m) return null;
  const algorithm = m[1] as DigestAlgorithm;
  if (m[2].length !== ENCODED_LENGTH[algorithm]) return null;
  return { algorithm, hex: m[2] };
}

export function isDigest(value: string): boolean {
  return parseDigest(value) !== null;
}

export function newHash(algorithm: DigestAlgorithm): Hash {
  return createHash(algorithm);
}

export function digestOf(bytes: Buffer | string, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}
