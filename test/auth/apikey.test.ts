/**
 * API keys (http.auth.apikey, zot's /zot/auth/apikey) against the bundled server as a process:
 * a user of the htpasswd file makes a key through the API, lists it (no secret in the list),
 * and helm, crane, oras and podman log in with the key as the password and
 * push and pull. A revoked key is refused on the very next request, and so is a perch token
 * issued after a login with it; an expired key, a key given with another user's name, and
 * calls without a login are refused; the store file holds hashes only; keys survive a restart.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeClientHome, type ClientHome } from '../helpers/client-home';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { runCommand } from '../helpers/run-command';
import { tempDir, writeHtpasswd } from './harness';

const DEV = 'dev';
const DEV_PASSWORD = 'Dev-Htpasswd-Pw-1';
const OTHER = 'other';
const OTHER_PASSWORD = 'Other-Htpasswd-Pw-2';
const ACCESS_CONTROL = {
  repositories: {
    '**': { policies: [{ users: [DEV], actions: ['read', 'create', 'update', 'delete'] }], defaultPolicy: ['read'] },
  },
};

const basic = (user: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

interface CreatedKey {
  apiKey: string;
  uuid: string;
  label: string;
  expirationDate: string | null;
}

describe('API keys through perch serve', () => {
  let registry: RunningRegistry;
  let dir: string;
  let home: ClientHome;
  const run = (cmd: string, args: string[], options: { input?: string; allowFailure?: boolean } = {}) => runCommand(cmd, args, { env: home.env, timeoutMs: 90_000, ...options });

  async function start(dataDir?: string): Promise<RunningRegistry> {
    return startRegistry({
      ...(dataDir ? { dataDir } : {}),
      config: {
        http: { auth: { htpasswd: { path: join(dir, 'htpasswd') }, apikey: true }, accessControl: ACCESS_CONTROL },
        perch: { auth: { tokenKeyFile: join(dir, 'token.key') } },
      },
    });
  }

  async function createKey(user: string, password: string, body: Record<string, unknown>): Promise<CreatedKey> {
    const res = await fetch(`${registry.url}/zot/auth/apikey`, { method: 'POST', headers: { ...basic(user, password), 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    return (await res.json()) as CreatedKey;
  }

  const v2 = (user: string, password: string) => fetch(`${registry.url}/v2/`, { headers: basic(user, password) }).then((r) => r.status);

  beforeAll(async () => {
    dir = tempDir('perch-apikey-');
    writeHtpasswd(join(dir, 'htpasswd'), { [DEV]: DEV_PASSWORD, [OTHER]: OTHER_PASSWORD });
    registry = await start();
  });
  afterAll(async () => {
    await registry?.stop();
  });
  beforeEach(() => {
    home = makeClientHome('perch-apikey-client-');
  });
  afterEach(() => home.remove());

  it('POST makes a zak_ key shown once; GET lists it without any secret; the store holds only its SHA-256', async () => {
    const created = await createKey(DEV, DEV_PASSWORD, { label: 'ci pipeline', scopes: ['repo:charts'] });
    expect(created.apiKey).toMatch(/^zak_[0-9a-f]{64}$/);
    expect(created.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.label).toBe('ci pipeline');
    expect(created.expirationDate).toBeNull();

    const listed = await fetch(`${registry.url}/zot/auth/apikey`, { headers: basic(DEV, DEV_PASSWORD) });
    expect(listed.status).toBe(200);
    const text = await listed.text();
    expect(text).not.toContain(created.apiKey.slice(4));
    const { apiKeys } = JSON.parse(text) as { apiKeys: Array<Record<string, unknown>> };
    const mine = apiKeys.find((k) => k.uuid === created.uuid);
    expect(mine).toMatchObject({ label: 'ci pipeline', scopes: ['repo:charts'], isExpired: false, expirationDate: null });
    expect(mine).not.toHaveProperty('apiKey');

    // Another user sees none of dev's keys.
    const others = (await (await fetch(`${registry.url}/zot/auth/apikey`, { headers: basic(OTHER, OTHER_PASSWORD) })).json()) as { apiKeys: unknown[] };
    expect(others.apiKeys).toEqual([]);

    const file = readFileSync(join(registry.dataDir, '_perch', 'apikeys.json'), 'utf8');
    expect(file).not.toContain(created.apiKey.slice(4));
    expect(file).not.toContain(created.apiKey.slice(4, 36));
    expect(file).toContain(createHash('sha256').update(created.apiKey).digest('hex'));
  });

  it('helm 3 logs in with the key as the password, pushes and pulls', async () => {
    const { apiKey } = await createKey(DEV, DEV_PASSWORD, { label: 'helm' });
    const work = home.folder('helm');
    const chart = join(work, 'keyed-chart');
    execFileSync('mkdir', ['-p', join(chart, 'templates')]);
    writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: keyed-chart\nversion: 0.1.0\ntype: application\n');
    await run('helm3', ['package', chart, '--destination', work]);
    await run('helm3', ['registry', 'login', registry.host, '--plain-http', '-u', DEV, '--password-stdin'], { input: `${apiKey}\n` });
    await run('helm3', ['push', join(work, 'keyed-chart-0.1.0.tgz'), `oci://${registry.host}/charts`, '--plain-http']);
    const pulled = home.folder('helm-pulled');
    await run('helm3', ['pull', `oci://${registry.host}/charts/keyed-chart`, '--version', '0.1.0', '--destination', pulled, '--plain-http']);
    expect(readdirSync(pulled)).toEqual(['keyed-chart-0.1.0.tgz']);
    expect(readFileSync(join(pulled, 'keyed-chart-0.1.0.tgz')).equals(readFileSync(join(work, 'keyed-chart-0.1.0.tgz')))).toBe(true);
  });

  it('oras logs in with the key, pushes and pulls a file; crane logs in with it and copies', async () => {
    const { apiKey } = await createKey(DEV, DEV_PASSWORD, { label: 'oras and crane' });
    const work = home.folder('oras');
    writeFileSync(join(work, 'note.txt'), 'pushed with an API key\n');
    await run('oras', ['login', registry.host, '-u', DEV, '--password-stdin', '--plain-http'], { input: apiKey });
    const push = await runCommand('oras', ['push', `${registry.host}/notes/keyed:v1`, 'note.txt:text/plain', '--plain-http'], { env: home.env, cwd: work, timeoutMs: 90_000 });
    expect(push.code).toBe(0);
    const out = home.folder('oras-pulled');
    await runCommand('oras', ['pull', `${registry.host}/notes/keyed:v1`, '--plain-http', '-o', out], { env: home.env, timeoutMs: 90_000 });
    expect(readFileSync(join(out, 'note.txt'), 'utf8')).toBe('pushed with an API key\n');

    await run('crane', ['auth', 'login', registry.host, '-u', DEV, '--password-stdin'], { input: apiKey });
    await run('crane', ['copy', `${registry.host}/notes/keyed:v1`, `${registry.host}/notes/copied:v1`, '--insecure']);
    const copied = await run('crane', ['digest', `${registry.host}/notes/copied:v1`, '--insecure']);
    const original = await run('crane', ['digest', `${registry.host}/notes/keyed:v1`, '--insecure']);
    expect(copied.stdout.trim()).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(copied.stdout.trim()).toBe(original.stdout.trim());
  });

  // podman comes from Debian (scripts/install-tools.sh); as root it runs in a throwaway store.
  it('podman logs in with the key, pulls an image and pushes it under a new name', async () => {
    const { apiKey } = await createKey(DEV, DEV_PASSWORD, { label: 'podman' });
    const work = tempDir('perch-apikey-podman-');
    const layer = join(work, 'layer.tar');
    writeFileSync(join(work, 'hello.txt'), 'hello from an API key\n');
    execFileSync('tar', ['-cf', layer, '-C', work, 'hello.txt']);
    await run('crane', ['auth', 'login', registry.host, '-u', DEV, '--password-stdin'], { input: apiKey });
    await run('crane', ['append', '-f', layer, '-t', `${registry.host}/podman/source:v1`, '--insecure']);
    const podman = (args: string[], input?: string) =>
      run('podman', ['--root', join(work, 'store'), '--runroot', join(work, 'run'), '--storage-driver', 'vfs', ...args], input === undefined ? {} : { input });
    const authfile = join(work, 'auth.json');
    await podman(['login', registry.host, '-u', DEV, '--password-stdin', '--tls-verify=false', '--authfile', authfile], apiKey);
    await podman(['pull', '--tls-verify=false', '--authfile', authfile, `${registry.host}/podman/source:v1`]);
    await podman(['push', '--tls-verify=false', '--authfile', authfile, `${registry.host}/podman/source:v1`, `docker://${registry.host}/podman/pushed:v1`]);
    const pushed = await run('crane', ['manifest', `${registry.host}/podman/pushed:v1`, '--insecure']);
    expect(JSON.parse(pushed.stdout).layers).toHaveLength(1);
    // Without the key's login, podman is refused.
    const refused = await run('podman', ['--root', join(work, 'store'), '--runroot', join(work, 'run'), '--storage-driver', 'vfs', 'login', registry.host, '-u', DEV, '--password-stdin', '--tls-verify=false', '--authfile', join(work, 'other.json')], { input: 'zak_' + '0'.repeat(64), allowFailure: true });
    expect(refused.code).not.toBe(0);
  });

  it('a revoked key is refused on the next request, and so is a token issued after a login with it', async () => {
    const { apiKey, uuid } = await createKey(DEV, DEV_PASSWORD, { label: 'to revoke' });
    expect(await v2(DEV, apiKey)).toBe(200);
    const tokenRes = await fetch(`${registry.url}/v2/token?service=${registry.host}&scope=repository:notes/keyed:pull`, { headers: basic(DEV, apiKey) });
    expect(tokenRes.status).toBe(200);
    const { token } = (await tokenRes.json()) as { token: string };
    const withToken = () => fetch(`${registry.url}/v2/notes/keyed/tags/list`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.status);
    expect(await withToken()).not.toBe(401);

    const revoked = await fetch(`${registry.url}/zot/auth/apikey?id=${uuid}`, { method: 'DELETE', headers: basic(DEV, DEV_PASSWORD) });
    expect(revoked.status).toBe(200);
    // No pause: revocation is immediate.
    expect(await v2(DEV, apiKey)).toBe(401);
    expect(await withToken()).toBe(401);
    const listed = (await (await fetch(`${registry.url}/zot/auth/apikey`, { headers: basic(DEV, DEV_PASSWORD) })).json()) as { apiKeys: Array<{ uuid: string }> };
    expect(listed.apiKeys.map((k) => k.uuid)).not.toContain(uuid);
    // Revoking twice, or another user's key: 404, nothing revealed.
    expect((await fetch(`${registry.url}/zot/auth/apikey?id=${uuid}`, { method: 'DELETE', headers: basic(DEV, DEV_PASSWORD) })).status).toBe(404);
  });

  it('an expired key is refused; a key for a past date is not made', async () => {
    const soon = new Date(Date.now() + 2500).toISOString();
    const { apiKey, expirationDate } = await createKey(DEV, DEV_PASSWORD, { label: 'short', expirationDate: soon });
    expect(expirationDate).toBe(soon);
    expect(await v2(DEV, apiKey)).toBe(200);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await v2(DEV, apiKey)).toBe(401);
    const listed = (await (await fetch(`${registry.url}/zot/auth/apikey`, { headers: basic(DEV, DEV_PASSWORD) })).json()) as { apiKeys: Array<{ label: string; isExpired: boolean }> };
    expect(listed.apiKeys.find((k) => k.label === 'short')?.isExpired).toBe(true);

    const past = await fetch(`${registry.url}/zot/auth/apikey`, {
      method: 'POST',
      headers: { ...basic(DEV, DEV_PASSWORD), 'Content-Type': 'application/json' },
      body: JSON.stringify({ label: 'late', expirationDate: '2001-01-01T00:00:00Z' }),
    });
    expect(past.status).toBe(400);
    expect(await past.text()).toContain('in the past');
  });

  it("a key works only with its owner's name; another user cannot revoke it", async () => {
    const { apiKey, uuid } = await createKey(DEV, DEV_PASSWORD, { label: 'owner only' });
    expect(await v2(OTHER, apiKey)).toBe(401);
    expect(await v2(DEV, apiKey)).toBe(200);
    const theirs = await fetch(`${registry.url}/zot/auth/apikey?id=${uuid}`, { method: 'DELETE', headers: basic(OTHER, OTHER_PASSWORD) });
    expect(theirs.status).toBe(404);
    expect(await v2(DEV, apiKey)).toBe(200);
  });

  it('a key cannot make more keys (a leaked key must not outlive its revocation), but it can list them', async () => {
    const { apiKey } = await createKey(DEV, DEV_PASSWORD, { label: 'no offspring' });
    const offspring = await fetch(`${registry.url}/zot/auth/apikey`, { method: 'POST', headers: { ...basic(DEV, apiKey), 'Content-Type': 'application/json' }, body: '{"label":"child"}' });
    expect(offspring.status).toBe(403);
    const body = (await offspring.json()) as { errors: Array<{ code: string; message: string }> };
    expect(body.errors[0].code).toBe('DENIED');
    expect(body.errors[0].message).toMatch(/API key cannot create/);
    const list = await fetch(`${registry.url}/zot/auth/apikey`, { headers: basic(DEV, apiKey) });
    expect(list.status).toBe(200);
    expect(JSON.stringify(await list.json())).not.toContain('child');
  });

  it('refuses callers without a login, bodies that are not JSON, and a DELETE without an id', async () => {
    const anonymous = await fetch(`${registry.url}/zot/auth/apikey`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"label":"x"}' });
    expect(anonymous.status).toBe(401);
    const wrong = await fetch(`${registry.url}/zot/auth/apikey`, { headers: basic(DEV, 'not-the-password') });
    expect(wrong.status).toBe(401);
    const form = await fetch(`${registry.url}/zot/auth/apikey`, { method: 'POST', headers: { ...basic(DEV, DEV_PASSWORD), 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'label=x' });
    expect(form.status).toBe(400);
    const broken = await fetch(`${registry.url}/zot/auth/apikey`, { method: 'POST', headers: { ...basic(DEV, DEV_PASSWORD), 'Content-Type': 'application/json' }, body: '{"label":' });
    expect(broken.status).toBe(400);
    const noId = await fetch(`${registry.url}/zot/auth/apikey`, { method: 'DELETE', headers: basic(DEV, DEV_PASSWORD) });
    expect(noId.status).toBe(400);
    // A made-up key in zot's format is just a wrong password.
    expect(await v2(DEV, `zak_${'0'.repeat(64)}`)).toBe(401);
  });

  it('keys survive a restart; the revoked and expired ones stay gone', async () => {
    const { apiKey } = await createKey(DEV, DEV_PASSWORD, { label: 'durable' });
    const dataDir = registry.dataDir;
    await registry.stop();
    registry = await start(dataDir);
    expect(await v2(DEV, apiKey)).toBe(200);
    const listed = (await (await fetch(`${registry.url}/zot/auth/apikey`, { headers: basic(DEV, DEV_PASSWORD) })).json()) as { apiKeys: Array<{ label: string; lastUsed: string | null }> };
    expect(listed.apiKeys.map((k) => k.label)).not.toContain('to revoke');
    expect(listed.apiKeys.map((k) => k.label)).toContain('durable');
  });
});

describe('API keys off', () => {
  it('the route answers 404 saying how to turn keys on', async () => {
    const dir = tempDir('perch-apikey-off-');
    writeHtpasswd(join(dir, 'htpasswd'), { [DEV]: DEV_PASSWORD });
    const registry = await startRegistry({ config: { http: { auth: { htpasswd: { path: join(dir, 'htpasswd') } } } } });
    try {
      const res = await fetch(`${registry.url}/zot/auth/apikey`, { method: 'POST', headers: { ...basic(DEV, DEV_PASSWORD), 'Content-Type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(404);
      const body = (await res.json()) as { errors: Array<{ message: string }> };
      expect(body.errors[0].message).toContain('"apikey": true');
      // And a zak_-shaped password is just a wrong password.
      expect((await fetch(`${registry.url}/v2/`, { headers: basic(DEV, `zak_${'1'.repeat(64)}`) })).status).toBe(401);
    } finally {
      await registry.stop();
    }
  });
});
