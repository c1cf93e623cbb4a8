/**
 * Browse-UI sign-in with OpenID Connect, end to end: the bundled server as a process, a real
 * OpenID provider (test/helpers/oidc-provider.ts: npm oidc-provider set up like a Keycloak
 * realm, users alice in "developers" and bob in "readers", client "perch" with a secret) and
 * headless Chromium walking the provider's login form.
 *
 * What it shows: the sign-in page offers "Sign in with <provider>" (and the password sign-in
 * beside it); a signed-in user sees exactly the repositories their provider groups may read;
 * the session cookie is HttpOnly, SameSite=Lax, and Secure over TLS; a forged, altered or
 * expired cookie is refused with 401; a callback whose state this browser did not start is
 * refused; a provider error (access_denied) ends on a page that says so; callback_ui cannot
 * send the browser to another site; signing out ends the session; a signed-in user makes an
 * API key with the session and it works for Basic logins with the user's groups.
 */
import { request as httpsRequest } from 'node:https';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionKeys } from '../../registry-image/src/auth/session/session-keys';
import { startOidcProvider, type RunningOidcProvider } from '../helpers/oidc-provider';
import { REPO_ROOT, startRegistry, type RunningRegistry } from '../helpers/registry';
import { writeHtpasswd, tempDir } from '../auth/harness';
import { pushImage, type Login } from './fixtures';

const PROVIDER = 'keycloak';
const ADMIN: Login = { username: 'roost-test', password: 'Oidc-Ui-Admin-Pw-1' };
const HASH_KEY = 'perch-oidc-test-session-hash-key-0123456789abcdef';
const SHOTS = join(REPO_ROOT, 'test/artifacts/ui');
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const ACCESS_CONTROL = {
  groups: {},
  repositories: {
    'team/**': { policies: [{ groups: ['developers'], actions: ['read', 'create'] }, { users: [ADMIN.username], actions: ['read', 'create', 'update', 'delete'] }] },
    'docs/**': { policies: [{ groups: ['readers'], actions: ['read'] }, { users: [ADMIN.username], actions: ['read', 'create', 'update', 'delete'] }] },
    'secret/**': { policies: [{ users: [ADMIN.username], actions: ['read', 'create', 'update', 'delete'] }] },
  },
};

function registryConfig(oidc: RunningOidcProvider, dir: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const credentials = join(dir, 'oidc-credentials.json');
  writeFileSync(credentials, JSON.stringify({ clientid: oidc.clientId, clientsecret: oidc.clientSecret }));
  const sessionKeys = join(dir, 'session-keys.json');
  writeFileSync(sessionKeys, JSON.stringify({ hashKey: HASH_KEY, encryptKey: 'unused-by-perch-0123456789abcdef' }));
  return {
    http: {
      auth: {
        htpasswd: { path: join(dir, 'htpasswd') },
        apikey: true,
        sessionKeysFile: sessionKeys,
        openid: { providers: { [PROVIDER]: { name: 'Keycloak', issuer: oidc.issuer, credentialsFile: credentials, scopes: ['openid', 'profile', 'email', 'groups'] } } },
      },
      accessControl: ACCESS_CONTROL,
    },
    extensions: { ui: { enable: true } },
    perch: { auth: { tokenKeyFile: join(dir, 'token.key') } },
    ...extra,
  };
}

