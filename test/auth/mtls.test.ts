/**
 * Mutual TLS end to end: the bundled perch started with zot's own examples
 * (examples/config-mtls.json and config-mtls-spiffe.json, copied to test/fixtures/zot-configs/
 * and changed only in file paths, port and storage folder), certificates made with openssl,
 * real clients:
 *
 *   curl --cert/--key             a push by hand (blob upload, manifest PUT) as clientuser
 *   oras --cert-file/--key-file   push and pull
 *   skopeo --dest-cert-dir        copy into the registry (docker's certs.d layout:
 *                                 client.cert, client.key, ca.crt)
 *   crane                         has no client-certificate option (go-containerregistry
 *                                 v0.22 reads no certs.d): it shows what a client without
 *                                 a certificate gets
 *
 * What zot's example config means, and what is checked: clientuser (the certificate's CN) may
 * read and create; any other verified certificate is a logged-in user and gets defaultPolicy
 * (read); no certificate is anonymous, and the example grants anonymous callers nothing, so
 * they get 401 (zot's Basic challenge, realm "zot"); a certificate from another CA, even with
 * CN=clientuser, gets no HTTP answer at all (the connection is dropped after the handshake, as
 * Go's VerifyClientCertIfGiven fails zot's) and the registry logs why. The SPIFFE example maps
 * the URI SAN spiffe://example.org/workload/testuser to "testuser" and falls back to the CN.
 * A third config mixes mTLS with htpasswd and anonymous read, zot's "clients without a
 * certificate are anonymous" case: they read, a password still logs in over the same TLS.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issue, makeCa, type Ca, type CertificateFiles } from '../helpers/certificates';
import { makeClientHome, type ClientHome } from '../helpers/client-home';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { runCommand } from '../helpers/run-command';
import { tempDir } from '../helpers/temp-dir';
import { writeHtpasswd } from './harness';

const FIXTURES = join(__dirname, '..', 'fixtures', 'zot-configs');

let dir: string;
let ca: Ca;
let server: CertificateFiles;
const clients: Record<string, CertificateFiles> = {};
let home: ClientHome;

beforeAll(async () => {
  dir = tempDir('perch-mtls-');
  home = makeClientHome('perch-mtls-client-');
  ca = await makeCa(dir, 'roost mTLS CA');
  const untrusted = await makeCa(dir, 'someone elses CA');
  server = await issue(ca, dir, 'server', { subject: '/CN=127.0.0.1', san: ['IP:127.0.0.1', 'DNS:localhost'], server: true });
  clients.clientuser = await issue(ca, dir, 'clientuser', { subject: '/O=Roost/CN=clientuser' });
  clients.other = await issue(ca, dir, 'other', { subject: '/CN=someone-else' });
  clients.workload = await issue(ca, dir, 'workload', { subject: '/CN=workload-7', san: ['URI:spiffe://example.org/workload/testuser'] });
  clients.forged = await issue(untrusted, dir, 'forged', { subject: '/O=Roost/CN=clientuser' });
}, 60_000);
afterAll(() => home?.remove());

/** A zot example with only its paths, port and storage folder changed. */
function zotExample(file: string): Record<string, any> {
  const config = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8'));
  config.storage.rootDirectory = tempDir('perch-mtls-data-');
  config.http.port = '0';
  config.http.tls = { cert: server.certPath, key: server.keyPath, cacert: ca.certPath };
  return config;
}

async function start(config: Record<string, any>): Promise<RunningRegistry & { https: string }> {
  const r = await startRegistry({ config });
  return Object.assign(r, { https: `https://127.0.0.1:${r.port}` });
}

interface Curl {
  /** curl's exit code: 0 when an HTTP answer came. */
  exit: number | null;
  status: number;
  headers: string;
  body: string;
  stderr: string;
}

