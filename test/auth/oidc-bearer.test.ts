/**
 * OpenID Connect bearer tokens through perch as a process (startRegistry: `perch serve`), with
 * a real provider (helpers/oidc-provider.ts, oidc-provider set up like a Keycloak realm) and
 * real clients.
 *
 *   perch    zot's http.auth.openid.providers.keycloak (claimMapping preferred_username /
 *            groups, like zot's examples/config-openid-claim-mapping.json), an htpasswd file
 *            with a local admin, and perch.auth.challenge "bearer" (which the config loader
 *            allows only with a password login); accessControl grants by group:
 *            "developers" everything, "readers" read.
 *
 * How the clients are handed a token they did not fetch themselves: a docker config.json
 * `auths.<host>.registrytoken` entry. go-containerregistry (crane) sends it as the Bearer token
 * under either challenge; oras-go (oras, helm 3 and 4, which read helm's own
 * registry/config.json) uses it as the access token when the challenge is Bearer, which is
 * why the registry here challenges with Bearer. oras 1.3 has no flag for it (--identity-token
 * is an OAuth2 refresh token, not an access token).
 *
 * Then what a user would meet: bob (readers) may pull and is refused a push with 403; a token
 * signed with a key the provider rotated to is accepted on first use; an expired token, a
 * token from another provider, and a token for another audience are 401 invalid_token; with
 * the provider stopped, a token perch cannot check is 503 naming the issuer.
 *
 * Second part: zot's examples/config-bearer-oidc-workload.json (test/fixtures/zot-configs/,
 * changed only in its issuer, which the test points at the provider, and its port) lets the
 * workload's client-credentials token push as claims.sub, and refuses another identity. The
 * example's realm "zot" is not a URL, and crane refuses such a challenge outright ("invalid
 * realm in www-authenticate: realm scheme "" not allowed"), so the test also sets realm to a
 * URL of the registry, as zot's README-OIDC-WORKLOAD-IDENTITY.md recommends; one test shows
 * the example's own realm failing that way, so the day perch refuses or fixes it is noticed.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeChart } from '../helpers/chart-dir';
import { homeWithRegistryToken, makeClientHome, type ClientHome } from '../helpers/client-home';
import { startOidcProvider, type RunningOidcProvider } from '../helpers/oidc-provider';
import { writeSingleImageLayout } from '../helpers/oci-layout';
import { freePort } from '../helpers/ports';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { runCommand } from '../helpers/run-command';
import { tempDir } from '../helpers/temp-dir';
import { writeHtpasswd } from './harness';

const FIXTURE = join(__dirname, '..', 'fixtures', 'zot-configs', 'config-bearer-oidc-workload.json');

/** Every token the tests handed out: none may appear in perch's log. */
const SENT = new Set<string>();

/** A client home with `token` as the registry token for `host` (client-home.ts). */
function homeWithToken(host: string, token: string, prefix: string): ClientHome {
  SENT.add(token);
  return homeWithRegistryToken(host, token, prefix);
}

async function get(url: string, token: string, method = 'GET'): Promise<{ status: number; challenge: string | null; body: string }> {
  SENT.add(token);
  const res = await fetch(url, { method, headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() };
}

/** On a failure, the registry's last log lines (its side of a client's "unexpected status"). */
function showLogsOnFailure(registry: () => RunningRegistry | undefined): void {
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => console.error(`--- perch log ---\n${registry()?.logs.slice(-30).join('\n') ?? ''}`));
  });
}

