/**
 * OpenID Connect against a real Keycloak (test/helpers/keycloak.ts), its realm set up as
 * docs/auth.md tells a person to: a confidential client "perch" with the registry's callback
 * as redirect URI, groups "developers" and "readers", a Group Membership mapper (claim
 * "groups", full path off) and an Audience mapper naming "perch". perch is configured as that
 * page shows (claimMapping preferred_username and groups), with an htpasswd admin and Bearer
 * challenges so oras and helm use the token they are given.
 *
 * What it shows: headless Chromium signs in through Keycloak's own login page to the browse UI
 * and sees what alice's group may read; crane, oras and helm push and pull with alice's
 * Keycloak access token; bob (readers) pulls and is refused a push; a signing key added in
 * Keycloak (higher priority, so new tokens use it) is picked up on its first token; a token
 * from another realm (another issuer) and an expired token are refused with 401.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeChart } from '../helpers/chart-dir';
import { homeWithRegistryToken, type ClientHome } from '../helpers/client-home';
import { startKeycloak, type RunningKeycloak } from '../helpers/keycloak';
import { writeSingleImageLayout } from '../helpers/oci-layout';
import { freePort } from '../helpers/ports';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { runCommand } from '../helpers/run-command';
import { tempDir, writeHtpasswd } from './harness';

const REALM = 'registry';
const CLIENT = { id: 'perch', secret: 'perch-keycloak-client-secret-1' };
const SHORT_CLIENT = { id: 'perch-short', secret: 'perch-keycloak-client-secret-2' };
const USERS = {
  alice: { password: 'Alice-Keycloak-Pw-1', group: 'developers' },
  bob: { password: 'Bob-Keycloak-Pw-2', group: 'readers' },
};
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The mappers of docs/auth.md steps 4 and 5, on the client's dedicated scope. */
const MAPPERS = [
  {
    name: 'groups',
    protocol: 'openid-connect',
    protocolMapper: 'oidc-group-membership-mapper',
    config: { 'claim.name': 'groups', 'full.path': 'false', 'id.token.claim': 'true', 'access.token.claim': 'true', 'userinfo.token.claim': 'true' },
  },
  {
    name: 'audience perch',
    protocol: 'openid-connect',
    protocolMapper: 'oidc-audience-mapper',
    config: { 'included.client.audience': CLIENT.id, 'access.token.claim': 'true', 'id.token.claim': 'false' },
  },
];

function realm(name: string, redirectUri: string): Record<string, unknown> {
  return {
    realm: name,
    enabled: true,
    groups: [{ name: 'developers' }, { name: 'readers' }],
    users: Object.entries(USERS).map(([username, u]) => ({
      username,
      enabled: true,
      email: `${username}@example.test`,
      emailVerified: true,
      firstName: username,
      lastName: 'Tester',
      credentials: [{ type: 'password', value: u.password, temporary: false }],
      groups: [`/${u.group}`],
    })),
    clients: [
      {
        clientId: CLIENT.id,
        enabled: true,
        publicClient: false,
        secret: CLIENT.secret,
        standardFlowEnabled: true,
        // Only so the test can get tokens without a browser; a real set-up leaves it off.
        directAccessGrantsEnabled: true,
        redirectUris: [redirectUri],
        webOrigins: ['+'],
        protocolMappers: MAPPERS,
      },
      {
        // Tokens that expire in 5 s, for the expiry case.
        clientId: SHORT_CLIENT.id,
        enabled: true,
        publicClient: false,
        secret: SHORT_CLIENT.secret,
        standardFlowEnabled: false,
        directAccessGrantsEnabled: true,
        attributes: { 'access.token.lifespan': '5' },
        protocolMappers: MAPPERS,
      },
    ],
  };
}

