/**
 * The UI's sign-in cannot be driven cross-site (auth/cross-site.ts; docs/ui.md "Security
 * choices").
 *
 * The UI signs in with the browser's own Basic login, and a browser that has signed in answers
 * the registry's Basic challenge by itself, whichever page started the request; a cross-site
 * form POST is a "simple" request that no CORS preflight stops. So, in Debian's chromium, a page
 * on another origin (http://127.0.0.2:PORT) tries, against a visitor signed in as alice:
 * a form POST that uploads a blob, a form POST that mounts alice's private blob into another
 * repository, a no-cors fetch POST, a credentialed fetch of the data endpoint; and against a
 * visitor who has not signed in, links that would sign the browser in as the attacker's own
 * user (`http://mallory:pass@registry/...`, behind a 401). None may change anything or sign
 * anyone in, while the same browser on the registry's own page works as before.
 *
 * Then the rule itself, request by request, with the headers a browser sends (Sec-Fetch-Site,
 * Origin) and those registry clients send (neither): only browser requests from other sites
 * are refused, with 403 and no challenge.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRegistry } from '../helpers/registry';
import { pushBlob } from '../ui/fixtures';
import { basic, call, CHROMIUM, LAUNCH_ARGS, startSecured } from './harness';

const ALICE = { username: 'alice', password: 'alice-Passw0rd-1' };
const MALLORY = { username: 'mallory', password: 'mallory-Passw0rd-2' };
/** alice may do everything in victim/** and public/**; mallory only reads public/**. */
const ACCESS = {
  groups: {},
  repositories: {
    'victim/**': { policies: [{ users: ['alice'], actions: ['read', 'create', 'update', 'delete'] }] },
    'public/**': { policies: [{ users: ['alice'], actions: ['read', 'create', 'update', 'delete'] }], defaultPolicy: ['read'] },
  },
};
const SECRET_BLOB = Buffer.from('alice private layer');
const SECRET_DIGEST = `sha256:${createHash('sha256').update(SECRET_BLOB).digest('hex')}`;
/** What chromium sends for a text/plain form with one field a=b (HTML's text/plain encoding). */
const FORM_BODY = 'a=b\r\n';
const FORM_DIGEST = `sha256:${createHash('sha256').update(FORM_BODY).digest('hex')}`;

/** The attacker's site: a page per attempt. */
function attackerPages(registry: string): Record<string, string> {
  const form = (action: string) =>
    `<!doctype html><form id="f" method="POST" enctype="text/plain" action="${registry}${action}"><input name="a" value="b"></form><script>document.getElementById('f').submit()</script>`;
  return {
    '/upload': form(`/v2/victim/planted/blobs/uploads/?digest=${FORM_DIGEST}`),
    '/mount': form(`/v2/public/leak/blobs/uploads/?mount=${SECRET_DIGEST}&from=victim/app`),
    '/start-upload': form('/v2/victim/app/blobs/uploads/'),
    '/fetch': `<!doctype html><script>
      (async () => {
        const out = {};
        try { const r = await fetch('${registry}/v2/victim/fetched/blobs/uploads/?digest=${FORM_DIGEST}', { method: 'POST', mode: 'no-cors', credentials: 'include', body: ${JSON.stringify(FORM_BODY)} }); out.post = r.type; } catch (e) { out.post = 'error'; }
        try { const r = await fetch('${registry}/_ui/api/repositories', { credentials: 'include' }); out.read = await r.text(); } catch (e) { out.read = 'error'; }
        window.__out = out;
      })();
    </script>`,
    '/links': `<!doctype html>
      <a id="login" href="http://${MALLORY.username}:${MALLORY.password}@${registry.slice('http://'.length)}/_ui/login">sign in</a>
      <a id="data" href="http://${MALLORY.username}:${MALLORY.password}@${registry.slice('http://'.length)}/_ui/api/repositories">data</a>
      <a id="plain" href="${registry}/_ui/login">sign in to the registry</a>`,
  };
}

