/**
 * The browse UI in a real browser (Debian's chromium, driven by playwright-core) against the
 * bundled server (`npm run build` first) with htpasswd auth and the UI on, filled by
 * `perch seed` and an image index with a referrer pushed over the API.
 *
 * Screenshots are kept in test/artifacts/ui/ for people to look at.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { chartSourceDir, defaultChartsDir, SEED_CHARTS, SEED_NAMESPACE } from '../../registry-image/src/seed';
import { PERCH_BUNDLE, REPO_ROOT, startRegistry, type RunningRegistry } from '../helpers/registry';
import { tempDir } from '../helpers/temp-dir';
import { pushPlatformIndex, pushReferrer, SBOM_TYPE, type Login, type PushedIndex } from './fixtures';

const USER: Login = { username: 'roost-test', password: 'browse-ui-pass' };
const SHOTS = join(REPO_ROOT, 'test/artifacts/ui');
const IMAGE_REPO = 'apps/hello';
const SEEDED_REPOS = [...new Set(SEED_CHARTS.map((c) => `${SEED_NAMESPACE}/${c.name}`))];
const ALL_REPOS = [...SEEDED_REPOS, IMAGE_REPO].sort();

const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Console errors and uncaught exceptions of a page, for the "no errors" checks. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}

async function seed(url: string): Promise<void> {
  const child = spawn(process.execPath, [PERCH_BUNDLE, 'seed', '--registry', url, '--username', USER.username, '--password-stdin'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  child.stdin.end(USER.password + '\n');
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`perch seed exited with ${code}:\n${output}`);
}

async function startUiRegistry(extra: Record<string, unknown> = {}): Promise<RunningRegistry> {
  const dir = tempDir('perch-ui-browser-');
  const htpasswd = join(dir, 'htpasswd');
  writeFileSync(htpasswd, `${USER.username}:${bcrypt.hashSync(USER.password, 10)}\n`);
  return startRegistry({
    config: {
      http: { auth: { htpasswd: { path: htpasswd } } },
      extensions: { ui: { enable: true } },
      perch: { auth: { tokenKeyFile: join(dir, 'token.key'), ...extra } },
    },
  });
}

/** Waits until the script has rendered `view` (main[data-ready]); fails fast on a problem page. */
async function ready(page: Page, view: string): Promise<void> {
  await page.locator(`main[data-ready="${view}"], main[data-ready="problem"]`).waitFor();
  const shown = await page.locator('main').getAttribute('data-ready');
  if (shown !== view) throw new Error(`expected the ${view} view, the page shows: ${await page.locator('main').innerText()}`);
}

