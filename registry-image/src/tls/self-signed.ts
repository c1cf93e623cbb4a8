/**
 * `perch.tls.selfSigned`: a certificate perch makes for itself when http.tls names none.
 *
 * It is kept beside the data, so a restart (or a new pod on the same volume) serves the same
 * certificate and clients that were told to trust it keep trusting it:
 *
 *   <storage.rootDirectory>/tls/        mode 0700
 *     cert.pem                          mode 0644, the certificate clients may be given
 *     key.pem                           mode 0600, its private key
 *
 * The certificate names every configured host plus localhost and 127.0.0.1 (subjectAltName;
 * clients ignore the CN), is an ECDSA P-256 end-entity certificate (not a CA: trusting it
 * lets it vouch for nothing but this registry), valid 397 days (the longest Apple and the
 * browsers accept for a server certificate). At start it is reused while it matches its key,
 * names every host configured now and has 30 days left; otherwise a new one replaces it and
 * the log says why. Both files are written to a temporary name and renamed, key first, so a
 * crash leaves either the old pair or a mismatch that the next start replaces.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../log';
import { certificateNames, inspectPair, type CertificateInfo } from './certificate';

const DAY_MS = 86_400_000;
export const SELF_SIGNED_VALIDITY_DAYS = 397;
/** A certificate with less left than this is replaced at start. */
export const RENEW_BEFORE_DAYS = 30;
/** Always in the certificate, so the registry can be reached on the machine itself. */
const LOCAL_NAMES = ['localhost', '127.0.0.1'];

export interface SelfSignedPaths {
  dir: string;
  cert: string;
  key: string;
}

export function selfSignedPaths(rootDirectory: string): SelfSignedPaths {
  const dir = join(rootDirectory, 'tls');
  return { dir, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}

export interface SelfSigned {
  cert: string;
  key: string;
  info: CertificateInfo;
  paths: SelfSignedPaths;
  /** False when it was made now. */
  reused: boolean;
}

export function selfSignedNames(hosts: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of [...hosts, ...LOCAL_NAMES]) if (!out.some((n) => n.toLowerCase() === name.toLowerCase())) out.push(name);
  return out;
}

/** Why the stored pair cannot be reused, or undefined when it can. */
function unusable(cert: string, key: string, names: string[], nowMs: number): string | undefined {
  let info: CertificateInfo;
  try {
    info = inspectPair(cert, key);
  } catch (err) {
    return (err as Error).message;
  }
  if (info.notAfter.getTime() - nowMs < RENEW_BEFORE_DAYS * DAY_MS) return `it expires ${info.notAfter.toISOString()}, in less than ${RENEW_BEFORE_DAYS} days`;
  const missing = names.filter((name) => !certificateNames(cert, name));
  if (missing.length) return `it does not name ${missing.join(', ')} (perch.tls.selfSigned.hosts changed)`;
  return undefined;
}

async function readIfThere(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode); // writeFile's mode is filtered by the umask
  await rename(tmp, path);
}

async function generatePair(names: string[], nowMs: number): Promise<{ cert: string; key: string }> {
  // Loaded only here: selfsigned brings a whole X.509 toolkit (and reflect-metadata, which
  // patches the global Reflect) that a registry with its own certificate never needs.
  const { generate } = await import('selfsigned');
  const first = names[0];
  const pems = await generate([{ name: 'commonName', value: first.length <= 64 ? first : 'perch registry' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    // A minute back, so a client whose clock is slightly behind accepts it at once.
    notBeforeDate: new Date(nowMs - 60_000),
    notAfterDate: new Date(nowMs + SELF_SIGNED_VALIDITY_DAYS * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((name) => (isIP(name) !== 0 ? { type: 7 as const, ip: name } : { type: 2 as const, value: name })) },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** The stored self-signed certificate for `hosts`, made (or remade) when it cannot be reused. */
export async function selfSignedCertificate(rootDirectory: string, hosts: readonly string[], log: Logger, now: () => number = Date.now): Promise<SelfSigned> {
  const paths = selfSignedPaths(rootDirectory);
  const names = selfSignedNames(hosts);
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const [cert, key] = await Promise.all([readIfThere(paths.cert), readIfThere(paths.key)]);
  if (cert !== undefined && key !== undefined) {
    const why = unusable(cert, key, names, now());
    if (why === undefined) return { cert, key, info: inspectPair(cert, key), paths, reused: true };
    log.warn('tls: replacing the self-signed certificate', { reason: why, path: paths.cert });
  }
  const made = await generatePair(names, now());
  await writeAtomically(paths.key, made.key, 0o600);
  await writeAtomically(paths.cert, made.cert, 0o644);
  return { ...made, info: inspectPair(made.cert, made.key), paths, reused: false };
}
