/**
 * The key that signs and verifies tokens, from `perch.auth.tokenKeyFile` (default
 * /secret/token.key). Never a constant and never a per-process random value (DESIGN.md):
 * tokens must survive a restart and every replica must accept the others' tokens.
 *
 * File content:
 * - a PEM EC P-256 private key (`openssl ecparam -name prime256v1 -genkey -noout`, or PKCS#8):
 *   tokens are ES256;
 * - anything else is an HS256 secret: the bytes of the file without trailing whitespace, at
 *   least 32 of them (RFC 7518 §3.2: a key as long as the hash).
 *
 * A missing file is created once, with 32 random bytes (base64url) and mode 0600, with an
 * exclusive create so two replicas starting together end up with the same key. In Kubernetes
 * the Secret volume is read-only and the Pulumi component provides the key instead (in token
 * mode; in Basic mode it provides none, and the token service is simply off: token-key-file.ts).
 */
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';

export interface TokenKey {
  alg: 'HS256' | 'ES256';
  signKey: KeyObject | Uint8Array;
  verifyKey: KeyObject | Uint8Array;
}

const MIN_SECRET_BYTES = 32;

export function parseTokenKey(content: Buffer, path: string): TokenKey {
  const text = content.toString('utf8').replace(/\s+$/, '');
  if (text.startsWith('-----BEGIN')) {
    let key: KeyObject;
    try {
      key = createPrivateKey(text);
    } catch {
      throw new Error(`token key ${path} looks like PEM but is not a private key; write an EC P-256 private key or a random secret of 32+ bytes`);
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new Error(`token key ${path} is a ${key.asymmetricKeyType} key; perch signs with ES256 and needs an EC P-256 (prime256v1) key`);
    }
    return { alg: 'ES256', signKey: key, verifyKey: createPublicKey(key) };
  }
  const secret = Buffer.from(text, 'utf8');
  if (secret.length < MIN_SECRET_BYTES) {
    throw new Error(
      `token key ${path} holds ${secret.length} bytes; HS256 needs at least ${MIN_SECRET_BYTES}: ` +
        `write a random one, e.g. "head -c 32 /dev/urandom | base64 > ${path}", or delete the file to have perch create one`,
    );
  }
  return { alg: 'HS256', signKey: new Uint8Array(secret), verifyKey: new Uint8Array(secret) };
}

/** Creates the key file if it does not exist. Returns true when this call created it. */
export async function ensureTokenKeyFile(path: string): Promise<boolean> {
  const content = `${randomBytes(32).toString('base64url')}\n`;
  try {
    await fs.writeFile(path, content, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    const why =
      code === 'ENOENT'
        ? 'its folder does not exist'
        : code === 'EROFS'
          ? 'the file system is read-only'
          : code === 'EACCES' || code === 'EPERM'
            ? 'perch may not write there'
            : (code ?? String(err));
    throw new Error(`token key ${path} does not exist and cannot be created (${why}); mount one there or set perch.auth.tokenKeyFile to a writable path`);
  }
}