describe('OpenID Connect with Keycloak', () => {
  let keycloak: RunningKeycloak;
  let registry: RunningRegistry;
  const homes: ClientHome[] = [];
  const tokenOf = async (user: keyof typeof USERS, realmName = REALM, client = CLIENT) =>
    (await keycloak.passwordGrant(realmName, client, user, USERS[user].password)).accessToken;
  const tokenHome = (token: string, prefix: string) => {
    const home = homeWithRegistryToken(registry.host, token, prefix);
    homes.push(home);
    return home;
  };
  const run = (home: ClientHome, cmd: string, args: string[], options: { cwd?: string; allowFailure?: boolean } = {}) =>
    runCommand(cmd, args, { env: home.env, timeoutMs: 90_000, ...options });
  const status = (path: string, token: string, method = 'GET') =>
    fetch(`${registry.url}${path}`, { method, headers: { Authorization: `Bearer ${token}` } }).then(async (r) => ({ status: r.status, challenge: r.headers.get('www-authenticate') ?? '' }));

  beforeAll(async () => {
    keycloak = await startKeycloak();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    await keycloak.admin('POST', '', realm(REALM, `${base}/zot/auth/callback/keycloak`));
    await keycloak.admin('POST', '', realm('elsewhere', `${base}/zot/auth/callback/keycloak`));
    const dir = tempDir('perch-keycloak-');
    writeHtpasswd(join(dir, 'htpasswd'), { admin: 'Local-Admin-Pw-9' });
    const credentials = join(dir, 'keycloak-client.json');
    writeFileSync(credentials, JSON.stringify({ clientid: CLIENT.id, clientsecret: CLIENT.secret }));
    registry = await startRegistry({
      port,
      config: {
        http: {
          externalUrl: base,
          auth: {
            htpasswd: { path: join(dir, 'htpasswd') },
            openid: {
              providers: {
                keycloak: {
                  name: 'Keycloak',
                  issuer: keycloak.issuer(REALM),
                  credentialsFile: credentials,
                  scopes: ['openid', 'profile', 'email'],
                  claimMapping: { username: 'preferred_username', groups: 'groups' },
                },
              },
            },
          },
          accessControl: {
            repositories: {
              '**': {
                policies: [
                  { groups: ['developers'], actions: ['read', 'create', 'update', 'delete'] },
                  { groups: ['readers'], actions: ['read'] },
                ],
              },
            },
          },
        },
        extensions: { ui: { enable: true } },
        perch: { auth: { challenge: 'bearer', tokenKeyFile: join(dir, 'token.key') } },
      },
    });
  }, 300_000);
  afterAll(async () => {
    for (const home of homes) home.remove();
    await registry?.stop();
    await keycloak?.stop();
  });

  it("crane pushes and pulls with alice's Keycloak access token; bob's is refused the push with 403", async () => {
    const alice = tokenHome(await tokenOf('alice'), 'perch-kc-alice-');
    const built = writeSingleImageLayout(alice.folder('image'), 'v1', 'pushed with a Keycloak token');
    const ref = `${registry.host}/team/app`;
    expect((await run(alice, 'crane', ['push', built.dir, `${ref}:v1`])).stdout.trim()).toBe(`${ref}@${built.manifest.digest}`);
    const bob = tokenHome(await tokenOf('bob'), 'perch-kc-bob-');
    expect((await run(bob, 'crane', ['digest', `${ref}:v1`])).stdout.trim()).toBe(built.manifest.digest);
    const refused = await run(bob, 'crane', ['push', built.dir, `${ref}:bob`], { allowFailure: true });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/DENIED/);
  });

  it("oras and helm push and pull with alice's token", async () => {
    const home = tokenHome(await tokenOf('alice'), 'perch-kc-oras-');
    const work = home.folder('work');
    writeFileSync(join(work, 'notes.txt'), 'from keycloak\n');
    await run(home, 'oras', ['push', '--plain-http', `${registry.host}/team/notes:v1`, 'notes.txt:text/plain'], { cwd: work });
    const out = home.folder('pulled');
    await run(home, 'oras', ['pull', '--plain-http', '-o', out, `${registry.host}/team/notes:v1`]);
    await run(home, 'helm3', ['package', makeChart(work, 'kc-chart'), '--destination', work]);
    await run(home, 'helm3', ['push', join(work, 'kc-chart-0.1.0.tgz'), `oci://${registry.host}/team/charts`, '--plain-http']);
    const pulled = home.folder('charts');
    await run(home, 'helm3', ['pull', `oci://${registry.host}/team/charts/kc-chart`, '--version', '0.1.0', '--plain-http', '--destination', pulled]);
    expect((await run(home, 'tar', ['-tzf', join(pulled, 'kc-chart-0.1.0.tgz')])).stdout).toContain('kc-chart/Chart.yaml');
  });

  it('a token from another realm (another issuer) is refused with 401 invalid_token', async () => {
    const foreign = await tokenOf('alice', 'elsewhere');
    const res = await status('/v2/team/app/tags/list', foreign);
    expect(res.status).toBe(401);
    expect(res.challenge).toContain('error="invalid_token"');
  });

  it('a signing key added in Keycloak is used by new tokens, and perch accepts them at once', async () => {
    const before = await tokenOf('alice');
    const kidOf = (t: string) => (JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
    const { id: realmId } = (await keycloak.admin('GET', `/${REALM}`)) as { id: string };
    await keycloak.admin('POST', `/${REALM}/components`, {
      name: 'rotated-rsa',
      providerId: 'rsa-generated',
      providerType: 'org.keycloak.keys.KeyProvider',
      parentId: realmId,
      config: { priority: ['500'], keySize: ['2048'], active: ['true'], enabled: ['true'], algorithm: ['RS256'] },
    });
    const after = await tokenOf('alice');
    expect(kidOf(after)).not.toBe(kidOf(before));
    expect((await status('/v2/team/app/tags/list', after)).status).toBe(200);
    // The old key is still published: tokens signed with it stay good until they expire.
    expect((await status('/v2/team/app/tags/list', before)).status).toBe(200);
  });

  it('an expired token is refused with 401 invalid_token', async () => {
    const token = await tokenOf('alice', REALM, SHORT_CLIENT);
    expect((await status('/v2/team/app/tags/list', token)).status).toBe(200);
    // 5 s lifetime and perch's 10 s of clock leeway.
    await new Promise((r) => setTimeout(r, 16_500));
    const res = await status('/v2/team/app/tags/list', token);
    expect(res.status).toBe(401);
    expect(res.challenge).toContain('error="invalid_token"');
  }, 40_000);

  describe('browse UI sign-in through Keycloak\'s login page', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: LAUNCH_ARGS });
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('bob signs in in Chromium and the UI shows him as signed in through the session cookie', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${registry.url}/_ui/login`);
      await page.getByRole('link', { name: 'Sign in with Keycloak' }).click();
      await page.waitForURL((url) => url.href.startsWith(keycloak.url));
      await page.locator('#username').fill('bob');
      await page.locator('#password').fill(USERS.bob.password);
      await page.locator('#kc-login').click();
      await page.waitForURL((url) => url.origin === registry.url && !url.pathname.startsWith('/zot/auth/'));
      const view = (await (await page.request.get(`${registry.url}/_ui/api/repositories`)).json()) as { user: string; session: boolean; repositories: Array<{ name: string }> };
      expect(view.user).toBe('bob');
      expect(view.session).toBe(true);
      expect(view.repositories.map((r) => r.name)).toContain('team/app');
      const cookies = await context.cookies(registry.url);
      const session = cookies.find((c) => c.name === 'perch_session');
      expect(session?.httpOnly).toBe(true);
      expect(session?.sameSite).toBe('Lax');
      await context.close();
    });
  });
});