/** On the provider's pages: the login form when asked, then the consent page when asked; back at `base`. */
async function throughProvider(page: Page, base: string, user: { username: string; password: string }): Promise<void> {
  const origin = new URL(base).origin;
  for (let step = 0; step < 4; step++) {
    await page.waitForURL((url) => url.origin === origin || url.pathname.startsWith('/interaction/'));
    const url = new URL(page.url());
    if (url.origin === origin && !url.pathname.startsWith('/zot/auth/')) return;
    if (await page.locator('input[name="password"]').count()) {
      await page.locator('input[name="login"]').fill(user.username);
      await page.locator('input[name="password"]').fill(user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
    } else {
      await page.getByRole('button', { name: 'Continue' }).click();
    }
    await page.waitForURL((next) => next.href !== url.href);
  }
  throw new Error(`sign-in did not come back to ${base}: at ${page.url()}`);
}

/** Signs in through the provider's own pages, as a person would. */
async function signIn(page: Page, base: string, user: { username: string; password: string }): Promise<void> {
  await page.goto(`${base}/_ui/login`);
  await page.getByRole('link', { name: 'Sign in with Keycloak' }).click();
  await throughProvider(page, base, user);
  expect(new URL(page.url()).pathname).toBe('/');
}

async function ready(page: Page, view: string): Promise<void> {
  await page
    .locator(`main[data-ready="${view}"], main[data-ready="problem"]`)
    .waitFor({ timeout: 15_000 })
    .catch(async (err: Error) => {
      throw new Error(`${err.message}\nat ${page.url()}: ${(await page.content()).slice(0, 1500)}`);
    });
  const shown = await page.locator('main').getAttribute('data-ready');
  if (shown !== view) throw new Error(`expected the ${view} view, the page shows: ${await page.locator('main').innerText()}`);
}

const cookieHeader = (name: string, value: string) => ({ Cookie: `${name}=${value}` });

/**
 * Records every password dialog the browser would show, and cancels it (headless chromium has
 * none to dismiss: the request would wait forever). With OpenID sign-in there must be none.
 */
async function watchDialogs(context: BrowserContext, page: Page): Promise<string[]> {
  const dialogs: string[] = [];
  const cdp = await context.newCDPSession(page);
  cdp.on('Fetch.requestPaused', (e) => void cdp.send('Fetch.continueRequest', { requestId: e.requestId }).catch(() => {}));
  cdp.on('Fetch.authRequired', (e) => {
    dialogs.push(`${e.authChallenge.scheme} ${e.request.url}`);
    void cdp.send('Fetch.continueWithAuth', { requestId: e.requestId, authChallengeResponse: { response: 'CancelAuth' } }).catch(() => {});
  });
  await cdp.send('Fetch.enable', { handleAuthRequests: true });
  return dialogs;
}

describe('OpenID Connect sign-in to the browse UI', () => {
  let oidc: RunningOidcProvider;
  let registry: RunningRegistry;
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = tempDir('perch-oidc-ui-');
    writeHtpasswd(join(dir, 'htpasswd'), { [ADMIN.username]: ADMIN.password });
    oidc = await startOidcProvider();
    registry = await startRegistry({ config: registryConfig(oidc, dir) });
    oidc.setRedirectUris([oidc.callbackUrl(registry.url, PROVIDER)]);
    const platform = { os: 'linux', architecture: 'amd64' };
    await pushImage(registry.url, 'team/app', 'v1', platform, 'team layer', ADMIN);
    await pushImage(registry.url, 'docs/guide', 'v1', platform, 'docs layer', ADMIN);
    await pushImage(registry.url, 'secret/vault', 'v1', platform, 'secret layer', ADMIN);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: LAUNCH_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await registry?.stop();
    await oidc?.stop();
  });

  it('the sign-in page offers "Sign in with Keycloak" and the password sign-in beside it', async () => {
    const res = await fetch(`${registry.url}/_ui/login`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`href="/zot/auth/login?provider=${PROVIDER}&amp;callback_ui=%2F">Sign in with Keycloak</a>`);
    expect(html).toContain('href="/_ui/login?with=password"');
    // The password link still gets the browser's Basic dialog.
    const basic = await fetch(`${registry.url}/_ui/login?with=password`);
    expect(basic.status).toBe(401);
    expect(basic.headers.get('www-authenticate')).toBe('Basic realm="perch"');
  });

  describe('alice (developers) in chromium', () => {
    let context: BrowserContext;
    let page: Page;
    let dialogs: string[];

    beforeAll(async () => {
      context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      page = await context.newPage();
      dialogs = await watchDialogs(context, page);
    });
    afterAll(() => context?.close());

    it('signs in through the provider and sees only what the developers group may read', async () => {
      await page.goto(registry.url + '/');
      await ready(page, 'problem');
      await expect(page.locator('#login-needed').innerText()).resolves.toContain('Sign in');
      // The UI marks its requests (X-ZOT-API-CLIENT: zot-ui): the 401 carries no Basic challenge, so no password dialog.
      expect(dialogs).toEqual([]);
      await signIn(page, registry.url, oidc.users.alice);
      await ready(page, 'repositories');
      expect(await page.locator('a.repo-link').allInnerTexts()).toEqual(['team/app']);
      await expect(page.locator('#viewer').innerText()).resolves.toContain(`Signed in as ${oidc.users.alice.email}`);
      await expect(page.locator('#sign-out').isVisible()).resolves.toBe(true);
      await page.screenshot({ path: join(SHOTS, 'oidc-signed-in.png'), fullPage: true });
    });

    it('the session cookie is HttpOnly and SameSite=Lax (not Secure over plain HTTP), and no script can read it', async () => {
      const cookies = await context.cookies(registry.url);
      const session = cookies.find((c) => c.name === 'perch_session');
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false, path: '/' });
      // Eight hours, give or take the test's own time.
      expect(session!.expires * 1000 - Date.now()).toBeGreaterThan(8 * 3600_000 - 120_000);
      expect(session!.expires * 1000 - Date.now()).toBeLessThanOrEqual(8 * 3600_000 + 1000);
      expect(await page.evaluate('document.cookie')).not.toContain('perch_session');
      // The sign-in's own state cookie is gone.
      expect(cookies.filter((c) => c.name.startsWith('perch_oidc_'))).toEqual([]);
    });

    it('a forged or altered cookie is refused with 401, not taken as anonymous', async () => {
      const session = (await context.cookies(registry.url)).find((c) => c.name === 'perch_session')!;
      const ok = await fetch(`${registry.url}/_ui/api/repositories`, { headers: cookieHeader('perch_session', session.value) });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { user: string }).user).toBe(oidc.users.alice.email);

      // Claim to be the admin with the signature of alice's cookie.
      const [, mac] = session.value.split('.');
      const claimed = Buffer.from(JSON.stringify({ u: ADMIN.username, g: ['developers'], m: 'openid', exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url');
      const forged = await fetch(`${registry.url}/_ui/api/repositories`, { headers: cookieHeader('perch_session', `${claimed}.${mac}`) });
      expect(forged.status).toBe(401);
      expect(await forged.text()).toContain('signature');
      // Signed with another key.
      const otherKey = SessionKeys.load(undefined).seal('session', { u: ADMIN.username, g: [], m: 'openid', exp: Math.floor(Date.now() / 1000) + 3600 });
      expect((await fetch(`${registry.url}/v2/_catalog`, { headers: cookieHeader('perch_session', otherKey) })).status).toBe(401);
    });

    it('an expired cookie, even with a good signature, is refused', async () => {
      const keyFile = join(dir, 'session-keys.json');
      const expired = SessionKeys.load(keyFile).seal('session', { u: oidc.users.alice.email, g: ['developers'], m: 'openid', exp: Math.floor(Date.now() / 1000) - 5 });
      const res = await fetch(`${registry.url}/_ui/api/repositories`, { headers: cookieHeader('perch_session', expired) });
      expect(res.status).toBe(401);
      expect(await res.text()).toContain('expired');
      // The same cookie a minute from expiry is fine: it is the time that decides.
      const live = SessionKeys.load(keyFile).seal('session', { u: oidc.users.alice.email, g: ['developers'], m: 'openid', exp: Math.floor(Date.now() / 1000) + 60 });
      expect((await fetch(`${registry.url}/_ui/api/repositories`, { headers: cookieHeader('perch_session', live) })).status).toBe(200);
    });

    it('makes an API key with the session; the key works for Basic logins with her groups', async () => {
      const created = (await page.evaluate(async () => {
        const res = await fetch('/zot/auth/apikey', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ label: 'from the UI' }) });
        return { status: res.status, body: await res.json() };
      })) as { status: number; body: { apiKey: string } };
      expect(created.status).toBe(201);
      const key = created.body.apiKey as string;
      expect(key).toMatch(/^zak_/);
      const auth = { Authorization: `Basic ${Buffer.from(`${oidc.users.alice.email}:${key}`).toString('base64')}` };
      expect((await fetch(`${registry.url}/v2/team/app/tags/list`, { headers: auth })).status).toBe(200);
      expect((await fetch(`${registry.url}/v2/secret/vault/tags/list`, { headers: auth })).status).toBe(403);
      const listed = (await page.evaluate(async () => (await fetch('/zot/auth/apikey', { credentials: 'same-origin' })).json())) as { apiKeys: Array<{ label: string }> };
      expect(listed.apiKeys.map((k) => k.label)).toEqual(['from the UI']);
      // Without the session (a cross-site page cannot borrow it: SameSite and Fetch Metadata), no key.
      const anonymous = await fetch(`${registry.url}/zot/auth/apikey`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      expect(anonymous.status).toBe(401);
    });

    it('signing out ends the session', async () => {
      const before = (await context.cookies(registry.url)).find((c) => c.name === 'perch_session')!;
      await page.goto(registry.url + '/');
      await ready(page, 'repositories');
      await page.locator('#sign-out').click();
      await page.waitForURL(registry.url + '/');
      await ready(page, 'problem');
      await expect(page.locator('#login-needed').isVisible()).resolves.toBe(true);
      expect((await context.cookies(registry.url)).find((c) => c.name === 'perch_session')).toBeUndefined();
      // The old cookie value is still signed and unexpired: sessions are stateless (docs say so).
      expect(before.value).not.toBe('');
    });
  });

  it('bob (readers) sees docs/guide only', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await signIn(page, registry.url, oidc.users.bob);
      await ready(page, 'repositories');
      expect(await page.locator('a.repo-link').allInnerTexts()).toEqual(['docs/guide']);
    } finally {
      await context.close();
    }
  });

  describe('the callback refuses what this browser did not start', () => {
    async function startLogin(callbackUi = '/'): Promise<{ state: string; cookie: string; location: URL }> {
      const res = await fetch(`${registry.url}/zot/auth/login?provider=${PROVIDER}&callback_ui=${encodeURIComponent(callbackUi)}`, { redirect: 'manual' });
      expect(res.status).toBe(303);
      const location = new URL(res.headers.get('location')!);
      const setCookie = res.headers.getSetCookie()[0];
      expect(setCookie).toMatch(/^perch_oidc_[A-Za-z0-9_-]+=/);
      expect(setCookie).toContain('HttpOnly');
      expect(setCookie).toContain('SameSite=Lax');
      expect(setCookie).toContain('Path=/zot/auth/callback/');
      return { state: location.searchParams.get('state')!, cookie: setCookie.split(';')[0], location };
    }

    it('login sends the browser to the provider with PKCE S256, state and nonce', async () => {
      const { location } = await startLogin();
      expect(location.origin).toBe(oidc.issuer);
      expect(location.searchParams.get('code_challenge_method')).toBe('S256');
      expect(location.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(location.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(location.searchParams.get('redirect_uri')).toBe(oidc.callbackUrl(registry.url, PROVIDER));
      expect(location.searchParams.get('client_id')).toBe(oidc.clientId);
    });

    it('a state that does not match the cookie, or no cookie at all, is refused', async () => {
      const { state, cookie } = await startLogin();
      const callback = `${registry.url}/zot/auth/callback/${PROVIDER}`;
      const mismatch = await fetch(`${callback}?code=abc&state=${state}x`, { headers: { Cookie: cookie }, redirect: 'manual' });
      expect(mismatch.status).toBe(400);
      expect(await mismatch.text()).toContain('cannot be finished');
      const noCookie = await fetch(`${callback}?code=abc&state=${state}`, { redirect: 'manual' });
      expect(noCookie.status).toBe(400);
      const altered = cookie.replace(/=(.)/, (_m, c: string) => `=${c === 'A' ? 'B' : 'A'}`);
      const tampered = await fetch(`${callback}?code=abc&state=${state}`, { headers: { Cookie: altered }, redirect: 'manual' });
      expect(tampered.status).toBe(400);
      expect(tampered.headers.getSetCookie().some((c) => c.startsWith('perch_session='))).toBe(false);
    });

    it('a provider error ends on a page that says what happened', async () => {
      const { state, cookie } = await startLogin();
      const res = await fetch(`${registry.url}/zot/auth/callback/${PROVIDER}?error=access_denied&error_description=${encodeURIComponent('<b>not allowed</b>')}&state=${state}`, { headers: { Cookie: cookie } });
      expect(res.status).toBe(403);
      const html = await res.text();
      expect(html).toContain('Keycloak denied the sign-in (access_denied).');
      expect(html).toContain('&lt;b&gt;not allowed&lt;/b&gt;');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    });

    it('callback_ui to another site falls back to "/", a path on the registry is kept', async () => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(`${registry.url}/zot/auth/login?provider=${PROVIDER}&callback_ui=${encodeURIComponent('https://evil.example/phish')}`);
        await throughProvider(page, registry.url, oidc.users.bob);
        expect(page.url()).toBe(`${registry.url}/`);

        // Already signed in at the provider: straight back, to the path asked for.
        await page.goto(`${registry.url}/zot/auth/login?provider=${PROVIDER}&callback_ui=${encodeURIComponent('/#/docs/guide')}`);
        await throughProvider(page, registry.url, oidc.users.bob);
        expect(page.url()).toBe(`${registry.url}/#/docs/guide`);
        await ready(page, 'repository');
      } finally {
        await context.close();
      }
    });

    it('an unknown provider gets a page naming the ones there are', async () => {
      const res = await fetch(`${registry.url}/zot/auth/login?provider=nope`);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(`Providers: ${PROVIDER}`);
    });
  });
});