async function curl(url: string, options: { cert?: CertificateFiles; method?: string; data?: Buffer; headers?: string[] } = {}): Promise<Curl> {
  const bodyFile = join(dir, `curl-${process.hrtime.bigint()}`);
  const headerFile = `${bodyFile}.h`;
  const args = ['-sS', '--cacert', ca.certPath, '-o', bodyFile, '-D', headerFile, '-w', '%{http_code}', '-X', options.method ?? 'GET', url];
  if (options.cert) args.push('--cert', options.cert.certPath, '--key', options.cert.keyPath);
  for (const h of options.headers ?? []) args.push('-H', h);
  if (options.data) {
    const dataFile = `${bodyFile}.in`;
    writeFileSync(dataFile, options.data);
    args.push('--data-binary', `@${dataFile}`);
  }
  const r = await runCommand('curl', args, { allowFailure: true, timeoutMs: 30_000 });
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  return { exit: r.code, status: Number(r.stdout || 0), headers: read(headerFile), body: read(bodyFile), stderr: r.stderr };
}

const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The distribution-spec push by hand: POST an upload, PUT each blob, PUT the manifest. Returns each step's status. */
async function pushByHand(base: string, repo: string, tag: string, cert?: CertificateFiles): Promise<{ statuses: number[]; manifest: Buffer }> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = Buffer.from(`layer of ${repo}:${tag}`);
  const statuses: number[] = [];
  for (const blob of [config, layer]) {
    const started = await curl(`${base}/v2/${repo}/blobs/uploads/`, { cert, method: 'POST' });
    statuses.push(started.status);
    if (started.status !== 202) return { statuses, manifest: Buffer.alloc(0) };
    const location = /^location:\s*(\S+)/im.exec(started.headers)![1];
    const url = new URL(location, base);
    url.searchParams.set('digest', digest(blob));
    statuses.push((await curl(url.toString(), { cert, method: 'PUT', data: blob, headers: ['Content-Type: application/octet-stream'] })).status);
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digest(layer), size: layer.length }],
    }),
  );
  statuses.push((await curl(`${base}/v2/${repo}/manifests/${tag}`, { cert, method: 'PUT', data: manifest, headers: ['Content-Type: application/vnd.oci.image.manifest.v1+json'] })).status);
  return { statuses, manifest };
}

function orasArgs(cert?: CertificateFiles): string[] {
  return ['--ca-file', ca.certPath, ...(cert ? ['--cert-file', cert.certPath, '--key-file', cert.keyPath] : [])];
}

