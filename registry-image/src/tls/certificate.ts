/** Reading a PEM certificate and key pair: does the key match, what names, until when. */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

export interface CertificateInfo {
  /** SHA-256 of the DER certificate, colon-separated hex (what `openssl x509 -fingerprint -sha256` prints). */
  fingerprint256: string;
  notAfter: Date;
  notBefore: Date;
  /** DNS names and IP addresses the certificate is valid for. */
  names: string[];
  selfSigned: boolean;
}

/** Parses the first certificate of `certPem` and checks `keyPem` is its private key; throws saying which is wrong. */
export function inspectPair(certPem: string | Buffer, keyPem: string | Buffer): CertificateInfo {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw new Error(`the certificate is not a PEM X.509 certificate (${(err as Error).message})`);
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new Error(`the key is not an unencrypted PEM private key (${(err as Error).message})`);
  }
  if (!cert.checkPrivateKey(key)) throw new Error('the key does not belong to the certificate');
  return {
    fingerprint256: cert.fingerprint256,
    notAfter: new Date(cert.validTo),
    notBefore: new Date(cert.validFrom),
    names: subjectAltNames(cert),
    selfSigned: cert.checkIssued(cert),
  };
}

/** "DNS:localhost, IP Address:127.0.0.1" -> ["localhost", "127.0.0.1"]. */
function subjectAltNames(cert: X509Certificate): string[] {
  const text = cert.subjectAltName;
  if (!text) return [];
  const out: string[] = [];
  for (const entry of text.split(', ')) {
    const colon = entry.indexOf(':');
    const kind = entry.slice(0, colon);
    if (kind === 'DNS' || kind === 'IP Address') out.push(entry.slice(colon + 1));
  }
  return out;
}

/** Whether the certificate names `host` exactly (a DNS name, wildcard as written, or an IP address). */
export function certificateNames(certPem: string | Buffer, host: string): boolean {
  const cert = new X509Certificate(certPem);
  if (isIP(host) !== 0) return cert.checkIP(host) !== undefined;
  return subjectAltNames(cert).some((name) => isIP(name) === 0 && name.toLowerCase() === host.toLowerCase());
}
