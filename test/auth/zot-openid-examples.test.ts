/**
 * zot's OpenID example configs, as written, against a real OpenID Connect provider
 * (test/helpers/oidc-provider.ts, set up like a Keycloak realm). Only what points outside this
 * machine is rewritten: the issuer of the provider that exists here, the paths of the
 * credentials, htpasswd and session-key files (relative to zot's source tree in the examples),
 * the storage folder and the port. The access rules are kept, and each test checks what they say.
 *
 * - examples/config-openid-claim-mapping.json: one provider, user names from
 *   preferred_username; "admin" may write, any signed-in user reads, nobody else.
 * - examples/config-openid.json: htpasswd, API keys and four providers. GitHub (plain OAuth2,
 *   no issuer) is left out with a warning; Google and GitLab are kept (unreachable here, which
 *   must not stop the start); the example turns no UI on, so sign-in is checked at its routes; the "oidc" provider is ours. "test" reads and creates, others read.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports';
import { startOidcProvider, type RunningOidcProvider } from '../helpers/oidc-provider';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { basic, bearer, tempDir, writeHtpasswd } from './harness';

const FIXTURES = join(__dirname, '..', 'fixtures', 'zot-configs');

interface ZotConfig {
  storage: { rootDirectory: string };
  http: {
    port: string;
    externalUrl: string;
    auth: {
      htpasswd?: { path: string };
      sessionKeysFile: string;
      openid: { providers: Record<string, { issuer?: string; credentialsFile?: string }> };
    };
    accessControl: { repositories: Record<string, { policies: Array<{ users: string[] }> }> };
  };
}

/** The example with this machine's provider, files and port put in. */
async function localised(file: string, idp: RunningOidcProvider): Promise<{ config: ZotConfig; port: number; dir: string }> {
  const config = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as ZotConfig;
  const dir = tempDir('perch-zot-openid-');
  const port = await freePort();
  config.storage.rootDirectory = join(dir, 'data');
  config.http.port = String(port);
  config.http.externalUrl = `http://127.0.0.1:${port}`;
  config.http.auth.sessionKeysFile = join(dir, 'sessionKeys.json');
  writeFileSync(config.http.auth.sessionKeysFile, JSON.stringify({ hashKey: 'a-session-hash-key-of-at-least-32-bytes!', encryptKey: 'unused-by-perch-but-zot-has-it' }));
  for (const [id, provider] of Object.entries(config.http.auth.openid.providers)) {
    if (!provider.credentialsFile) continue;
    provider.credentialsFile = join(dir, `${id}-credentials.json`);
    const ours = id === 'oidc';
    // zot's OpenIDCredentials shape; the other providers get made-up values (they are never reached).
    writeFileSync(provider.credentialsFile, JSON.stringify(ours ? { clientid: idp.clientId, clientsecret: idp.clientSecret } : { clientid: `${id}-client`, clientsecret: `${id}-secret` }));
    if (ours) provider.issuer = idp.issuer;
  }
  idp.setRedirectUris([idp.callbackUrl(config.http.externalUrl, 'oidc')]);
  return { config, port, dir };
}

const startUpload = (registry: RunningRegistry, repo: string, headers: Record<string, string>) =>
  fetch(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers }).then((r) => r.status);
const tags = (registry: RunningRegistry, repo: string, headers: Record<string, string>) =>
  fetch(`${registry.url}/v2/${repo}/tags/list`, { headers }).then(async (r) => ({ status: r.status, body: await r.text() }));