describe("zot's examples/config-mtls.json", () => {
  let r: RunningRegistry & { https: string };
  beforeAll(async () => {
    r = await start(zotExample('config-mtls.json'));
  });
  afterAll(async () => {
    await r?.stop();
  });

  it('curl as clientuser (CN): pushes a blob and a manifest by hand, then reads it back', async () => {
    const { statuses, manifest } = await pushByHand(r.https, 'mtls/by-curl', 'v1', clients.clientuser);
    expect(statuses).toEqual([202, 201, 202, 201, 201]);
    const got = await curl(`${r.https}/v2/mtls/by-curl/manifests/v1`, { cert: clients.clientuser, headers: ['Accept: application/vnd.oci.image.manifest.v1+json'] });
    expect(got.status).toBe(200);
    expect(got.body).toBe(manifest.toString());
  });

  it('another certificate from the CA is a logged-in user: reads (defaultPolicy), but its push is 403 DENIED', async () => {
    expect((await curl(`${r.https}/v2/mtls/by-curl/manifests/v1`, { cert: clients.other, headers: ['Accept: application/vnd.oci.image.manifest.v1+json'] })).status).toBe(200);
    const push = await curl(`${r.https}/v2/mtls/by-other/blobs/uploads/`, { cert: clients.other, method: 'POST' });
    expect(push.status).toBe(403);
    expect(JSON.parse(push.body).errors[0]).toMatchObject({ code: 'DENIED', message: expect.stringContaining('user "someone-else" may not create mtls/by-other') });
  });

  it('no certificate: anonymous, which zot\'s example grants nothing: read and push are 401 with zot\'s Basic challenge', async () => {
    const read = await curl(`${r.https}/v2/mtls/by-curl/manifests/v1`);
    expect(read.status).toBe(401);
    expect(read.headers).toMatch(/^www-authenticate: Basic realm="zot"/im);
    expect((await curl(`${r.https}/v2/mtls/anon/blobs/uploads/`, { method: 'POST' })).status).toBe(401);
    // crane has no way to present a certificate: it is refused the same way.
    const crane = await runCommand('crane', ['manifest', `127.0.0.1:${r.port}/mtls/by-curl:v1`], { env: { ...home.env, SSL_CERT_FILE: ca.certPath }, allowFailure: true });
    expect(crane.code).not.toBe(0);
    expect(crane.stderr).toMatch(/UNAUTHORIZED/);
  });

  it('a certificate from another CA, even with CN=clientuser, gets no HTTP answer, and the registry logs why', async () => {
    const forged = await curl(`${r.https}/v2/mtls/by-curl/manifests/v1`, { cert: clients.forged });
    expect(forged.status).toBe(0);
    expect(forged.exit).not.toBe(0);
    const push = await curl(`${r.https}/v2/mtls/forged/blobs/uploads/`, { cert: clients.forged, method: 'POST' });
    expect(push.status).toBe(0);
    expect(r.logs.join('\n')).toMatch(/"message":"tls: client certificate refused: it does not verify against http.tls.cacert".*"subject":"O=Roost, CN=clientuser"/);
    // And the registry still serves everyone else.
    expect((await curl(`${r.https}/v2/`, { cert: clients.clientuser })).status).toBe(200);
  });

  it('oras with --cert-file/--key-file pushes and pulls as clientuser; without a certificate its pull is refused', async () => {
    const work = home.folder('oras-work');
    writeFileSync(join(work, 'notes.txt'), 'pushed over mutual TLS\n');
    await runCommand('oras', ['push', ...orasArgs(clients.clientuser), `127.0.0.1:${r.port}/mtls/by-oras:v1`, 'notes.txt'], { env: home.env, cwd: work });
    const out = home.folder('oras-out');
    await runCommand('oras', ['pull', ...orasArgs(clients.clientuser), '-o', out, `127.0.0.1:${r.port}/mtls/by-oras:v1`], { env: home.env });
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('pushed over mutual TLS\n');
    const anonymous = await runCommand('oras', ['pull', ...orasArgs(), '-o', home.folder('oras-anon'), `127.0.0.1:${r.port}/mtls/by-oras:v1`], { env: home.env, allowFailure: true });
    expect(anonymous.code).not.toBe(0);
    // oras's words for a 401 with a Basic challenge when it holds no login.
    expect(anonymous.stderr).toMatch(/basic credential not found/);
  });

  it('skopeo with --dest-cert-dir (client.cert, client.key, ca.crt) copies an image in as clientuser', async () => {
    // The source: what curl pushed, read back over mTLS too; the certificate folder in docker's certs.d layout.
    const certDir = home.folder('skopeo-certs');
    copyFileSync(clients.clientuser.certPath, join(certDir, 'client.cert'));
    copyFileSync(clients.clientuser.keyPath, join(certDir, 'client.key'));
    copyFileSync(ca.certPath, join(certDir, 'ca.crt'));
    await runCommand(
      'skopeo',
      ['--policy', home.skopeoPolicy, 'copy', '--src-cert-dir', certDir, '--dest-cert-dir', certDir, `docker://127.0.0.1:${r.port}/mtls/by-curl:v1`, `docker://127.0.0.1:${r.port}/mtls/by-skopeo:v1`],
      { env: home.env, timeoutMs: 90_000 },
    );
    const copied = await curl(`${r.https}/v2/mtls/by-skopeo/manifests/v1`, { cert: clients.clientuser, headers: ['Accept: application/vnd.oci.image.manifest.v1+json'] });
    expect(copied.status).toBe(200);
    // Without the client files in the folder, the same copy is refused.
    const noClient = home.folder('skopeo-ca-only');
    copyFileSync(ca.certPath, join(noClient, 'ca.crt'));
    const refused = await runCommand(
      'skopeo',
      ['--policy', home.skopeoPolicy, 'copy', '--src-cert-dir', certDir, '--dest-cert-dir', noClient, `docker://127.0.0.1:${r.port}/mtls/by-curl:v1`, `docker://127.0.0.1:${r.port}/mtls/by-skopeo:v2`],
      { env: home.env, timeoutMs: 90_000, allowFailure: true },
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/unauthorized|authentication required/i);
  });
});