async function attackerSite(pages: () => Record<string, string>): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const page = pages()[req.url ?? ''];
    res.writeHead(page ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page ?? 'not here');
  });
  server.listen(0, '127.0.0.2');
  await once(server, 'listening');
  return { server, origin: `http://127.0.0.2:${(server.address() as AddressInfo).port}` };
}

/** Requests the registry logged since `mark`: method, path, status and user. */
function requestsSince(registry: RunningRegistry, mark: number): Array<{ method: string; path: string; status: number; user: string | null }> {
  return registry.logs
    .slice(mark)
    .filter((l) => l.includes('"message":"request"'))
    .map((l) => JSON.parse(l));
}

/** A browser with no stored login dismisses the login dialog (headless chromium has none to show). */
async function cancelLoginDialogs(context: BrowserContext, page: Page): Promise<string[]> {
  const asked: string[] = [];
  const cdp = await context.newCDPSession(page);
  cdp.on('Fetch.requestPaused', (e) => void cdp.send('Fetch.continueRequest', { requestId: e.requestId }).catch(() => {}));
  cdp.on('Fetch.authRequired', (e) => {
    asked.push(e.request.url);
    void cdp.send('Fetch.continueWithAuth', { requestId: e.requestId, authChallengeResponse: { response: 'CancelAuth' } }).catch(() => {});
  });
  await cdp.send('Fetch.enable', { handleAuthRequests: true });
  return asked;
}

