/**
 * The browse UI's HTTP side, in process (real config loader, real htpasswd auth and access
 * control, MemoryStore): which routes exist when, the headers every UI answer carries, who
 * sees which data, the sign-in step, and what the data endpoints report about pushed content.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from '../../registry-image/src/auth';
import { parseConfig } from '../../registry-image/src/config';
import { silentLogger } from '../../registry-image/src/log';
import { MemoryStore } from '../../registry-image/src/storage/memory-store';
import type { ManifestView, RepositoriesView, TagsView } from '../../registry-image/src/ui/api-types';
import { uiRoutes } from '../../registry-image/src/ui/routes';
import { startInProcess, type InProcessRegistry } from '../helpers/in-process';
import { tempDir } from '../helpers/temp-dir';
import { basic, pushImage, pushPlatformIndex, pushReferrer, SBOM_TYPE, type Login, type PushedIndex } from './fixtures';

const ADMIN: Login = { username: 'admin', password: 'admin-pass-1' };
const BOB: Login = { username: 'bob', password: 'bob-pass-2' };

interface Started {
  registry: InProcessRegistry;
  close(): Promise<void>;
}

/** A registry from a zot-style config; `ui` false leaves the extension out. */
async function start(options: { ui?: boolean; bearer?: boolean; accessControl?: object } = {}): Promise<Started> {
  const dir = tempDir('perch-ui-api-');
  const htpasswd = join(dir, 'htpasswd');
  writeFileSync(htpasswd, [ADMIN, BOB].map((u) => `${u.username}:${bcrypt.hashSync(u.password, 4)}`).join('\n') + '\n');
  const raw = {
    distSpecVersion: '1.1.1',
    http: { address: '127.0.0.1', port: '0', auth: { htpasswd: { path: htpasswd } }, ...(options.accessControl ? { accessControl: options.accessControl } : {}) },
    storage: { rootDirectory: join(dir, 'data') },
    log: { level: 'error' },
    ...(options.ui === false ? {} : { extensions: { ui: { enable: true } } }),
    perch: { auth: { tokenKeyFile: join(dir, 'token.key'), ...(options.bearer ? { challenge: 'bearer' } : {}) } },
  };
  const { config } = parseConfig(raw, 'ui test config');
  const auth = await createAuth(config, silentLogger, { pollIntervalMs: 60_000 });
  const registry = await startInProcess(new MemoryStore(), auth, config, { routes: uiRoutes(config) });
  return { registry, close: async () => { await registry.close(); auth.close(); } };
}

/** zot-style policies: admin does everything, bob reads team/**, anyone reads public/**. */
const POLICIES = {
  repositories: {
    'public/**': { anonymousPolicy: ['read'], defaultPolicy: ['read'] },
    'team/**': { policies: [{ users: ['bob'], actions: ['read'] }] },
  },
  adminPolicy: { users: ['admin'], actions: ['read', 'create', 'update', 'delete'] },
};

async function get(url: string, login?: Login, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { headers: { ...(login ? basic(login) : {}), ...headers }, redirect: 'manual' });
}

const DATA_PATHS = ['/_ui/api/repositories', '/_ui/api/repositories/team/app/tags/list', '/_ui/api/repositories/team/app/manifests/v1'];
const PAGE_PATHS = ['/', '/_ui/app.js', '/_ui/app.css', '/_ui/icon.svg'];

