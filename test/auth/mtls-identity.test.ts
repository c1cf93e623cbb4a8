/**
 * Who a client certificate names (auth/mtls-authenticator.ts, tls/certificate-names.ts):
 *
 * - the subject DN, CN and subjectAltNames read from certificates openssl made, compared field
 *   by field with what Go's crypto/x509 (zot's parser) prints for the same files: multi-valued
 *   RDNs, repeated OUs, escapes, attributes Go has no name for (emailAddress, DC, UID), UTF-8;
 * - zot's identityAttributes chain: the first attribute the certificate has decides, SAN
 *   indexes, uriSanPattern's first group, and the refusals for a certificate naming nobody;
 * - MtlsAuthenticator on a real TLS socket: a verified certificate names its user, no
 *   certificate is anonymous (null), an unverified one is refused (TokenInvalid), never a user.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateIdentity, MtlsAuthenticator } from '../../registry-image/src/auth/mtls-authenticator';
import { TokenInvalid } from '../../registry-image/src/auth/tokens';
import type { MtlsConfig } from '../../registry-image/src/config/auth-types';
import { certificateNames } from '../../registry-image/src/tls/certificate-names';
import { issue, makeCa, type Ca, type CertificateFiles } from '../helpers/certificates';
import { tempDir } from '../helpers/temp-dir';

/** Prints, per certificate file, what zot's Go code reads from it. */
const GO_PROGRAM = `package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
)

func main() {
	out := []map[string]any{}
	for _, path := range os.Args[1:] {
		raw, _ := os.ReadFile(path)
		block, _ := pem.Decode(raw)
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			out = append(out, map[string]any{"error": err.Error()})
			continue
		}
		uris := []string{}
		for _, u := range cert.URIs {
			uris = append(uris, u.String())
		}
		out = append(out, map[string]any{
			"subject": cert.Subject.String(), "commonName": cert.Subject.CommonName,
			"emails": append([]string{}, cert.EmailAddresses...), "dnsNames": append([]string{}, cert.DNSNames...), "uris": uris,
		})
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}
`;

const SUBJECTS: Array<{ file: string; subject: string; san?: string[]; utf8?: boolean }> = [
  { file: 'plain', subject: '/CN=clientuser' },
  { file: 'full', subject: '/C=DE/ST=Berlin/L=Berlin/street=Main St 1/postalCode=10115/O=Roost GmbH/OU=ci/OU=release/CN=alice/serialNumber=42' },
  { file: 'unordered', subject: '/CN=bob/O=Roost/C=DE/OU=platform' },
  { file: 'multivalued', subject: '/O=Roost/OU=builders+CN=multi' },
  { file: 'escapes', subject: '/O=A\\, B/OU=x\\+y/CN=#hash; <lt> "q" \\\\ back' },
  { file: 'unnamed', subject: '/DC=org/DC=example/UID=u-1/emailAddress=carol@example.org/CN=carol' },
  { file: 'utf8', subject: '/O=Straße/CN=Jürgen Ä', utf8: true },
  {
    file: 'sans',
    subject: '/CN=workload',
    san: ['URI:spiffe://example.org/workload/testuser', 'URI:https://ci.example.org/job/7', 'DNS:build-1.example.org', 'DNS:build-2.example.org', 'email:first@example.org', 'email:second@example.org'],
  },
  { file: 'no-cn', subject: '/O=Roost/OU=nobody' },
];

let dir: string;
let ca: Ca;
const made = new Map<string, CertificateFiles>();

beforeAll(async () => {
  dir = tempDir('perch-mtls-id-');
  ca = await makeCa(dir, 'identity test CA');
  for (const s of SUBJECTS) made.set(s.file, await issue(ca, dir, s.file, { subject: s.subject, san: s.san, utf8: s.utf8 }));
}, 60_000);

function der(file: string): Buffer {
  return new X509Certificate(readFileSync(made.get(file)!.certPath)).raw;
}

describe('certificate names as zot (Go crypto/x509) reads them', () => {
  it('subject DN, CN, emails, DNS names and URIs equal Go\'s for every test certificate', () => {
    const program = join(dir, 'names.go');
    writeFileSync(program, GO_PROGRAM);
    const files = SUBJECTS.map((s) => made.get(s.file)!.certPath);
    const goOut = JSON.parse(execFileSync('go', ['run', program, ...files], { encoding: 'utf8', env: { ...process.env, GOFLAGS: '-mod=mod', GO111MODULE: 'off' }, timeout: 120_000 })) as Array<Record<string, unknown>>;
    SUBJECTS.forEach((s, i) => {
      const names = certificateNames(der(s.file));
      expect({ file: s.file, ...names, subject: names.subject instanceof Error ? `error: ${names.subject.message}` : names.subject }).toEqual({ file: s.file, ...goOut[i] });
    });
    // What the comparison covers, spelled out for a reader of this test:
    expect(certificateNames(der('full')).subject).toBe('SERIALNUMBER=42,CN=alice,OU=ci+OU=release,O=Roost GmbH,POSTALCODE=10115,STREET=Main St 1,L=Berlin,ST=Berlin,C=DE');
    expect(certificateNames(der('escapes')).subject).toBe('CN=\\#hash\\; \\<lt\\> \\"q\\" \\\\ back,OU=x\\+y,O=A\\, B');
  }, 180_000);
});

const base: MtlsConfig = { identityAttributes: ['commonname'], uriSanIndex: 0, dnsSanIndex: 0, emailSanIndex: 0 };

