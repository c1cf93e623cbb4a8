/**
 * HTTPS from the bundled server: a self-signed certificate made for the configured hosts and
 * kept under the storage root (same certificate after a restart), and a configured
 * certificate and key (http.tls), reloaded when the files change. Clients are node's https
 * with `ca` set to exactly the certificate they are told to trust.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../registry-image/src/log';
import { selfSignedCertificate, SELF_SIGNED_VALIDITY_DAYS } from '../../registry-image/src/tls';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { tempDir } from '../helpers/temp-dir';
import { pullTiny, pushTiny, send, tinyImage } from './harness';

const running: RunningRegistry[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

async function start(options: Parameters<typeof startRegistry>[0]): Promise<RunningRegistry & { https: string }> {
  const r = await startRegistry(options);
  running.push(r);
  return Object.assign(r, { https: `https://127.0.0.1:${r.port}` });
}

function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

describe('perch.tls.selfSigned', () => {
  const selfSigned = { perch: { tls: { selfSigned: { hosts: ['registry.roost.test', '10.0.0.106'] } } } };

  it('serves a certificate a client can be told to trust: push and pull over it; a client that trusts nothing is refused', async () => {
    const r = await start({ config: selfSigned });
    const certPath = join(r.dataDir, 'tls', 'cert.pem');
    const cert = readFileSync(certPath, 'utf8');
    const image = tinyImage('tls-self');
    await pushTiny(r.https, 'secure/app', '1.0', image, { ca: cert });
    const pulled = await pullTiny(r.https, 'secure/app', '1.0', image, { ca: cert });
    expect(pulled.manifest.equals(image.manifest)).toBe(true);
    expect(pulled.layer.equals(image.layer)).toBe(true);

    await expect(send(`${r.https}/v2/`)).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    // Plain HTTP on the TLS port gets nothing a registry client could mistake for an answer.
    await expect(send(`${r.url}/v2/`)).rejects.toThrow();

    // The names: every configured host, plus localhost and 127.0.0.1; nothing else.
    const x509 = new X509Certificate(cert);
    expect(x509.subjectAltName).toBe('DNS:registry.roost.test, IP Address:10.0.0.106, DNS:localhost, IP Address:127.0.0.1');
    expect((await send(`${r.https}/v2/`, { ca: cert, servername: 'registry.roost.test' })).status).toBe(200);
    await expect(send(`${r.https}/v2/`, { ca: cert, servername: 'elsewhere.test' })).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(x509.ca).toBe(false);

    // The key is private to the registry's user; the certificate is for handing out.
    expect(statSync(join(r.dataDir, 'tls', 'key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(certPath).mode & 0o777).toBe(0o644);
    expect(statSync(join(r.dataDir, 'tls')).mode & 0o777).toBe(0o700);
  });

  it('keeps the same certificate across a restart, and makes a new one when the hosts change', async () => {
    const r = await start({ config: selfSigned });
    const cert = readFileSync(join(r.dataDir, 'tls', 'cert.pem'), 'utf8');
    const before = (await send(`${r.https}/v2/`, { ca: cert })).fingerprint;
    expect(before).toBe(fingerprintOf(cert));
    expect(await r.stop()).toBe(0);

    const again = await start({ config: selfSigned, dataDir: r.dataDir });
    const after = await send(`${again.https}/v2/`, { ca: cert });
    expect(after.status).toBe(200);
    expect(after.fingerprint).toBe(before);
    expect(again.logs.some((l) => l.includes('"message":"tls: serving the stored self-signed certificate"'))).toBe(true);
    await again.stop();

    const renamed = await start({ config: { perch: { tls: { selfSigned: { hosts: ['other.roost.test'] } } } }, dataDir: r.dataDir });
    const replaced = readFileSync(join(r.dataDir, 'tls', 'cert.pem'), 'utf8');
    expect(fingerprintOf(replaced)).not.toBe(before);
    expect(new X509Certificate(replaced).subjectAltName).toContain('DNS:other.roost.test');
    expect(renamed.logs.some((l) => l.includes('replacing the self-signed certificate') && l.includes('other.roost.test'))).toBe(true);
    await expect(send(`${renamed.https}/v2/`, { ca: cert })).rejects.toThrow();
  });
});

describe('selfSignedCertificate (renewal rules, with a clock)', () => {
  const DAY = 86_400_000;

  it('reuses the stored pair until 30 days before it expires, then replaces it and says why', async () => {
    const root = tempDir('perch-selfsigned-');
    const lines: string[] = [];
    const log = createLogger('info', (line) => lines.push(line));
    const start = Date.now();
    const made = await selfSignedCertificate(root, ['r.test'], log, () => start);
    expect(made.reused).toBe(false);
    expect(Math.round((made.info.notAfter.getTime() - start) / DAY)).toBe(SELF_SIGNED_VALIDITY_DAYS);
    const later = await selfSignedCertificate(root, ['r.test'], log, () => start + (SELF_SIGNED_VALIDITY_DAYS - 31) * DAY);
    expect(later.reused).toBe(true);
    expect(later.info.fingerprint256).toBe(made.info.fingerprint256);
    const late = await selfSignedCertificate(root, ['r.test'], log, () => start + (SELF_SIGNED_VALIDITY_DAYS - 29) * DAY);
    expect(late.reused).toBe(false);
    expect(late.info.fingerprint256).not.toBe(made.info.fingerprint256);
    expect(lines.some((l) => l.includes('replacing the self-signed certificate') && l.includes('less than 30 days'))).toBe(true);
  });

  it('replaces a pair whose key does not match (a crash between the two renames)', async () => {
    const root = tempDir('perch-selfsigned-');
    const log = createLogger('error', () => {});
    const first = await selfSignedCertificate(root, ['r.test'], log);
    const other = await generate([{ name: 'commonName', value: 'r.test' }], { keyType: 'ec', algorithm: 'sha256' });
    writeFileSync(join(first.paths.dir, 'key.pem'), other.private);
    const again = await selfSignedCertificate(root, ['r.test'], log);
    expect(again.reused).toBe(false);
    expect(fingerprintOf(readFileSync(join(first.paths.dir, 'cert.pem'), 'utf8'))).toBe(again.info.fingerprint256);
  });
});

describe('http.tls with cert and key', () => {
  async function makePair(name: string) {
    const pems = await generate([{ name: 'commonName', value: name }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: name }, { type: 7, ip: '127.0.0.1' }] }],
    });
    return { cert: pems.cert, key: pems.private };
  }

  it('serves the configured pair (push and pull), and the new pair once the files change', async () => {
    const dir = tempDir('perch-tls-');
    const first = await makePair('configured.roost.test');
    writeFileSync(join(dir, 'cert.pem'), first.cert);
    writeFileSync(join(dir, 'key.pem'), first.key, { mode: 0o600 });
    const r = await start({ config: { http: { tls: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } } } });
    const image = tinyImage('tls-configured');
    await pushTiny(r.https, 'configured/app', 'v1', image, { ca: first.cert });
    const pulled = await pullTiny(r.https, 'configured/app', 'v1', image, { ca: first.cert });
    expect(pulled.layer.equals(image.layer)).toBe(true);
    expect((await send(`${r.https}/v2/`, { ca: first.cert })).fingerprint).toBe(fingerprintOf(first.cert));
    // Nothing is written under the storage root when the certificate is configured.
    expect(() => statSync(join(r.dataDir, 'tls'))).toThrow();

    // A rotation as a Secret update does it: new files swapped in by rename.
    const second = await makePair('configured.roost.test');
    writeFileSync(join(dir, 'key.pem.new'), second.key, { mode: 0o600 });
    writeFileSync(join(dir, 'cert.pem.new'), second.cert);
    renameSync(join(dir, 'key.pem.new'), join(dir, 'key.pem'));
    renameSync(join(dir, 'cert.pem.new'), join(dir, 'cert.pem'));
    const deadline = Date.now() + 15_000;
    let served: string | undefined;
    while (Date.now() < deadline) {
      // Until the reload, the old certificate is served and a client trusting only the new one refuses it.
      served = await send(`${r.https}/v2/`, { ca: second.cert }).then((res) => res.fingerprint, () => undefined);
      if (served === fingerprintOf(second.cert)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(served).toBe(fingerprintOf(second.cert));
    expect(r.logs.some((l) => l.includes('"message":"tls: certificate reloaded"'))).toBe(true);
  });

  it('refuses to start when the key does not belong to the certificate, naming both keys', async () => {
    const dir = tempDir('perch-tls-');
    const one = await makePair('one.test');
    const two = await makePair('two.test');
    writeFileSync(join(dir, 'cert.pem'), one.cert);
    writeFileSync(join(dir, 'key.pem'), two.key);
    const failed = await startRegistry({ config: { http: { tls: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } } } }).then(
      (r) => {
        running.push(r);
        return undefined;
      },
      (err: Error) => err.message,
    );
    expect(failed).toMatch(/exited with 1/);
    expect(failed).toContain('http.tls.cert');
    expect(failed).toContain('the key does not belong to the certificate');
  });

  it('refuses to start when the certificate file is missing, saying how to fix it', async () => {
    const dir = tempDir('perch-tls-');
    const failed = await startRegistry({ config: { http: { tls: { cert: join(dir, 'nope.pem'), key: join(dir, 'nope.key') } } } }).then(
      (r) => {
        running.push(r);
        return undefined;
      },
      (err: Error) => err.message,
    );
    expect(failed).toMatch(/exited with 1/);
    expect(failed).toContain(`http.tls.cert ${join(dir, 'nope.pem')} cannot be read (ENOENT)`);
  });

  it('with cacert: clients without a certificate connect, a certificate from that CA is accepted, any other is refused (zot: VerifyClientCertIfGiven)', async () => {
    const dir = tempDir('perch-tls-');
    const server = await makePair('mtls.roost.test');
    const ca = await generate([{ name: 'commonName', value: 'roost client CA' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, digitalSignature: true, critical: true }],
    });
    const signed = await generate([{ name: 'commonName', value: 'ci-runner' }], { keyType: 'ec', algorithm: 'sha256', ca: { key: ca.private, cert: ca.cert } });
    const stranger = await generate([{ name: 'commonName', value: 'stranger' }], { keyType: 'ec', algorithm: 'sha256' });
    writeFileSync(join(dir, 'cert.pem'), server.cert);
    writeFileSync(join(dir, 'key.pem'), server.key);
    writeFileSync(join(dir, 'ca.pem'), ca.cert);
    const r = await start({ config: { http: { tls: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), cacert: join(dir, 'ca.pem') } } } });
    expect((await send(`${r.https}/v2/`, { ca: server.cert })).status).toBe(200);
    expect((await send(`${r.https}/v2/`, { ca: server.cert, clientCertificate: { cert: signed.cert, key: signed.private } })).status).toBe(200);
    await expect(send(`${r.https}/v2/`, { ca: server.cert, clientCertificate: { cert: stranger.cert, key: stranger.private } })).rejects.toMatchObject({ code: 'ECONNRESET' });
    // The server is unharmed by the refused one.
    expect((await send(`${r.https}/v2/`, { ca: server.cert })).status).toBe(200);
  });
});