describe('browse UI over HTTP', () => {
  let reg: Started;
  let base: string;
  let index: PushedIndex;
  let referrer: { digest: string };

  beforeAll(async () => {
    reg = await start({ accessControl: POLICIES });
    base = reg.registry.url;
    index = await pushPlatformIndex(base, 'team/app', 'v1', ADMIN);
    referrer = await pushReferrer(base, 'team/app', index, ADMIN);
    await pushImage(base, 'public/tools', 'latest', { os: 'linux', architecture: 'amd64' }, 'tools ', ADMIN);
    await pushImage(base, 'secret/vault', '1.0', { os: 'linux', architecture: 'amd64' }, 'vault ', ADMIN);
  });
  afterAll(() => reg?.close());

  it('GET / and its files: no credentials needed, strict CSP, no framing, no referrer, revalidated with ETag', async () => {
    for (const path of PAGE_PATHS) {
      const res = await get(base + path);
      expect(res.status, path).toBe(200);
      const csp = res.headers.get('content-security-policy')!;
      expect(csp.split('; ')).toEqual(expect.arrayContaining(["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "require-trusted-types-for 'script'"]));
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      const again = await get(base + path, undefined, { 'If-None-Match': res.headers.get('etag')! });
      expect(again.status, path).toBe(304);
    }
    expect((await get(base + '/_ui/app.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('the page itself carries no data: no repository names in it', async () => {
    const html = await (await get(base + '/', ADMIN)).text();
    for (const name of ['team/app', 'public/tools', 'secret/vault']) expect(html).not.toContain(name);
  });

  it('anonymous callers get 401 with a Basic challenge from every data endpoint they may not read', async () => {
    for (const path of ['/_ui/api/repositories/team/app/tags/list', '/_ui/api/repositories/team/app/manifests/v1']) {
      const res = await get(base + path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate'), path).toMatch(/^Basic realm="/);
      expect(await res.text()).not.toContain('linux/amd64');
    }
  });

  it('GET /_ui/api/repositories lists what the caller may read, like /v2/_catalog', async () => {
    const list = async (login?: Login) => {
      const res = await get(base + '/_ui/api/repositories', login);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      return (await res.json()) as RepositoriesView;
    };
    const admin = await list(ADMIN);
    expect(admin.user).toBe('admin');
    expect(admin.login).toBe(true);
    expect(admin.repositories.map((r) => r.name)).toEqual(['public/tools', 'secret/vault', 'team/app']);
    const team = admin.repositories.find((r) => r.name === 'team/app')!;
    expect(team.tags).toBe(4); // v1 and the three build-* tags
    expect(team.lastPushedMs).toBeGreaterThan(Date.now() - 60_000);
    expect((await list(BOB)).repositories.map((r) => r.name)).toEqual(['public/tools', 'team/app']);
    const anonymous = await list();
    expect(anonymous.user).toBeNull();
    expect(anonymous.repositories.map((r) => r.name)).toEqual(['public/tools']);
  });

  it('a user without read on a repository is refused its data (403), as by the API', async () => {
    for (const path of ['/_ui/api/repositories/secret/vault/tags/list', '/_ui/api/repositories/secret/vault/manifests/1.0']) {
      const res = await get(base + path, BOB);
      expect(res.status, path).toBe(403);
      expect(((await res.json()) as { errors: Array<{ code: string }> }).errors[0].code).toBe('DENIED');
    }
  });

  it('tags: kind, pull size, platforms (no attestation), push date and pull command per tag', async () => {
    const res = await get(base + '/_ui/api/repositories/team/app/tags/list', BOB);
    const view = (await res.json()) as TagsView;
    const v1 = view.tags.find((t) => t.tag === 'v1')!;
    expect(v1).toMatchObject({ digest: index.digest, kind: 'index', size: index.pullBytes, platforms: ['linux/amd64', 'linux/arm64/v8'] });
    expect(v1.pull).toBe(`docker pull ${new URL(base).host}/team/app:v1`);
    const amd64 = view.tags.find((t) => t.tag === 'build-amd64')!;
    expect(amd64).toMatchObject({ kind: 'image', size: index.amd64.pullBytes, platforms: [] });
  });

  it('a tag pushed again gets a newer push date', async () => {
    const before = ((await (await get(base + '/_ui/api/repositories/public/tools/manifests/latest', ADMIN)).json()) as ManifestView).pushedMs!;
    await new Promise((r) => setTimeout(r, 25));
    await pushImage(base, 'public/tools', 'latest', { os: 'linux', architecture: 'amd64' }, 'tools v2 ', ADMIN);
    const after = ((await (await get(base + '/_ui/api/repositories/public/tools/manifests/latest', ADMIN)).json()) as ManifestView).pushedMs!;
    expect(after).toBeGreaterThan(before);
  });

  it('manifest of an index: platforms with their sizes, the attestation marked, referrers, tags', async () => {
    const view = (await (await get(base + '/_ui/api/repositories/team/app/manifests/v1', BOB)).json()) as ManifestView;
    expect(view).toMatchObject({ kind: 'index', digest: index.digest, size: index.pullBytes, manifestSize: index.size, tags: ['v1'] });
    expect(view.children.map((c) => [c.platform && `${c.platform.os}/${c.platform.architecture}`, c.pullSize, c.attestation ?? false])).toEqual([
      ['linux/amd64', index.amd64.pullBytes, false],
      ['linux/arm64', index.arm64.pullBytes, false],
      ['unknown/unknown', index.attestation.pullBytes, true],
    ]);
    expect(view.referrers).toEqual([expect.objectContaining({ digest: referrer.digest, artifactType: SBOM_TYPE })]);
  });

  it('manifest of an image, by digest: platform and creation time from its config, layers with titles', async () => {
    const view = (await (await get(base + `/_ui/api/repositories/team/app/manifests/${index.arm64.digest}`, BOB)).json()) as ManifestView;
    expect(view).toMatchObject({ kind: 'image', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, created: '2024-05-01T12:00:00Z', tags: ['build-arm64'] });
    expect(view.pushedMs).toBeUndefined(); // a digest has no push date of its own
    expect(view.layers).toEqual([expect.objectContaining({ title: 'arm64.tar.gz', mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' })]);
    expect(view.pull).toBe(`docker pull ${new URL(base).host}/team/app@${index.arm64.digest}`);
  });

  it('manifest of a referrer names its subject; unknown names and references answer the OCI codes', async () => {
    const view = (await (await get(base + `/_ui/api/repositories/team/app/manifests/${referrer.digest}`, ADMIN)).json()) as ManifestView;
    expect(view).toMatchObject({ kind: 'artifact', artifactType: SBOM_TYPE, subject: index.digest });
    expect(view.pull).toMatch(/^oras pull .*@sha256:[a-f0-9]{64} --plain-http$/);
    const code = async (path: string) => ((await (await get(base + path, ADMIN)).json()) as { errors: Array<{ code: string }> }).errors[0].code;
    expect(await code('/_ui/api/repositories/team/nothing/tags/list')).toBe('NAME_UNKNOWN');
    expect(await code('/_ui/api/repositories/team/app/manifests/nope')).toBe('MANIFEST_UNKNOWN');
    expect(await code('/_ui/api/repositories/team/app/manifests/bad:ref')).toBe('DIGEST_INVALID');
  });

  it('GET /_ui/login: a Basic challenge and a page without data for the anonymous, a redirect home once signed in', async () => {
    const anonymous = await get(base + '/_ui/login');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="perch"');
    expect(anonymous.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await anonymous.text()).not.toMatch(/team\/app|public\/tools/);
    const wrong = await get(base + '/_ui/login', { username: 'bob', password: 'wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic /);
    const signedIn = await get(base + '/_ui/login', BOB);
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/');
  });
});

describe('browse UI configuration', () => {
  it('off (no extensions.ui): / and every UI path answer 404, the API is unchanged', async () => {
    const reg = await start({ ui: false });
    try {
      for (const path of [...PAGE_PATHS, '/_ui/login']) expect((await get(reg.registry.url + path, ADMIN)).status, path).toBe(404);
      for (const path of DATA_PATHS) expect((await get(reg.registry.url + path, ADMIN)).status, path).toBe(404);
      expect((await get(reg.registry.url + '/v2/', ADMIN)).status).toBe(200);
    } finally {
      await reg.close();
    }
  });

  it('with Bearer challenges: /_ui/login still asks with Basic (what browsers can answer) and the data endpoints take Basic', async () => {
    const reg = await start({ bearer: true });
    try {
      const base = reg.registry.url;
      await pushImage(base, 'team/app', 'v1', { os: 'linux', architecture: 'amd64' }, 'x', ADMIN);
      const login = await get(base + '/_ui/login');
      expect(login.status).toBe(401);
      expect(login.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      const data = await get(base + '/_ui/api/repositories', BOB);
      expect(data.status).toBe(200);
      expect(((await data.json()) as RepositoriesView).repositories.map((r) => r.name)).toEqual(['team/app']);
      // Without credentials the data endpoints challenge as the API does (Bearer), and show nothing.
      const anonymous = await get(base + '/_ui/api/repositories');
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
    } finally {
      await reg.close();
    }
  });
});