describe('identityAttributes, as zot\'s extractMTLSIdentity', () => {
  const cases: Array<[string, string, Partial<MtlsConfig>, string | RegExp]> = [
    ['CommonName', 'plain', {}, 'clientuser'],
    ['Subject (Go\'s DN string)', 'full', { identityAttributes: ['subject'] }, 'SERIALNUMBER=42,CN=alice,OU=ci+OU=release,O=Roost GmbH,POSTALCODE=10115,STREET=Main St 1,L=Berlin,ST=Berlin,C=DE'],
    ['URI, the first by default', 'sans', { identityAttributes: ['uri'] }, 'spiffe://example.org/workload/testuser'],
    ['URI at uriSanIndex 1', 'sans', { identityAttributes: ['uri'], uriSanIndex: 1 }, 'https://ci.example.org/job/7'],
    ['URI through uriSanPattern (zot\'s SPIFFE example)', 'sans', { identityAttributes: ['uri', 'commonname'], uriSanPattern: 'spiffe://example.org/workload/(.*)' }, 'testuser'],
    ['Email at emailSanIndex 1', 'sans', { identityAttributes: ['email'], emailSanIndex: 1 }, 'second@example.org'],
    ['DNSName', 'sans', { identityAttributes: ['dnsname'] }, 'build-1.example.org'],
    ['URI missing: falls to CommonName', 'plain', { identityAttributes: ['uri', 'commonname'] }, 'clientuser'],
    ['pattern does not match: falls to CommonName', 'sans', { identityAttributes: ['uri', 'commonname'], uriSanPattern: '^spiffe://other.org/(.*)' }, 'workload'],
    ['index out of range: falls to the next', 'sans', { identityAttributes: ['dnsname', 'email'], dnsSanIndex: 5 }, 'first@example.org'],
    ['no CN and nothing else configured: refused, naming what was tried', 'no-cn', {}, /names no user \(commonname: no CommonName in the subject\)/],
    ['empty capture group: refused (zot does not try the next attribute)', 'sans', { identityAttributes: ['uri', 'commonname'], uriSanPattern: 'spiffe://example.org/workload/testuser()' }, /uri gives an empty name/],
    ['pattern without a group never matches', 'sans', { identityAttributes: ['uri'], uriSanPattern: 'spiffe://.*' }, /does not match uriSanPattern/],
  ];
  for (const [name, file, config, expected] of cases) {
    it(name, () => {
      const result = certificateIdentity(der(file), { ...base, ...config });
      if (typeof expected === 'string') expect(result).toMatchObject({ identity: expected });
      else expect('problem' in result ? result.problem : result.identity).toMatch(expected);
    });
  }

  it('a subject Go cannot read (PrintableString with "@") names nobody: zot could not even parse the certificate', () => {
    // Hand-made: the DER of a real certificate with its CN's UTF8String retagged as PrintableString.
    const raw = Buffer.from(der('unnamed'));
    const email = Buffer.from('carol@example.org');
    const at = raw.indexOf(email);
    expect(raw[at - 2]).toBe(0x16); // emailAddress is an IA5String...
    raw[at - 2] = 0x13; // ...now a PrintableString, which may not hold "@"
    const names = certificateNames(raw);
    expect(names.subject).toBeInstanceOf(Error);
    expect(certificateIdentity(raw, { ...base, identityAttributes: ['subject', 'commonname'] })).toEqual({
      problem: expect.stringMatching(/names no user \(subject: invalid PrintableString; commonname: no CommonName in the subject\)/),
    });
  });
});

describe('MtlsAuthenticator on a TLS socket', () => {
  let server: Server;
  let port: number;
  let serverCert: CertificateFiles;
  let stranger: CertificateFiles;

  beforeAll(async () => {
    serverCert = await issue(ca, dir, 'server', { subject: '/CN=127.0.0.1', san: ['IP:127.0.0.1'], server: true });
    const otherCa = await makeCa(dir, 'untrusted CA');
    stranger = await issue(otherCa, dir, 'stranger', { subject: '/CN=clientuser' });
    const auth = new MtlsAuthenticator({ ...base, identityAttributes: ['uri', 'commonname'], uriSanPattern: 'spiffe://example.org/workload/(.*)' });
    // Like perch's TLS setup, but without the drop of unverified certificates: this tests the authenticator's own check.
    server = createServer(
      { cert: readFileSync(serverCert.certPath), key: readFileSync(serverCert.keyPath), ca: readFileSync(ca.certPath), requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        let body: unknown;
        try {
          body = { principal: auth.identify(req) };
        } catch (err) {
          body = { refused: err instanceof TokenInvalid ? err.reason : String(err) };
        }
        res.end(JSON.stringify(body));
      },
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  }, 60_000);
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function ask(client?: CertificateFiles): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/v2/',
          ca: readFileSync(ca.certPath),
          agent: false,
          ...(client ? { cert: readFileSync(client.certPath), key: readFileSync(client.keyPath) } : {}),
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('a verified certificate names its user (SPIFFE URI first, then CN)', async () => {
    expect(await ask(made.get('sans'))).toEqual({ principal: { username: 'testuser', groups: [], method: 'mtls' } });
    expect(await ask(made.get('plain'))).toEqual({ principal: { username: 'clientuser', groups: [], method: 'mtls' } });
  });

  it('no certificate: null (anonymous, or another method decides)', async () => {
    expect(await ask()).toEqual({ principal: null });
  });

  it('a certificate from another CA, even with the same CN, is refused, never a user', async () => {
    const answer = await ask(stranger);
    expect(answer.principal).toBeUndefined();
    expect(answer.refused).toMatch(/does not verify against http\.tls\.cacert \(UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify/i);
  });

  it('a verified certificate that names nobody is refused with the reason', async () => {
    expect(await ask(made.get('no-cn'))).toEqual({ refused: expect.stringMatching(/names no user \(uri: no URI in subjectAltName; commonname: no CommonName in the subject\)/) });
  });
});
