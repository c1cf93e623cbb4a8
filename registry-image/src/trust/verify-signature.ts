/**
 * The cryptography of cosign signatures, with node:crypto only:
 * - a raw signature over bytes by an ECDSA (ASN.1 DER, as Go's ecdsa.SignASN1 writes), RSA
 *   (PKCS #1 v1.5, or PSS) or Ed25519 key; cosign hashes with SHA-256 for the keys
 *   `cosign generate-key-pair` makes (ECDSA P-256), larger curves are tried with their own hash
 *   as well;
 * - DSSE's pre-authentication encoding (the bytes a DSSE signature covers), from the DSSE
 *   protocol (github.com/secure-systems-lab/dsse, protocol.md):
 *   "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal bytes.
 */
import { constants, verify, type KeyObject } from 'node:crypto';
import type { TrustedKey } from './key-store';

function tryVerify(algorithm: string | null, data: Buffer, key: Parameters<typeof verify>[2], signature: Buffer): boolean {
  try {
    return verify(algorithm, data, key, signature);
  } catch {
    return false; // a signature of the wrong shape for this key type
  }
}

/** Whether `signature` over `data` was made with the private half of `key`. */
export function verifyRaw(key: KeyObject, data: Buffer, signature: Buffer): boolean {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return tryVerify(null, data, key, signature);
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const hashes = curve === 'secp384r1' ? ['sha256', 'sha384'] : curve === 'secp521r1' ? ['sha256', 'sha512'] : ['sha256'];
      return hashes.some((h) => tryVerify(h, data, { key, dsaEncoding: 'der' }, signature));
    }
    case 'rsa':
      return (
        tryVerify('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }, signature) ||
        tryVerify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, signature)
      );
    default:
      return false;
  }
}

/** The first key whose signature `signature` over `data` is; undefined when none. */
export function findSigner(keys: readonly TrustedKey[], data: Buffer, signature: Buffer): TrustedKey | undefined {
  return keys.find((k) => verifyRaw(k.key, data, signature));
}

/** DSSE pre-authentication encoding of a payload. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}