describe('the UI sign-in driven from another site, in chromium', () => {
  let registry: RunningRegistry;
  let attacker: Awaited<ReturnType<typeof attackerSite>>;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (scripts/install-tools.sh apt)`);
    ({ registry } = await startSecured({ users: { [ALICE.username]: ALICE.password, [MALLORY.username]: MALLORY.password }, ui: true, http: { accessControl: ACCESS } }));
    await pushBlob(registry.url, 'victim/app', SECRET_BLOB, ALICE);
    attacker = await attackerSite(() => attackerPages(registry.url));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await registry?.stop();
    attacker?.server.close();
  });

  describe('a visitor signed in as alice', () => {
    let context: BrowserContext;
    let page: Page;
    beforeAll(async () => {
      // The browser answers the registry's challenges with alice's login, as one that signed in does.
      context = await browser.newContext({ httpCredentials: { username: ALICE.username, password: ALICE.password, origin: registry.url } });
      page = await context.newPage();
    });
    afterAll(() => context?.close());

    it('control: on the registry\'s own page the UI shows alice\'s repositories', async () => {
      await page.goto(`${registry.url}/`);
      await page.locator('main[data-ready="repositories"]').waitFor();
      await expect(page.locator('#viewer').innerText()).resolves.toContain('Signed in as alice');
      await expect(page.locator('a.repo-link').allInnerTexts()).resolves.toEqual(['victim/app']);
    });

    it.each([
      ['/upload', 'a form POST that uploads a blob', `/v2/victim/planted/blobs/uploads/`],
      ['/mount', "a form POST that mounts alice's private blob into a readable repository", '/v2/public/leak/blobs/uploads/'],
      ['/start-upload', 'a form POST that starts an upload session', '/v2/victim/app/blobs/uploads/'],
    ])('%s: %s is refused with 403, without a challenge', async (path, _what, target) => {
      const mark = registry.logs.length;
      const landed = page.waitForURL(`${registry.url}${target}**`);
      await page.goto(`${attacker.origin}${path}`);
      await landed;
      await expect(page.locator('body').innerText()).resolves.toContain('another site');
      const posts = requestsSince(registry, mark).filter((r) => r.method === 'POST');
      expect(posts.length).toBeGreaterThanOrEqual(1);
      for (const post of posts) expect(post).toMatchObject({ path: target, status: 403, user: null });
    });

    it('a no-cors fetch POST changes nothing, and a credentialed fetch reads nothing', async () => {
      const mark = registry.logs.length;
      await page.goto(`${attacker.origin}/fetch`);
      // Browser-side code as strings: this project's TypeScript has no DOM types.
      await page.waitForFunction('window.__out !== undefined');
      const out = (await page.evaluate('window.__out')) as { post: string; read: string };
      expect(out.read).toBe('error'); // no CORS: the answer is not readable, whatever it is
      const seen = requestsSince(registry, mark);
      expect(seen.map((r) => [r.method, r.status, r.user])).toEqual(expect.arrayContaining([['POST', 403, null]]));
      expect(seen.every((r) => r.user === null && r.status === 403)).toBe(true);
    });

    it('afterwards nothing was created or linked, and alice is still signed in on the registry\'s page', async () => {
      const asAlice = basic(ALICE.username, ALICE.password);
      for (const repo of ['victim/planted', 'victim/fetched']) expect((await call(`${registry.url}/v2/${repo}/blobs/${FORM_DIGEST}`, { method: 'HEAD', headers: asAlice })).status, repo).toBe(404);
      expect((await call(`${registry.url}/v2/public/leak/blobs/${SECRET_DIGEST}`, { method: 'HEAD', headers: asAlice })).status).toBe(404);
      expect((await call(`${registry.url}/v2/_catalog`, { headers: asAlice })).json().repositories).toEqual(['victim/app']);
      await page.goto(`${registry.url}/`);
      await page.locator('main[data-ready="repositories"]').waitFor();
      await expect(page.locator('#viewer').innerText()).resolves.toContain('Signed in as alice');
    });
  });

  describe('a visitor who has not signed in', () => {
    it("control: mallory's own address with user:pass@, typed by hand, does sign the browser in", async () => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(`http://${MALLORY.username}:${MALLORY.password}@${registry.host}/_ui/login`);
        // (The page it lands on still has user:pass@ in its address, where fetch refuses to run; open it plainly.)
        await page.goto(`${registry.url}/`);
        await page.locator('main[data-ready="repositories"]').waitFor();
        await expect(page.locator('#viewer').innerText()).resolves.toContain('Signed in as mallory');
      } finally {
        await context.close();
      }
    });

    it.each([
      ['#login', '/_ui/login'],
      ['#data', '/_ui/api/repositories'],
    ])('a link on another site with mallory:pass@ (%s) neither challenges nor signs the browser in', async (link, path) => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const asked = await cancelLoginDialogs(context, page);
        const mark = registry.logs.length;
        await page.goto(`${attacker.origin}/links`);
        const answer = page.waitForResponse((r) => new URL(r.url()).host === registry.host && new URL(r.url()).pathname === path);
        await page.locator(link).click();
        const response = await answer;
        expect(response.status()).toBe(403);
        expect(response.headers()['www-authenticate']).toBeUndefined();
        expect(asked).toEqual([]); // no login dialog was opened

        // Then the visitor opens the registry: not signed in as anyone.
        await page.goto(`${registry.url}/`);
        await page.locator('main[data-ready="problem"]').waitFor();
        await expect(page.locator('#login-needed h1').innerText()).resolves.toBe('Sign in to browse this registry');
        expect(requestsSince(registry, mark).filter((r) => r.user !== null)).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it('the notice a cross-site link gets leads to a sign-in that works from the registry\'s own page', async () => {
      const context = await browser.newContext({ httpCredentials: { username: ALICE.username, password: ALICE.password, origin: registry.url } });
      try {
        const page = await context.newPage();
        await page.goto(`${attacker.origin}/links`);
        await page.locator('#plain').click();
        await page.locator('h1', { hasText: "Sign in from the registry's own page" }).waitFor();
        await page.locator('a.button', { hasText: 'Sign in' }).click();
        await page.locator('main[data-ready="repositories"]').waitFor();
        await expect(page.locator('#viewer').innerText()).resolves.toContain('Signed in as alice');
      } finally {
        await context.close();
      }
    });
  });
});