describe("zot's examples/config-openid-claim-mapping.json", () => {
  let idp: RunningOidcProvider;
  let registry: RunningRegistry;
  let asAdmin: RunningRegistry | undefined;

  beforeAll(async () => {
    idp = await startOidcProvider();
    const { config, port } = await localised('config-openid-claim-mapping.json', idp);
    registry = await startRegistry({ config: config as unknown as Record<string, unknown>, port });
  });
  afterAll(async () => {
    await asAdmin?.stop();
    await registry?.stop();
    await idp?.stop();
  });

  it('a signed-in user (not "admin") reads but may not push; without a token nothing is read', async () => {
    const alice = await idp.signIn('alice', idp.users.alice.password);
    expect(await tags(registry, 'some/repo', bearer(alice.accessToken))).toMatchObject({ status: 404, body: expect.stringContaining('NAME_UNKNOWN') });
    expect(await startUpload(registry, 'some/repo', bearer(alice.accessToken))).toBe(403);
    expect((await tags(registry, 'some/repo', {})).status).toBe(401);
  });

  it('the user named by preferred_username gets the policy: with "admin" read as alice, her token pushes', async () => {
    const { config, port } = await localised('config-openid-claim-mapping.json', idp);
    config.http.accessControl.repositories['**'].policies[0].users = [idp.users.alice.username];
    asAdmin = await startRegistry({ config: config as unknown as Record<string, unknown>, port });
    const alice = await idp.signIn('alice', idp.users.alice.password);
    const bob = await idp.signIn('bob', idp.users.bob.password);
    expect(await startUpload(asAdmin, 'some/repo', bearer(alice.accessToken))).toBe(202);
    expect(await startUpload(asAdmin, 'some/repo', bearer(bob.accessToken))).toBe(403);
  });
});

describe("zot's examples/config-openid.json", () => {
  let idp: RunningOidcProvider;
  let registry: RunningRegistry;
  const TEST_PASSWORD = 'Test-Htpasswd-Pw-7';

  beforeAll(async () => {
    idp = await startOidcProvider();
    const { config, port, dir } = await localised('config-openid.json', idp);
    config.http.auth.htpasswd!.path = join(dir, 'htpasswd');
    writeHtpasswd(config.http.auth.htpasswd!.path, { test: TEST_PASSWORD });
    registry = await startRegistry({ config: config as unknown as Record<string, unknown>, port });
  });
  afterAll(async () => {
    await registry?.stop();
    await idp?.stop();
  });

  it('starts, warning that GitHub (OAuth2 without an issuer) is left out; sign-in offers the other three', async () => {
    expect(registry.logs.join('\n')).toMatch(/providers\.github: left out: perch signs in only with OpenID Connect providers/);
    const github = await fetch(`${registry.url}/zot/auth/login?provider=github`, { redirect: 'manual' });
    expect(github.status).toBe(400);
    expect(await github.text()).toContain('Providers: google, gitlab, oidc.');
  });

  it('"test" (htpasswd) reads and creates but may not delete; a provider user reads only', async () => {
    expect(await startUpload(registry, 'team/app', basic('test', TEST_PASSWORD))).toBe(202);
    const del = await fetch(`${registry.url}/v2/team/app/manifests/sha256:${'0'.repeat(64)}`, { method: 'DELETE', headers: basic('test', TEST_PASSWORD) });
    expect(del.status).toBe(403);
    const alice = await idp.signIn('alice', idp.users.alice.password);
    expect((await tags(registry, 'team/app', bearer(alice.accessToken))).status).toBe(404);
    expect(await startUpload(registry, 'team/app', bearer(alice.accessToken))).toBe(403);
  });

  it('API keys are on ("apikey": true): "test" makes one and creates with it', async () => {
    const made = await fetch(`${registry.url}/zot/auth/apikey`, { method: 'POST', headers: { ...basic('test', TEST_PASSWORD), 'Content-Type': 'application/json' }, body: '{"label":"ci"}' });
    expect(made.status).toBe(201);
    const { apiKey } = (await made.json()) as { apiKey: string };
    expect(await startUpload(registry, 'team/app', basic('test', apiKey))).toBe(202);
  });

  it('the sign-in with the "oidc" provider goes to its authorization endpoint', async () => {
    const res = await fetch(`${registry.url}/zot/auth/login?provider=oidc`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(new RegExp(`^${idp.issuer.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`));
  });
});