/** Waits (up to 3 s) for a log line: the child's output arrives after its answer. */
async function logLine(registry: RunningRegistry, match: (line: string) => boolean): Promise<string | undefined> {
  for (let i = 0; i < 30; i++) {
    const hit = registry.logs.find(match);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

function expectNoTokenLogged(logs: string[]): void {
  const joined = logs.join('\n');
  for (const token of SENT) {
    expect(joined).not.toContain(token);
    expect(joined).not.toContain(token.split('.')[2]!);
  }
}

describe('OpenID provider tokens through perch (http.auth.openid.providers)', () => {
  let idp: RunningOidcProvider;
  let foreign: RunningOidcProvider;
  let registry: RunningRegistry;
  const homes: ClientHome[] = [];
  const run = (home: ClientHome, cmd: string, args: string[], options: { cwd?: string; allowFailure?: boolean } = {}) =>
    runCommand(cmd, args, { env: home.env, timeoutMs: 90_000, ...options });
  const tokenHome = (token: string, prefix: string) => {
    const home = homeWithToken(registry.host, token, prefix);
    homes.push(home);
    return home;
  };

  beforeAll(async () => {
    [idp, foreign] = await Promise.all([startOidcProvider(), startOidcProvider()]);
    const port = await freePort();
    idp.setRedirectUris([idp.callbackUrl(`http://127.0.0.1:${port}`, 'keycloak')]);
    const dir = tempDir('perch-oidc-e2e-');
    writeHtpasswd(join(dir, 'htpasswd'), { admin: 'Local-Admin-Pw-9' });
    registry = await startRegistry({
      port,
      config: {
        http: {
          auth: {
            htpasswd: { path: join(dir, 'htpasswd') },
            openid: {
              providers: {
                keycloak: {
                  name: 'Keycloak',
                  issuer: idp.issuer,
                  clientid: idp.clientId,
                  clientsecret: idp.clientSecret,
                  scopes: ['openid', 'profile', 'email', 'groups'],
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
        perch: { auth: { challenge: 'bearer', tokenKeyFile: join(dir, 'token.key') } },
      },
    });
  });
  afterAll(async () => {
    for (const home of homes) home.remove();
    await registry?.stop();
    await Promise.all([idp?.stop(), foreign?.stop()]);
  });
  showLogsOnFailure(() => registry);

  it("crane pushes and pulls with alice's access token (group developers)", async () => {
    const { accessToken } = await idp.signIn('alice', idp.users.alice.password);
    const home = tokenHome(accessToken, 'perch-oidc-crane-');
    const built = writeSingleImageLayout(home.folder('image'), 'v1', 'oidc');
    const ref = `${registry.host}/team/crane-app`;
    expect((await run(home, 'crane', ['push', built.dir, `${ref}:v1`])).stdout.trim()).toBe(`${ref}@${built.manifest.digest}`);
    expect((await run(home, 'crane', ['digest', `${ref}:v1`])).stdout.trim()).toBe(built.manifest.digest);
    // Without the token the same pull is refused: the token is what let crane in.
    const anonymous = makeClientHome('perch-oidc-anon-');
    homes.push(anonymous);
    const refused = await run(anonymous, 'crane', ['digest', `${ref}:v1`], { allowFailure: true });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/UNAUTHORIZED|401/);
  });

  it("oras pushes and pulls with alice's access token", async () => {
    const { accessToken } = await idp.signIn('alice', idp.users.alice.password);
    const home = tokenHome(accessToken, 'perch-oidc-oras-');
    const work = home.folder('work');
    writeFileSync(join(work, 'notes.txt'), 'pushed with an OpenID token\n');
    const ref = `${registry.host}/team/oras-notes:v1`;
    await run(home, 'oras', ['push', '--plain-http', ref, 'notes.txt:text/plain'], { cwd: work });
    const out = home.folder('pulled');
    await run(home, 'oras', ['pull', '--plain-http', '-o', out, ref]);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('pushed with an OpenID token\n');
  });

  for (const helm of ['helm3', 'helm4']) {
    it(`${helm} pushes and pulls a chart with alice's access token`, async () => {
      const { accessToken } = await idp.signIn('alice', idp.users.alice.password);
      const home = tokenHome(accessToken, `perch-oidc-${helm}-`);
      const work = home.folder('work');
      await run(home, helm, ['package', makeChart(work, `${helm}-oidc`), '--destination', work]);
      const tgz = join(work, `${helm}-oidc-0.1.0.tgz`);
      await run(home, helm, ['push', tgz, `oci://${registry.host}/charts`, '--plain-http']);
      const pulled = home.folder('pulled');
      await run(home, helm, ['pull', `oci://${registry.host}/charts/${helm}-oidc`, '--version', '0.1.0', '--destination', pulled, '--plain-http']);
      expect(readdirSync(pulled)).toEqual([`${helm}-oidc-0.1.0.tgz`]);
      expect(readFileSync(join(pulled, `${helm}-oidc-0.1.0.tgz`)).equals(readFileSync(tgz))).toBe(true);
    });
  }

  it('bob (group readers) pulls, and is refused a push with 403 DENIED', async () => {
    const { accessToken } = await idp.signIn('bob', idp.users.bob.password);
    const home = tokenHome(accessToken, 'perch-oidc-bob-');
    expect((await run(home, 'crane', ['ls', `${registry.host}/team/crane-app`])).stdout.trim()).toBe('v1');
    const built = writeSingleImageLayout(home.folder('image'), 'v1', 'bob');
    const push = await run(home, 'crane', ['push', built.dir, `${registry.host}/team/bob-app:v1`], { allowFailure: true });
    expect(push.code).not.toBe(0);
    expect(push.stderr).toMatch(/DENIED/);
    const upload = await get(`${registry.url}/v2/team/bob-app/blobs/uploads/`, accessToken, 'POST');
    expect(upload.status).toBe(403);
    expect(JSON.parse(upload.body).errors[0].code).toBe('DENIED');
    expect(await logLine(registry, (l) => l.includes('"status":403') && l.includes('"user":"bob"'))).toBeDefined();
  });

  it('refuses with 401 invalid_token a token from another provider and one for another audience', async () => {
    const strange = await foreign.signIn('alice', foreign.users.alice.password);
    const fromForeign = await get(`${registry.url}/v2/`, strange.accessToken);
    expect(fromForeign.status).toBe(401);
    expect(fromForeign.challenge).toContain('error="invalid_token"');

    const other = await idp.signIn('alice', idp.users.alice.password, { resource: idp.resources.other });
    const wrongAudience = await get(`${registry.url}/v2/team/crane-app/tags/list`, other.accessToken);
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.challenge).toContain('error="invalid_token"');
    expect(await logLine(registry, (l) => l.includes('bearer token refused') && l.includes('its \\"aud\\" is none of \\"perch\\"'))).toBeDefined();
  });

  it('accepts the first token signed with a key the provider just rotated to (JWKS fetched again)', async () => {
    const kid = idp.rotateKey({ keepOld: true });
    const { accessToken } = await idp.signIn('alice', idp.users.alice.password);
    expect(JSON.parse(Buffer.from(accessToken.split('.')[0]!, 'base64url').toString()).kid).toBe(kid);
    const home = tokenHome(accessToken, 'perch-oidc-rotated-');
    const built = writeSingleImageLayout(home.folder('image'), 'v2', 'rotated');
    const t0 = performance.now();
    await run(home, 'crane', ['push', built.dir, `${registry.host}/team/crane-app:v2`]);
    console.info(`crane push with a token under the new key: ${(performance.now() - t0).toFixed(0)} ms`);
    expect((await get(`${registry.url}/v2/team/crane-app/tags/list`, accessToken)).body).toContain('"v2"');
  });

  it('refuses an expired token with 401 invalid_token', async () => {
    idp.setAccessTokenTtl(2);
    const { accessToken } = await idp.signIn('alice', idp.users.alice.password);
    idp.setAccessTokenTtl(300);
    expect((await get(`${registry.url}/v2/`, accessToken)).status).toBe(200);
    // Past exp and perch's 10 s of clock leeway.
    await new Promise((r) => setTimeout(r, 13_000));
    const expired = await get(`${registry.url}/v2/`, accessToken);
    expect(expired.status).toBe(401);
    expect(expired.challenge).toContain('error="invalid_token"');
  }, 30_000);

  it('answers 503 naming the issuer when the provider is down and the token needs a key perch has not fetched', async () => {
    idp.rotateKey({ keepOld: false });
    const { accessToken } = await idp.signIn('alice', idp.users.alice.password);
    await idp.stop();
    const res = await get(`${registry.url}/v2/team/crane-app/tags/list`, accessToken);
    expect(res.status).toBe(503);
    const error = JSON.parse(res.body).errors[0];
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toContain(`the OpenID issuer ${idp.issuer} cannot be reached`);
    expectNoTokenLogged(registry.logs);
  });
});

describe("zot's config-bearer-oidc-workload.json with a client-credentials token", () => {
  let idp: RunningOidcProvider;
  let registry: RunningRegistry;
  let home: ClientHome | undefined;

  beforeAll(async () => {
    idp = await startOidcProvider();
    const config = JSON.parse(readFileSync(FIXTURE, 'utf8'));
    config.storage.rootDirectory = tempDir('perch-oidc-workload-');
    config.http.auth.bearer.oidc[0].issuer = idp.issuer;
    const port = await freePort();
    config.http.port = String(port);
    config.http.auth.bearer.realm = `http://127.0.0.1:${port}/zot/auth/token`;
    config.http.auth.bearer.service = `127.0.0.1:${port}`;
    registry = await startRegistry({ config, port });
  });
  afterAll(async () => {
    home?.remove();
    await registry?.stop();
    await idp?.stop();
  });
  showLogsOnFailure(() => registry);

  it('the workload (claims.sub system:serviceaccount:flux-system:source-controller) pushes with crane', async () => {
    const { accessToken } = await idp.clientCredentials();
    home = homeWithToken(registry.host, accessToken, 'perch-oidc-workload-');
    const built = writeSingleImageLayout(home.folder('image'), 'v1', 'workload');
    const ref = `${registry.host}/flux/app`;
    expect((await runCommand('crane', ['push', built.dir, `${ref}:v1`], { env: home.env, timeoutMs: 90_000 })).stdout.trim()).toBe(`${ref}@${built.manifest.digest}`);
    expect(await logLine(registry, (l) => l.includes('"user":"system:serviceaccount:flux-system:source-controller"') && l.includes('"status":201'))).toBeDefined();
  });

  it('with the example\'s own realm "zot" (not a URL) crane refuses the challenge before sending the token', async () => {
    const config = JSON.parse(readFileSync(FIXTURE, 'utf8'));
    config.storage.rootDirectory = tempDir('perch-oidc-workload-realm-');
    config.http.auth.bearer.oidc[0].issuer = idp.issuer;
    const port = await freePort();
    config.http.port = String(port);
    const asIs = await startRegistry({ config, port });
    const own = homeWithToken(asIs.host, (await idp.clientCredentials()).accessToken, 'perch-oidc-realm-');
    try {
      const res = await fetch(`${asIs.url}/v2/`);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="zot",service="zot-service"');
      const push = await runCommand('crane', ['ls', `${asIs.host}/flux/app`], { env: own.env, allowFailure: true });
      expect(push.stderr).toContain('invalid realm in www-authenticate');
      expect(asIs.logs.join('\n')).toMatch(/http\.auth\.bearer\.realm is not an http\(s\) URL/);
    } finally {
      own.remove();
      await asIs.stop();
    }
  });

  it("refuses another identity's token for the same audience with 403, and a person's token for perch's audience with 401", async () => {
    // alice's token for the zot resource: a good token, but claims.sub is alice's id, whom no policy names.
    const forZot = await idp.signIn('alice', idp.users.alice.password, { resource: idp.resources.workload });
    const denied = await get(`${registry.url}/v2/flux/app/blobs/uploads/`, forZot.accessToken, 'POST');
    expect(denied.status).toBe(403);
    const forPerch = await idp.signIn('alice', idp.users.alice.password);
    const refused = await get(`${registry.url}/v2/flux/app/tags/list`, forPerch.accessToken);
    expect(refused.status).toBe(401);
    expect(refused.challenge).toContain('error="invalid_token"');
    expectNoTokenLogged(registry.logs);
  });
});