describe('the rule, request by request (what browsers and registry clients send)', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    ({ registry } = await startSecured({ users: { [ALICE.username]: ALICE.password }, ui: true, tokenKey: `${'k'.repeat(40)}\n`, http: { accessControl: ACCESS } }));
  });
  afterAll(() => registry?.stop());

  const asAlice = () => basic(ALICE.username, ALICE.password);
  const own = () => registry.url;

  it.each([
    ['Sec-Fetch-Site: cross-site', () => ({ 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate', Origin: 'http://127.0.0.2:1' })],
    ['Sec-Fetch-Site: same-site (a sibling host)', () => ({ 'Sec-Fetch-Site': 'same-site', 'Sec-Fetch-Mode': 'cors' })],
    ['another Origin, no Fetch Metadata (an older browser)', () => ({ Origin: 'http://127.0.0.2:1' })],
    ['Origin: null (a sandboxed frame, a data: page)', () => ({ Origin: 'null' })],
  ])('a write with alice\'s login and %s: 403 DENIED, no challenge, nothing started', async (_what, headers) => {
    const reply = await call(`${registry.url}/v2/victim/rule/blobs/uploads/`, { method: 'POST', headers: { ...asAlice(), ...headers() } });
    expect(reply.status).toBe(403);
    expect(reply.json().errors[0]).toMatchObject({ code: 'DENIED', message: expect.stringContaining('another site') });
    expect(reply.headers['www-authenticate']).toBeUndefined();
  });

  it.each([
    ['no browser headers (docker, helm, crane, skopeo, oras)', () => ({})],
    ['Sec-Fetch-Site: same-origin', () => ({ 'Sec-Fetch-Site': 'same-origin', Origin: own() })],
    ['Sec-Fetch-Site: none (typed or bookmarked)', () => ({ 'Sec-Fetch-Site': 'none' })],
    ['its own Origin, no Fetch Metadata', () => ({ Origin: own() })],
  ])('a write with alice\'s login and %s: accepted (202)', async (_what, headers) => {
    const reply = await call(`${registry.url}/v2/victim/rule/blobs/uploads/`, { method: 'POST', headers: { ...asAlice(), ...headers() } });
    expect(reply.status, reply.body).toBe(202);
  });

  it('a cross-site request without credentials gets 403 instead of a challenge; a same-origin one gets the challenge', async () => {
    const cross = await call(`${registry.url}/_ui/api/repositories`, { headers: { 'Sec-Fetch-Site': 'cross-site' } });
    expect(cross.status).toBe(403);
    expect(cross.headers['www-authenticate']).toBeUndefined();
    const same = await call(`${registry.url}/_ui/api/repositories`, { headers: { 'Sec-Fetch-Site': 'same-origin' } });
    expect(same.status).toBe(401);
    expect(same.headers['www-authenticate']).toBe('Basic realm="perch"');
  });

  it('/_ui/login from another site: a notice with a same-origin link, no challenge; from the registry itself: the challenge', async () => {
    const cross = await call(`${registry.url}/_ui/login`, { headers: { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate', ...asAlice() } });
    expect(cross.status).toBe(403);
    expect(cross.headers['www-authenticate']).toBeUndefined();
    expect(cross.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(cross.body).toContain('<a class="button" href="/_ui/login">Sign in</a>');
    const same = await call(`${registry.url}/_ui/login`, { headers: { 'Sec-Fetch-Site': 'same-origin', 'Sec-Fetch-Mode': 'navigate' } });
    expect(same.status).toBe(401);
    expect(same.headers['www-authenticate']).toBe('Basic realm="perch"');
    const signedIn = await call(`${registry.url}/_ui/login`, { headers: { 'Sec-Fetch-Site': 'same-origin', ...asAlice() } });
    expect(signedIn.status).toBe(303);
  });

  it('the token service gives another site no token, with or without a login', async () => {
    for (const headers of [asAlice(), {}]) {
      const reply = await call(`${registry.url}/v2/token?scope=repository:victim/app:pull`, { headers: { ...headers, 'Sec-Fetch-Site': 'cross-site' } });
      expect(reply.status).toBe(403);
      expect(reply.body).not.toContain('token"');
    }
    expect((await call(`${registry.url}/v2/token?scope=repository:victim/app:pull`, { headers: asAlice() })).status).toBe(200);
  });
});