describe('browse UI in chromium', () => {
  let registry: RunningRegistry;
  let browser: Browser;
  let index: PushedIndex;
  let referrer: { digest: string };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    registry = await startUiRegistry();
    await seed(registry.url);
    index = await pushPlatformIndex(registry.url, IMAGE_REPO, 'v1', USER);
    referrer = await pushReferrer(registry.url, IMAGE_REPO, index, USER);
    // chromium.launch starts from a fresh temporary profile each time.
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: LAUNCH_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await registry?.stop();
  });

  describe('signed in (the browser answers the Basic challenge)', () => {
    let context: BrowserContext;
    let page: Page;
    let errors: string[];

    beforeAll(async () => {
      context = await browser.newContext({ httpCredentials: { username: USER.username, password: USER.password }, viewport: { width: 1280, height: 860 } });
      page = await context.newPage();
      errors = watchErrors(page);
    });
    afterAll(() => context?.close());

    it('lists the seeded repositories with their tag counts, and who is signed in', async () => {
      await page.goto(registry.url + '/');
      await ready(page, 'repositories');
      expect(await page.locator('a.repo-link').allInnerTexts()).toEqual(ALL_REPOS);
      const nginxTags = SEED_CHARTS.filter((c) => c.name === 'nginx-test').length;
      await expect(page.locator('tr[data-name="roost-test/nginx-test"] td.num').innerText()).resolves.toBe(String(nginxTags));
      await expect(page.locator('#viewer').innerText()).resolves.toContain(`Signed in as ${USER.username}`);
      await page.screenshot({ path: join(SHOTS, 'repositories.png'), fullPage: true });
    });

    it('the filter narrows the list, and says when nothing matches', async () => {
      await page.locator('#filter').fill('redis');
      await expect(page.locator('a.repo-link:visible').allInnerTexts()).resolves.toEqual([`${SEED_NAMESPACE}/redis-test`]);
      await expect(page.locator('#repo-count').innerText()).resolves.toBe(`1 of ${ALL_REPOS.length}`);
      await page.screenshot({ path: join(SHOTS, 'filter.png'), fullPage: true });
      await page.locator('#filter').fill('test nginx');
      await expect(page.locator('a.repo-link:visible').allInnerTexts()).resolves.toEqual([`${SEED_NAMESPACE}/nginx-test`]);
      await page.locator('#filter').fill('no-such-repository');
      await expect(page.locator('a.repo-link:visible').count()).resolves.toBe(0);
      await expect(page.locator('tr.empty:visible').innerText()).resolves.toContain('No repository matches "no-such-repository"');
      await page.locator('#filter').fill('');
      await expect(page.locator('a.repo-link:visible').count()).resolves.toBe(ALL_REPOS.length);
    });

    it('a chart repository lists its tags with sizes, push dates and the helm pull command', async () => {
      await page.locator('a.repo-link', { hasText: `${SEED_NAMESPACE}/nginx-test` }).click();
      await ready(page, 'repository');
      const versions = SEED_CHARTS.filter((c) => c.name === 'nginx-test').map((c) => c.version);
      expect((await page.locator('a.tag-link').allInnerTexts()).sort()).toEqual(versions.sort());
      for (const version of versions) {
        const row = page.locator(`tr[data-tag="${version}"]`);
        await expect(row.locator('.badge').innerText()).resolves.toBe('Helm chart');
        await expect(row.locator('td.num').innerText()).resolves.toMatch(/^\d+(\.\d+)? (KiB|B)$/);
        await expect(row.locator('time').getAttribute('datetime')).resolves.toMatch(/^\d{4}-\d\d-\d\dT/);
        await expect(row.locator('button.copy').getAttribute('title')).resolves.toBe(`Copy: helm pull oci://${registry.host}/${SEED_NAMESPACE}/nginx-test --version ${version} --plain-http`);
      }
      await page.screenshot({ path: join(SHOTS, 'chart-tags.png'), fullPage: true });
    });

    it("multi-chart's page shows its Chart.yaml description and both dependencies", async () => {
      const multi = SEED_CHARTS.find((c) => c.name === 'multi-chart')!;
      const chartYaml = parseYaml(readFileSync(join(chartSourceDir(defaultChartsDir(join(REPO_ROOT, 'registry-image/src/seed')), multi), 'Chart.yaml'), 'utf8')) as {
        description: string;
        dependencies: Array<{ name: string; version: string }>;
      };
      await page.goto(`${registry.url}/#/${SEED_NAMESPACE}/multi-chart`);
      await ready(page, 'repository');
      await page.locator('a.tag-link', { hasText: multi.version }).click();
      await ready(page, 'manifest');
      await expect(page.locator('h1').innerText()).resolves.toContain(`${SEED_NAMESPACE}/multi-chart:${multi.version}`);
      await expect(page.locator('#chart-description').innerText()).resolves.toBe(chartYaml.description);
      expect(chartYaml.dependencies).toHaveLength(2);
      const rows = page.locator('tr.dependency');
      await expect(rows.count()).resolves.toBe(2);
      for (const [i, dep] of chartYaml.dependencies.entries()) {
        const cells = await rows.nth(i).locator('td').allInnerTexts();
        expect(cells.slice(0, 3)).toEqual([dep.name, dep.version, `oci://${registry.host}/${SEED_NAMESPACE}`]);
      }
      await expect(page.locator('#pull-command').innerText()).resolves.toBe(`helm pull oci://${registry.host}/${SEED_NAMESPACE}/multi-chart --version ${multi.version} --plain-http`);
      await expect(page.locator('tr.layer code').first().innerText()).resolves.toBe('application/vnd.cncf.helm.chart.content.v1.tar+gzip');
      await page.screenshot({ path: join(SHOTS, 'chart.png'), fullPage: true });
    });

    it('an image index page shows its platforms, their sizes and its referrers', async () => {
      await page.goto(`${registry.url}/#/${IMAGE_REPO}`);
      await ready(page, 'repository');
      await expect(page.locator('tr[data-tag="v1"] .chip').allInnerTexts()).resolves.toEqual(['linux/amd64', 'linux/arm64/v8']);
      await expect(page.locator('tr[data-tag="v1"] .badge').innerText()).resolves.toBe('Image index');
      await page.screenshot({ path: join(SHOTS, 'image-tags.png'), fullPage: true });
      await page.locator('a.tag-link', { hasText: 'v1' }).click();
      await ready(page, 'manifest');
      await expect(page.locator('h1 .badge').innerText()).resolves.toBe('Image index');
      await expect(page.locator('tr.platform .platform-name').allInnerTexts()).resolves.toEqual(['linux/amd64', 'linux/arm64/v8']);
      await expect(page.locator('tr.platform').nth(2).locator('td').first().innerText()).resolves.toBe('attestation');
      await expect(page.locator('tr.referrer code').first().innerText()).resolves.toBe(SBOM_TYPE);
      await expect(page.locator('#pull-command').innerText()).resolves.toBe(`docker pull ${registry.host}/${IMAGE_REPO}:v1`);
      await page.screenshot({ path: join(SHOTS, 'index.png'), fullPage: true });
      // A platform links to its own manifest: an image with its platform and layers.
      await page.locator('tr.platform').nth(1).locator('a').click();
      await ready(page, 'manifest');
      await expect(page.locator('h1 .badge').innerText()).resolves.toBe('Image');
      await expect(page.locator('dl.facts').first().innerText()).resolves.toContain('linux/arm64/v8');
      await expect(page.locator('tr.layer').count()).resolves.toBe(1);
      await page.screenshot({ path: join(SHOTS, 'image.png'), fullPage: true });
      // And the referrer names its subject.
      await page.goto(`${registry.url}/#/${IMAGE_REPO}@${referrer.digest}`);
      await ready(page, 'manifest');
      await expect(page.locator('dl.facts').first().innerText()).resolves.toContain(index.digest.slice(0, 19));
      // The same page in a dark desktop theme, for people to look at.
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.goto(`${registry.url}/#/${IMAGE_REPO}:v1`);
      await ready(page, 'manifest');
      await page.screenshot({ path: join(SHOTS, 'index-dark.png'), fullPage: true });
      await page.emulateMedia({ colorScheme: 'light' });
    });

    it('showed all of that without a console error or an uncaught exception', () => {
      expect(errors).toEqual([]);
    });
  });

  describe('anonymous (anonymous read is off)', () => {
    let context: BrowserContext;
    let page: Page;
    let errors: string[];
    /** The challenges the browser would have shown its login dialog for. */
    const dialogs: Array<{ scheme: string; url: string }> = [];

    beforeAll(async () => {
      context = await browser.newContext({ viewport: { width: 1280, height: 700 } });
      page = await context.newPage();
      errors = watchErrors(page);
      // A person without an account dismisses the browser's login dialog. Headless chromium
      // has no dialog to dismiss (the request would wait forever), so do it through the
      // DevTools protocol: every credential request is answered "cancel", none is sent.
      const cdp = await context.newCDPSession(page);
      cdp.on('Fetch.requestPaused', (e) => void cdp.send('Fetch.continueRequest', { requestId: e.requestId }).catch(() => {}));
      cdp.on('Fetch.authRequired', (e) => {
        dialogs.push({ scheme: e.authChallenge.scheme, url: e.request.url });
        void cdp.send('Fetch.continueWithAuth', { requestId: e.requestId, authChallengeResponse: { response: 'CancelAuth' } }).catch(() => {});
      });
      await cdp.send('Fetch.enable', { handleAuthRequests: true });
    });
    afterAll(() => context?.close());

    it('sees a sign-in message and no repository names', async () => {
      await page.goto(registry.url + '/');
      await ready(page, 'problem');
      await expect(page.locator('#login-needed h1').innerText()).resolves.toBe('Sign in to browse this registry');
      await expect(page.locator('#login-needed a[href="/_ui/login"]').count()).resolves.toBe(1);
      const text = await page.locator('body').innerText();
      for (const name of [...ALL_REPOS, SEED_NAMESPACE, 'nginx', 'redis', 'hello']) expect(text).not.toContain(name);
      await page.screenshot({ path: join(SHOTS, 'anonymous.png'), fullPage: true });
      // A direct link shows no more than the list does.
      await page.goto(`${registry.url}/#/${SEED_NAMESPACE}/multi-chart:1.0.0`);
      await ready(page, 'problem');
      await expect(page.locator('#login-needed').count()).resolves.toBe(1);
      expect(await page.locator('body').innerText()).not.toContain('nginx-test');
    });

    it('gets 401 from every data endpoint', async () => {
      for (const path of ['/_ui/api/repositories', `/_ui/api/repositories/${SEED_NAMESPACE}/multi-chart/tags/list`, `/_ui/api/repositories/${IMAGE_REPO}/manifests/v1`]) {
        const res = await context.request.get(registry.url + path);
        expect(res.status(), path).toBe(401);
        expect(res.headers()['www-authenticate'], path).toMatch(/^Basic realm=/);
      }
    });

    it('was asked for credentials by the Basic challenge (the login dialog) and sent none', () => {
      expect(dialogs.length).toBeGreaterThan(0);
      for (const dialog of dialogs) {
        expect(dialog.scheme.toLowerCase()).toBe('basic');
        expect(new URL(dialog.url).pathname).toMatch(/^\/_ui\/api\//);
      }
    });

    it('logs nothing but the refused data requests', () => {
      const unexpected = errors.filter((e) => !/^console: Failed to load resource: the server responded with a status of 401 .*\/_ui\/api\//.test(e));
      expect(unexpected).toEqual([]);
      expect(errors.length).toBeGreaterThan(0); // the 401s themselves were seen
    });
  });

  describe('Bearer challenges (browsers cannot answer them)', () => {
    let bearer: RunningRegistry;
    afterAll(() => bearer?.stop());

    it('"Sign in" asks with Basic at /_ui/login; afterwards the data requests carry the credentials', async () => {
      bearer = await startUiRegistry({ challenge: 'bearer' });
      await pushPlatformIndex(bearer.url, IMAGE_REPO, 'v1', USER);
      const context = await browser.newContext({ httpCredentials: { username: USER.username, password: USER.password } });
      try {
        const page = await context.newPage();
        const errors = watchErrors(page);
        await page.goto(bearer.url + '/');
        await ready(page, 'problem'); // a Bearer challenge: no dialog, so the page offers "Sign in"
        await page.locator('#login-needed a.button').click();
        await page.waitForURL(bearer.url + '/');
        await ready(page, 'repositories');
        expect(await page.locator('a.repo-link').allInnerTexts()).toEqual([IMAGE_REPO]);
        await page.locator('a.repo-link').click();
        await ready(page, 'repository');
        expect(errors.filter((e) => !/status of 401 .*\/_ui\/api\/repositories\)/.test(e))).toEqual([]);
      } finally {
        await context.close();
      }
    });
  });
});
