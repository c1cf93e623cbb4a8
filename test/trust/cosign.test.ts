/**
 * The trust extension (docs/trust.md) against the bundled server (`npm run build` first) with
 * real cosign v3.1.3 (scripts/install-tools.sh go): images pushed over the API, signed and
 * attested by cosign (its default Sigstore bundle referrers, and the legacy .sig tag form),
 * the public key uploaded with zot's POST /v2/_zot/ext/cosign; then the JSON report, the
 * browse UI in chromium, the pull policy seen by crane, `cosign verify` with the policy on,
 * and the keys after a restart. Two users: `ci` (admin, pushes and signs) and `deploy` (read
 * only, the one the pull policy binds). Without cosign the file skips, except under CI, where that is
 * a failure. Screenshots go to test/artifacts/trust/.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeClientHome, type ClientHome } from '../helpers/client-home';
import { makeCa } from '../helpers/certificates';
import { REPO_ROOT, startRegistry, type RunningRegistry } from '../helpers/registry';
import { runCommand } from '../helpers/run-command';
import { tempDir } from '../helpers/temp-dir';

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, cmd)));
}
const HAVE_COSIGN = onPath('cosign');
// CI installs cosign (install-tools.sh go): there its absence is a failure, not a skip.
if (!HAVE_COSIGN && process.env.CI) throw new Error('cosign is not on PATH in CI: run scripts/install-tools.sh go (it builds cosign v3.1.3 into $PERCH_TOOLS/bin)');
if (!HAVE_COSIGN) console.warn('[trust] cosign is not installed (scripts/install-tools.sh go): test/trust/cosign.test.ts skips');

const SHOTS = join(REPO_ROOT, 'test/artifacts/trust');
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SPDX = {
  spdxVersion: 'SPDX-2.3',
  dataLicense: 'CC0-1.0',
  SPDXID: 'SPDXRef-DOCUMENT',
  name: 'perch-trust-test',
  documentNamespace: 'https://example.com/perch-trust-test',
  creationInfo: { created: '2026-01-01T00:00:00Z', creators: ['Tool: perch-test'] },
  packages: [{ name: 'hello', SPDXID: 'SPDXRef-Package-hello', versionInfo: '1.0', downloadLocation: 'NOASSERTION' }],
};
const USERS = { ci: 'ci-pass', deploy: 'deploy-pass' } as const;
type User = keyof typeof USERS;
const basic = (user: User) => ({ Authorization: `Basic ${Buffer.from(`${user}:${USERS[user]}`).toString('base64')}` });

function trustConfig(dir: string): Record<string, unknown> {
  const htpasswd = join(dir, 'htpasswd');
  writeFileSync(htpasswd, Object.entries(USERS).map(([u, p]) => `${u}:${bcrypt.hashSync(p, 4)}`).join('\n') + '\n');
  return {
    http: {
      auth: { htpasswd: { path: htpasswd } },
      accessControl: {
        repositories: { '**': { policies: [{ users: ['ci'], actions: ['read', 'create', 'update', 'delete'] }], defaultPolicy: ['read'] } },
        adminPolicy: { users: ['ci'], actions: ['read', 'create', 'update', 'delete'] },
      },
    },
    extensions: { trust: { enable: true, cosign: true, notation: true }, ui: { enable: true } },
    perch: { auth: { tokenKeyFile: join(dir, 'token.key') }, trust: { requireSignature: ['prod/**'] } },
  };
}

interface KeyPair {
  key: string;
  pub: string;
}

describe.skipIf(!HAVE_COSIGN)('trust: cosign signatures and attestations', () => {
  let registry: RunningRegistry;
  let config: Record<string, unknown>;
  let home: ClientHome;
  let ciKey: KeyPair;
  let otherKey: KeyPair;
  const digests: Record<string, string> = {};
  const network = () => ['--allow-insecure-registry', '--allow-http-registry'];
  const offline = ['--tlog-upload=false', '--use-signing-config=false'];
  const cosign = (args: string[], { user = 'ci' as User, allowFailure = false } = {}) =>
    runCommand('cosign', [...args, '--registry-username', user, '--registry-password', USERS[user]], { env: { ...home.env, COSIGN_PASSWORD: '' }, cwd: home.dir, timeoutMs: 60_000, allowFailure });
  const crane = (args: string[], user: User, allowFailure = false) => runCommand('crane', args, { env: { ...home.env, DOCKER_CONFIG: home.folder(`docker-${user}`) }, allowFailure });
  const ref = (repo: string) => `${registry.host}/${repo}@${digests[repo]}`;
  const get = (path: string, init: RequestInit = {}, user: User = 'deploy') => fetch(registry.url + path, { ...init, headers: { ...basic(user), ...(init.headers as Record<string, string>) } });
  const report = async (repo: string, reference = digests[repo]) => {
    const res = await get(`/v2/_zot/ext/trust/${repo}/manifests/${reference}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, any>;
  };
  const uploadKey = (pem: string, name?: string, headers: Record<string, string> = basic('ci')) =>
    fetch(`${registry.url}/v2/_zot/ext/cosign${name ? `?name=${name}` : ''}`, { method: 'POST', body: pem, headers });

  async function keyPair(dir: string): Promise<KeyPair> {
    await runCommand('cosign', ['generate-key-pair'], { env: { ...home.env, COSIGN_PASSWORD: '' }, cwd: dir });
    return { key: join(dir, 'cosign.key'), pub: join(dir, 'cosign.pub') };
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    home = makeClientHome('perch-trust-');
    config = trustConfig(tempDir('perch-trust-config-'));
    registry = await startRegistry({ config });
    [ciKey, otherKey] = await Promise.all([keyPair(home.folder('ci')), keyPair(home.folder('other'))]);
    writeFileSync(join(home.dir, 'sbom.spdx.json'), JSON.stringify(SPDX));
    for (const user of Object.keys(USERS) as User[]) await crane(['auth', 'login', registry.host, '-u', user, '-p', USERS[user]], user);
    for (const repo of ['apps/signed', 'apps/other', 'apps/unsigned', 'apps/legacy', 'prod/app', 'prod/unsigned']) {
      const layer = join(home.folder(`layer-${repo.replace('/', '-')}`), 'file.txt');
      writeFileSync(layer, `layer of ${repo} ${Date.now()}\n`);
      await runCommand('tar', ['cf', `${layer}.tar`, '-C', join(layer, '..'), 'file.txt']);
      const pushed = (await crane(['append', '-f', `${layer}.tar`, '-t', `${registry.host}/${repo}:v1`], 'ci')).stdout.trim();
      digests[repo] = pushed.slice(pushed.indexOf('@') + 1);
    }
    // cosign's defaults (v3: Sigstore bundles as OCI 1.1 referrers), offline.
    await cosign(['sign', '--key', ciKey.key, ...offline, ...network(), '-y', ref('apps/signed')]);
    await cosign(['attest', '--key', ciKey.key, '--type', 'spdxjson', '--predicate', 'sbom.spdx.json', ...offline, ...network(), '-y', ref('apps/signed')]);
    await cosign(['sign', '--key', otherKey.key, ...offline, ...network(), '-y', ref('apps/other')]);
    await cosign(['sign', '--key', ciKey.key, ...offline, ...network(), '-y', ref('prod/app')]);
    // The legacy form: a simple-signing payload under the tag sha256-<hex>.sig.
    await cosign(['sign', '--new-bundle-format=false', '--key', ciKey.key, ...offline, ...network(), '-y', ref('apps/legacy')]);
  }, 90_000);
  afterAll(async () => {
    await registry?.stop();
    home?.remove();
  });
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => console.error(`--- last 30 lines of the registry log ---\n${registry?.logs.slice(-30).join('\n')}`));
  });

  it('cosign v3 writes a Sigstore bundle referrer; before a key is uploaded the image shows signed, not verified', async () => {
    const referrers = (await (await get(`/v2/apps/signed/referrers/${digests['apps/signed']}`)).json()) as { manifests: Array<Record<string, any>> };
    expect(referrers.manifests.map((m) => m.artifactType)).toEqual(['application/vnd.dev.sigstore.bundle.v0.3+json', 'application/vnd.dev.sigstore.bundle.v0.3+json']);
    expect(referrers.manifests.map((m) => m.annotations['dev.sigstore.bundle.predicateType']).sort()).toEqual(['https://sigstore.dev/cosign/sign/v1', 'https://spdx.dev/Document']);
    const r = await report('apps/signed');
    expect({ status: r.status, signed: r.signed, verified: r.verified, keys: r.keysConsidered }).toEqual({ status: 'unverified', signed: true, verified: false, keys: 0 });
    expect(r.signatures[0].reason).toContain('POST /v2/_zot/ext/cosign');
  });

  it('POST /v2/_zot/ext/cosign: 401 anonymous, 403 for a non-admin (zot: admins only), 400 for what is not a public key, 200 for cosign.pub', async () => {
    const pem = readFileSync(ciKey.pub, 'utf8');
    expect((await uploadKey(pem, undefined, {})).status).toBe(401);
    const denied = await uploadKey(pem, undefined, basic('deploy'));
    expect(denied.status).toBe(403);
    expect(JSON.stringify(await denied.json())).toContain('adminPolicy');
    const bad = await uploadKey('not a key');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('not a PEM public key');
    const res = await uploadKey(readFileSync(ciKey.pub, 'utf8'), 'ci-key');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; name: string; algorithm: string };
    const der = Buffer.from(readFileSync(ciKey.pub, 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    expect(body).toEqual({ id: `sha256:${createHash('sha256').update(der).digest('hex')}`, name: 'ci-key', algorithm: 'ecdsa P-256' });
    const list = (await (await get('/v2/_zot/ext/cosign')).json()) as { cosignKeys: Array<{ name: string; source: string }> };
    expect(list.cosignKeys.map((k) => [k.name, k.source])).toEqual([['ci-key', 'upload']]);
  });

  it('the report says verified by the uploaded key, and lists the SPDX attestation with working download links', async () => {
    const r = await report('apps/signed', 'v1');
    expect(r.status).toBe('verified');
    expect(r.verifiedBy).toMatchObject({ name: 'ci-key', source: 'upload' });
    expect(r.signatures).toEqual([expect.objectContaining({ tool: 'cosign', format: 'bundle', verified: true })]);
    expect(r.attestations).toHaveLength(1);
    const a = r.attestations[0];
    expect(a).toMatchObject({ predicateType: 'https://spdx.dev/Document', label: 'SPDX SBOM', format: 'bundle', verified: true, key: { name: 'ci-key' } });
    const envelope = await get(a.download);
    expect(envelope.status).toBe(200);
    const bytes = Buffer.from(await envelope.arrayBuffer());
    expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(a.layer.digest);
    expect(JSON.parse(bytes.toString()).mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    const predicate = await get(a.predicate);
    expect(predicate.headers.get('x-predicate-type')).toBe('https://spdx.dev/Document');
    expect(await predicate.json()).toEqual(SPDX);
  });

  it('a signature by a key that was never uploaded shows signed, not verified (unknown key); no signature shows unsigned', async () => {
    const other = await report('apps/other');
    expect({ status: other.status, verifiedBy: other.verifiedBy }).toEqual({ status: 'unverified', verifiedBy: null });
    expect(other.signatures[0].reason).toContain('unknown key');
    const none = await report('apps/unsigned');
    expect({ status: none.status, signed: none.signed, signatures: none.signatures, attestations: none.attestations }).toEqual({ status: 'unsigned', signed: false, signatures: [], attestations: [] });
  });

  it("cosign's legacy sha256-<hex>.sig tag form verifies too", async () => {
    const r = await report('apps/legacy');
    expect(r.status).toBe('verified');
    expect(r.signatures[0]).toMatchObject({ format: 'simplesigning', tag: `sha256-${digests['apps/legacy'].slice(7)}.sig`, verified: true, key: { name: 'ci-key' } });
  });

  it('the pull policy refuses an unsigned image in prod/** to a reader (crane shows why) and serves the signed one', async () => {
    const refused = await crane(['manifest', `${registry.host}/prod/unsigned:v1`], 'deploy', true);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('DENIED');
    expect(refused.stderr).toContain('prod/unsigned');
    expect(refused.stderr).toContain('perch.trust.requireSignature "prod/**"');
    expect(refused.stderr).toContain('POST /v2/_zot/ext/cosign');
    expect((await get('/v2/prod/unsigned/manifests/v1', { method: 'HEAD' })).status).toBe(403);
    const served = await crane(['digest', `${registry.host}/prod/app:v1`], 'deploy');
    expect(served.stdout.trim()).toBe(digests['prod/app']);
    // Outside the policy's globs nothing changes; a caller who may push (to sign) reads anything.
    expect((await get('/v2/apps/unsigned/manifests/v1')).status).toBe(200);
    expect((await get('/v2/prod/unsigned/manifests/v1', {}, 'ci')).status).toBe(200);
  });

  it('cosign verify still works against perch with the policy on (the signature referrers stay pullable)', async () => {
    const ok = await cosign(['verify', '--key', ciKey.pub, '--insecure-ignore-tlog=true', ...network(), `${registry.host}/prod/app:v1`], { user: 'deploy' });
    expect(ok.stderr).toContain('The signatures were verified against the specified public key');
    const wrong = await cosign(['verify', '--key', otherKey.pub, '--insecure-ignore-tlog=true', ...network(), `${registry.host}/prod/app:v1`], { user: 'deploy', allowFailure: true });
    expect(wrong.code).not.toBe(0);
  });

  it('the browse UI shows the verified state and the SBOM with a download link; the others as not verified and not signed', async () => {
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: LAUNCH_ARGS });
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, httpCredentials: { username: 'deploy', password: USERS.deploy } });
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      const open = async (hash: string, status: string) => {
        await page.goto(`${registry.url}/#/${hash}`);
        await page.locator(`#trust[data-trust="${status}"], #trust[data-trust="problem"]`).waitFor();
        expect(await page.locator('#trust').getAttribute('data-trust')).toBe(status);
      };
      await open('apps/signed:v1', 'verified');
      const status = await page.locator('.trust-status').innerText();
      expect(status).toMatch(/^Signed — verified by ci-key \(sha256:[0-9a-f]+/);
      const row = page.locator('tr.attestation');
      await expect(row.count()).resolves.toBe(1);
      await expect(row.getAttribute('data-predicate-type')).resolves.toBe('https://spdx.dev/Document');
      await expect(row.innerText()).resolves.toContain('SPDX SBOM');
      const href = await row.locator('a.download-predicate').getAttribute('href');
      const downloaded = await page.evaluate(async (url) => (await fetch(url!)).json(), href);
      expect(downloaded).toEqual(SPDX);
      await page.screenshot({ path: join(SHOTS, 'verified.png'), fullPage: true });
      await open('apps/other:v1', 'unverified');
      await expect(page.locator('.trust-status').innerText()).resolves.toBe('Signed — not verified (unknown key)');
      await page.screenshot({ path: join(SHOTS, 'unknown-key.png'), fullPage: true });
      await open('apps/unsigned:v1', 'unsigned');
      await expect(page.locator('.trust-status').innerText()).resolves.toBe('Not signed');
      expect(errors).toEqual([]);
    } finally {
      await browser?.close();
    }
  });

  it('notation certificates: POST /v2/_zot/ext/notation takes a certificate (200) and refuses a bad truststoreType or body (400)', async () => {
    const ca = await makeCa(home.folder('notation'), 'perch notation test');
    const cert = readFileSync(ca.certPath);
    const post = (query: string, body: string | Buffer) => fetch(`${registry.url}/v2/_zot/ext/notation${query}`, { method: 'POST', body: new Uint8Array(Buffer.from(body)), headers: basic('ci') });
    const ok = await post('?truststoreType=ca&truststoreName=team', cert);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ truststoreType: 'ca', truststoreName: 'team', subjects: ['CN=perch notation test'] });
    expect((await post('?truststoreType=nope', cert)).status).toBe(400);
    expect((await post('', 'not a certificate')).status).toBe(400);
  });

  it('uploaded keys survive a restart', async () => {
    const dataDir = registry.dataDir;
    await registry.stop();
    registry = await startRegistry({ config, dataDir });
    const r = await report('apps/signed');
    expect(r.verifiedBy).toMatchObject({ name: 'ci-key', source: 'upload' });
    expect((await get('/v2/prod/app/manifests/v1')).status).toBe(200);
    expect((await get('/v2/prod/unsigned/manifests/v1')).status).toBe(403);
  });
});
