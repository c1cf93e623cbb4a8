/**
 * Certificates made with the openssl command line, the way an operator makes them (no
 * library that might share a bug with the code under test): a CA, server certificates it signs,
 * and client certificates with the subjects and subjectAltNames the mTLS tests need.
 *
 *   const ca = await makeCa(dir, 'roost client CA');
 *   const server = await issue(ca, dir, 'server', { subject: '/CN=127.0.0.1', san: ['IP:127.0.0.1'], server: true });
 *   const alice = await issue(ca, dir, 'alice', { subject: '/CN=alice', san: ['URI:spiffe://example.org/workload/alice'] });
 *
 * Keys are EC P-256 unless `rsa` is set; every certificate is valid for three days from now.
 * `-multivalue-rdn` is always on, so "/OU=a+OU=b" is one RDN with two values.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './run-command';

export interface CertificateFiles {
  /** PEM files on disk. */
  certPath: string;
  keyPath: string;
}

export interface Ca extends CertificateFiles {
  name: string;
}

async function openssl(args: string[]): Promise<void> {
  await runCommand('openssl', args, { timeoutMs: 30_000 });
}

function keyArgs(rsa: boolean | undefined): string[] {
  return rsa ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
}

/** A self-signed CA certificate and key: `${dir}/${file}.crt` and `.key`. */
export async function makeCa(dir: string, name: string, file = name.replace(/[^A-Za-z0-9]+/g, '-')): Promise<Ca> {
  const certPath = join(dir, `${file}.crt`);
  const keyPath = join(dir, `${file}.key`);
  await openssl([
    'req', '-x509', ...keyArgs(false), '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '3', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { name, certPath, keyPath };
}

export interface IssueOptions {
  /** openssl -subj form: "/C=DE/O=Roost/CN=alice"; "+" between two attributes makes one multi-valued RDN. */
  subject: string;
  /** subjectAltName entries: "DNS:host", "IP:127.0.0.1", "URI:spiffe://...", "email:a@b". */
  san?: string[];
  /** A server certificate (serverAuth); otherwise a client one (clientAuth). */
  server?: boolean;
  rsa?: boolean;
  /** The subject as UTF8String (openssl -utf8), for names beyond ASCII. */
  utf8?: boolean;
}

/** A certificate `ca` signs: `${dir}/${file}.crt` and `.key`. */
export async function issue(ca: Ca, dir: string, file: string, options: IssueOptions): Promise<CertificateFiles> {
  const certPath = join(dir, `${file}.crt`);
  const keyPath = join(dir, `${file}.key`);
  const ext = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${options.server ? 'serverAuth' : 'clientAuth'}`,
    ...(options.san?.length ? [`subjectAltName=${options.san.join(',')}`] : []),
  ];
  const extPath = join(dir, `${file}.ext`);
  writeFileSync(extPath, `${ext.join('\n')}\n`);
  const csrPath = join(dir, `${file}.csr`);
  await openssl([
    'req', '-new', ...keyArgs(options.rsa), '-nodes', '-keyout', keyPath, '-out', csrPath, '-subj', options.subject, '-multivalue-rdn',
    ...(options.utf8 ? ['-utf8'] : []),
  ]);
  await openssl(['x509', '-req', '-in', csrPath, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-CAcreateserial', '-out', certPath, '-days', '3', '-extfile', extPath]);
  return { certPath, keyPath };
}