describe("zot's examples/config-mtls-spiffe.json", () => {
  let r: RunningRegistry & { https: string };
  beforeAll(async () => {
    r = await start(zotExample('config-mtls-spiffe.json'));
  });
  afterAll(async () => {
    await r?.stop();
  });

  it('the URI SAN spiffe://example.org/workload/testuser is user "testuser": its push succeeds', async () => {
    const { statuses } = await pushByHand(r.https, 'spiffe/app', 'v1', clients.workload);
    expect(statuses).toEqual([202, 201, 202, 201, 201]);
  });

  it('a certificate without a URI SAN falls back to its CN: clientuser is not testuser here, so it reads but may not push', async () => {
    expect((await curl(`${r.https}/v2/spiffe/app/manifests/v1`, { cert: clients.clientuser, headers: ['Accept: application/vnd.oci.image.manifest.v1+json'] })).status).toBe(200);
    const push = await curl(`${r.https}/v2/spiffe/other/blobs/uploads/`, { cert: clients.clientuser, method: 'POST' });
    expect(push.status).toBe(403);
    expect(push.body).toContain('user \\"clientuser\\" may not create');
  });
});

describe('mTLS beside htpasswd, with anonymous read (zot: clients without a certificate are anonymous)', () => {
  let r: RunningRegistry & { https: string };
  beforeAll(async () => {
    const auth = tempDir('perch-mtls-htpasswd-');
    writeHtpasswd(join(auth, 'htpasswd'), { alice: 'alice-Secret-2' });
    mkdirSync(join(auth, 'data'));
    r = await start({
      storage: { rootDirectory: join(auth, 'data') },
      http: {
        address: '127.0.0.1',
        port: '0',
        tls: { cert: server.certPath, key: server.keyPath, cacert: ca.certPath },
        auth: { htpasswd: { path: join(auth, 'htpasswd') }, mtls: { identityAttributes: ['CommonName'] } },
        accessControl: {
          repositories: { '**': { policies: [{ users: ['clientuser', 'alice'], actions: ['read', 'create'] }], defaultPolicy: ['read'], anonymousPolicy: ['read'] } },
        },
      },
    });
  });
  afterAll(async () => {
    await r?.stop();
  });

  it('certificate push, password push over the same TLS without a certificate, anonymous read, anonymous push refused', async () => {
    expect((await pushByHand(r.https, 'mixed/by-cert', 'v1', clients.clientuser)).statuses).toEqual([202, 201, 202, 201, 201]);
    const basic = await curl(`${r.https}/v2/mixed/by-password/blobs/uploads/`, { method: 'POST', headers: [`Authorization: Basic ${Buffer.from('alice:alice-Secret-2').toString('base64')}`] });
    expect(basic.status).toBe(202);
    expect((await curl(`${r.https}/v2/mixed/by-cert/manifests/v1`, { headers: ['Accept: application/vnd.oci.image.manifest.v1+json'] })).status).toBe(200);
    const anonymousPush = await curl(`${r.https}/v2/mixed/anon/blobs/uploads/`, { method: 'POST' });
    expect(anonymousPush.status).toBe(401);
    // An explicit Authorization header wins over the certificate: a wrong password with a good certificate is still 401.
    const wrong = await curl(`${r.https}/v2/mixed/by-cert/manifests/v1`, { cert: clients.clientuser, headers: [`Authorization: Basic ${Buffer.from('alice:wrong').toString('base64')}`] });
    expect(wrong.status).toBe(401);
  });
});