/** GET over HTTPS to a self-signed registry, without following redirects. */
function insecureGet(url: string): Promise<{ status: number; setCookie: string[] }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, setCookie: res.headers['set-cookie'] ?? [] });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('OpenID Connect sign-in over TLS', () => {
  it('the state and session cookies are Secure', async () => {
    const dir = tempDir('perch-oidc-tls-');
    writeHtpasswd(join(dir, 'htpasswd'), { [ADMIN.username]: ADMIN.password });
    const oidc = await startOidcProvider();
    const registry = await startRegistry({ config: registryConfig(oidc, dir, { perch: { auth: { tokenKeyFile: join(dir, 'token.key') }, tls: { selfSigned: { hosts: ['127.0.0.1'] } } } }) });
    const base = `https://${registry.host}`;
    oidc.setRedirectUris([oidc.callbackUrl(base, PROVIDER)]);
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: LAUNCH_ARGS });
    try {
      const login = await insecureGet(`${base}/zot/auth/login?provider=${PROVIDER}`);
      expect(login.status).toBe(303);
      expect(login.setCookie[0]).toMatch(/; Secure$|; Secure;/);

      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      await signIn(page, base, oidc.users.alice);
      await ready(page, 'repositories');
      const session = (await context.cookies(base)).find((c) => c.name === 'perch_session');
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: true });
    } finally {
      await browser.close();
      await registry.stop();
      await oidc.stop();
    }
  });
});
