/**
 * Markup in pushed content shows as text in the browse UI and runs nothing, in Debian's
 * chromium (driven by playwright-core, as test/ui/browser.test.ts drives it).
 *
 * OCI's grammar keeps markup out of repository names and tags (a push of one is refused, checked
 * here; so is an address of the page that holds markup), so the payloads go where a
 * pusher may write any string the UI shows: manifest, layer and index annotations (keys and
 * values), a layer's title, artifactType, config and layer media types, an index child's
 * platform, an image config's platform and creation time, a referrer's artifactType and
 * creation time, and every field of a Helm chart's metadata (description, home, keywords,
 * maintainers, dependencies). Each payload tries something else: inline script, event
 * handlers, `javascript:` URLs, and elements that would fetch from another origin
 * (http://127.0.0.2:PORT/, where a listener records any request). Names and tags that are
 * valid but odd (`constructor`, `__proto__`, a name holding `manifests/tags/list`) go too.
 *
 * Checked on every page: the payloads appear literally as text, no element was made from them,
 * no dialog opened, no marker the payloads set is present, no console error or CSP violation
 * happened, no request left for any origin but the registry's, and the listener heard nothing.
 */
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRegistry } from '../helpers/registry';
import { pushBlob, pushManifest, type Login } from '../ui/fixtures';
import { CHROMIUM, LAUNCH_ARGS, startSecured } from './harness';

const USER: Login = { username: 'alice', password: 'alice-Passw0rd-1' };
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const HELM_CONFIG = 'application/vnd.cncf.helm.config.v1+json';

/** Every payload, given the address of the listener that must never hear from the page. */
function payloads(beacon: (path: string) => string): string[] {
  return [
    `<img src=x onerror="window.__pwned='img-onerror';alert('img')">`,
    `<script>window.__pwned='script';alert('script')</script>`,
    `javascript:window.__pwned='javascript-url';alert('js')`,
    `<img src="${beacon('img')}">`,
    `<a id="planted-link" href="${beacon('link')}">click</a>`,
    `<link rel="stylesheet" href="${beacon('css')}">`,
    `<iframe src="${beacon('frame')}"></iframe>`,
    `"><svg onload="window.__pwned='svg'"></svg>`,
    `'><style>@import url('${beacon('import')}');</style>`,
    `<meta http-equiv="refresh" content="0;url=${beacon('refresh')}">`,
    `<base href="${beacon('base')}/">`,
    `{{constructor.constructor('window.__pwned="template"')()}}`,
    `</dd></dl><form action="${beacon('form')}"><button autofocus onfocus="window.__pwned='focus'">x</button></form>`,
    `<object data="${beacon('object')}"></object><video src="${beacon('video')}" onerror="window.__pwned='video'"></video>`,
  ];
}

async function listen(): Promise<{ server: Server; port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Access-Control-Allow-Origin': '*' });
    res.end('window.__pwned = "beacon"');
  });
  server.listen(0, '127.0.0.2');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, hits };
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('markup in pushed content, in the browse UI in chromium', () => {
  let registry: RunningRegistry;
  let beacon: Awaited<ReturnType<typeof listen>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let marks: string[];
  const dialogs: string[] = [];
  const problems: string[] = [];
  const foreignRequests: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (scripts/install-tools.sh apt)`);
    beacon = await listen();
    marks = payloads((path) => `http://127.0.0.2:${beacon.port}/${path}`);
    ({ registry } = await startSecured({ users: { [USER.username]: USER.password }, ui: true }));
    await pushEverything();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    context = await browser.newContext({ httpCredentials: { username: USER.username, password: USER.password, origin: registry.url } });
    // Before any page script: note CSP violations (markup that became an element would cause them).
    // Browser-side code is given as strings here: this project's TypeScript has no DOM types.
    await context.addInitScript(`
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
    `);
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      void d.dismiss();
    });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => {
      if (new URL(r.url()).origin !== registry.url) foreignRequests.push(r.url());
    });
  });
  afterAll(async () => {
    await browser?.close();
    await registry?.stop();
    beacon?.server.close();
  });

  async function pushEverything(): Promise<void> {
    const url = registry.url;
    const annotations = (prefix: string) => Object.fromEntries(marks.map((m, i) => [`${prefix}.${i}`, m]));
    // An image whose annotations, layer title, media types, config platform and creation time carry markup.
    const imageConfig = await pushBlob(url, 'xss/image', json({ os: marks[0], architecture: marks[1], variant: marks[7], created: marks[2], rootfs: { type: 'layers', diff_ids: [] } }), USER);
    const layer = await pushBlob(url, 'xss/image', Buffer.from('layer bytes'), USER);
    const image = await pushManifest(
      url,
      'xss/image',
      'v1',
      {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...imageConfig },
        layers: [{ mediaType: marks[4], ...layer, annotations: { 'org.opencontainers.image.title': marks[3] } }],
        annotations: { ...annotations('org.example.value'), [marks[0]]: 'a key with markup', [marks[12]]: marks[13] },
      },
      OCI_MANIFEST,
      USER,
    );
    // An artifact with a markup artifactType and config media type, and a referrer of the image.
    const empty = await pushBlob(url, 'xss/image', Buffer.from('{}'), USER);
    const artifactConfig = await pushBlob(url, 'xss/image', Buffer.from('{"a":1}'), USER);
    await pushManifest(
      url,
      'xss/image',
      'artifact',
      { schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: marks[5], config: { mediaType: marks[6], ...artifactConfig }, layers: [{ mediaType: marks[9], ...layer }] },
      OCI_MANIFEST,
      USER,
    );
    const referrer = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: marks[8],
      config: { mediaType: 'application/vnd.oci.empty.v1+json', ...empty },
      layers: [{ mediaType: 'application/json', ...empty }],
      subject: { mediaType: OCI_MANIFEST, ...image },
      annotations: { 'org.opencontainers.image.created': marks[1], [marks[10]]: marks[11] },
    };
    await pushManifest(url, 'xss/image', `sha256:${(await import('node:crypto')).createHash('sha256').update(JSON.stringify(referrer)).digest('hex')}`, referrer, OCI_MANIFEST, USER);
    // An index whose child's platform and artifactType carry markup.
    await pushManifest(
      url,
      'xss/image',
      'index',
      {
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ mediaType: OCI_MANIFEST, ...image, platform: { os: marks[11], architecture: marks[12], variant: marks[13] }, artifactType: marks[2] }],
        annotations: annotations('org.example.index'),
      },
      OCI_INDEX,
      USER,
    );
    // A Helm chart whose Chart.yaml metadata is all markup (two tags: home as javascript: and as another origin).
    for (const [tag, home] of [
      ['js-home', marks[2]],
      ['beacon-home', `http://127.0.0.2:${beacon.port}/home`],
    ] as const) {
      const chartConfig = await pushBlob(
        url,
        'xss/chart',
        json({
          name: marks[1],
          version: '1.0.0',
          apiVersion: 'v2',
          appVersion: marks[0],
          description: marks[12],
          type: marks[7],
          kubeVersion: marks[9],
          home,
          keywords: [marks[3], marks[4]],
          sources: [marks[2]],
          maintainers: [{ name: marks[5], email: marks[6], url: marks[2] }],
          dependencies: [{ name: marks[8], version: marks[10], repository: marks[2], condition: marks[11], alias: marks[13] }],
        }),
        USER,
      );
      const content = await pushBlob(url, 'xss/chart', Buffer.from(`chart ${tag}`), USER);
      await pushManifest(
        url,
        'xss/chart',
        tag,
        {
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: HELM_CONFIG, ...chartConfig },
          layers: [{ mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', ...content }],
          annotations: { 'org.opencontainers.image.description': marks[12] },
        },
        OCI_MANIFEST,
        USER,
      );
    }
    // Valid but odd names and tags.
    for (const [repo, tag] of ODD) {
      const config = await pushBlob(url, repo, json({ os: 'linux', architecture: 'amd64' }), USER);
      await pushManifest(url, repo, tag, { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [] }, OCI_MANIFEST, USER);
    }
  }

  const ODD: Array<[string, string]> = [
    ['constructor', '__proto__'],
    ['constructor/prototype', 'constructor'],
    ['javascript', 'alert'],
    ['odd/manifests/tags/list', 'toString'],
    ['a--b/c__d.e', '_'],
  ];

  async function open(hash: string, view: 'repositories' | 'repository' | 'manifest'): Promise<void> {
    await page.goto(`${registry.url}/#/${hash}`);
    await page.locator(`main[data-ready="${view}"], main[data-ready="problem"]`).waitFor({ timeout: 10_000 });
    expect(await page.locator('main').getAttribute('data-ready'), `${hash}: ${await page.locator('main').innerText()}`).toBe(view);
  }

  /** Nothing in the page was made from a payload, and nothing ran. */
  async function expectInert(where: string): Promise<void> {
    const state = await page.evaluate(`({
      pwned: window.__pwned ?? null,
      violations: window.__violations,
      planted: document.querySelectorAll('main img, main script, main iframe, main svg, main link, main style, main form, main meta, main base, main object, main video, #planted-link').length,
      scriptLinks: [...document.querySelectorAll('a')].map((a) => a.getAttribute('href') ?? '').filter((h) => /^\\s*javascript:/i.test(h)),
    })`);
    expect(state, where).toEqual({ pwned: null, violations: [], planted: 0, scriptLinks: [] });
  }

  /** The text of the page holds every given payload literally. */
  async function expectLiteral(where: string, shown: string[]): Promise<void> {
    const text = await page.locator('main').textContent();
    for (const mark of shown) expect(text, `${where}: ${mark}`).toContain(mark);
  }

  it('the repository list shows every name, the odd ones too', async () => {
    await open('', 'repositories');
    expect((await page.locator('a.repo-link').allInnerTexts()).sort()).toEqual([...ODD.map(([r]) => r), 'xss/chart', 'xss/image'].sort());
    await expectInert('repositories');
  });

  it('an image: annotations (keys and values), layer title and media type, config platform and a creation time that is markup', async () => {
    await open('xss/image:v1', 'manifest');
    await expectLiteral('image', marks);
    // Each annotation is one row whose key and value are exactly what was pushed; so is the creation time.
    const facts = (await page.evaluate(`Object.fromEntries([...document.querySelectorAll('dl.facts dt')].map((dt) => [dt.textContent, dt.nextElementSibling?.textContent]))`)) as Record<string, string>;
    for (const [i, mark] of marks.entries()) expect(facts[`org.example.value.${i}`], `annotation ${i}`).toBe(mark);
    expect(facts[marks[0]]).toBe('a key with markup');
    expect(facts[marks[12]]).toBe(marks[13]);
    expect(facts.Created).toBe(marks[2]);
    await expectInert('image');
  });

  it('an artifact: artifactType and config and layer media types', async () => {
    await open('xss/image:artifact', 'manifest');
    await expectLiteral('artifact', [marks[5], marks[6], marks[9]]);
    await expectInert('artifact');
  });

  it('an index: a child platform and artifactType, annotations', async () => {
    await open('xss/image:index', 'manifest');
    await expectLiteral('index', marks);
    await expectInert('index');
  });

  it('a referrer, seen from its subject and on its own page', async () => {
    await open('xss/image:v1', 'manifest');
    await expectLiteral('referrers table', [marks[8]]);
    await page.locator('tr.referrer a').first().click();
    await page.locator('main[data-ready="manifest"]').waitFor();
    await expectLiteral('referrer', [marks[8], marks[1], marks[10], marks[11]]);
    await expectInert('referrer');
  });

  it('a Helm chart: every metadata field; a javascript: home is text, not a link', async () => {
    await open('xss/chart:js-home', 'manifest');
    await expectLiteral('chart', [marks[0], marks[1], marks[2], marks[3], marks[4], marks[5], marks[7], marks[8], marks[9], marks[10], marks[11], marks[12], marks[13]]);
    await expect(page.locator('#chart-description').textContent()).resolves.toBe(marks[12]);
    await expectInert('chart');
  });

  it('a Helm chart whose home is on another origin: a plain link that nothing follows by itself', async () => {
    await open('xss/chart:beacon-home', 'manifest');
    const home = page.locator(`a[href="http://127.0.0.2:${beacon.port}/home"]`);
    await expect(home.count()).resolves.toBe(1);
    await expect(home.getAttribute('rel')).resolves.toBe('noopener noreferrer');
    await expectInert('chart with an http home');
  });

  it.each(ODD)('odd but valid: %s:%s lists and opens', async (repo, tag) => {
    await open(repo, 'repository');
    await expect(page.locator('a.tag-link').allInnerTexts()).resolves.toEqual([tag]);
    await page.locator('a.tag-link').click();
    await page.locator('main[data-ready="manifest"], main[data-ready="problem"]').waitFor();
    expect(await page.locator('main').getAttribute('data-ready'), await page.locator('main').innerText()).toBe('manifest');
    await expect(page.locator('h1').innerText()).resolves.toContain(`${repo}:${tag}`);
    await expectInert(`${repo}:${tag}`);
  });

  it('a name or tag with markup is refused by the API, so it never reaches the page', async () => {
    const auth = { Authorization: `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString('base64')}` };
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: `sha256:${'0'.repeat(64)}`, size: 2 }, layers: [] });
    for (const [name, ref] of [
      [encodeURIComponent('<img src=x onerror=alert(1)>'), 'v1'],
      ['xss/image', encodeURIComponent('<script>alert(1)</script>')],
      ['xss/image', encodeURIComponent('"onmouseover="alert(1)')],
    ]) {
      const res = await fetch(`${registry.url}/v2/${name}/manifests/${ref}`, { method: 'PUT', body, headers: { ...auth, 'Content-Type': OCI_MANIFEST } });
      expect(res.status, `${name}:${ref}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${name}:${ref}`).toBeLessThan(500);
    }
    const catalog = (await (await fetch(`${registry.url}/v2/_catalog`, { headers: auth })).json()) as { repositories: string[] };
    expect(catalog.repositories.filter((r) => /[<>"]/.test(r))).toEqual([]);
    const tags = (await (await fetch(`${registry.url}/v2/xss/image/tags/list`, { headers: auth })).json()) as { tags: string[] };
    expect(tags.tags.filter((t) => /[<>"]/.test(t))).toEqual([]);
  });

  it('a link to the page whose address holds markup shows it as text in the problem it reports', async () => {
    const hash = '<img src=x onerror="window.__pwned=\'hash\'">:<script>alert(1)</script>';
    const before = problems.length;
    await page.goto(`${registry.url}/#/${encodeURIComponent(hash)}`);
    await page.locator('main[data-ready="problem"]').waitFor();
    await expectLiteral('a markup address', ['<img src=x onerror="window.__pwned=\'hash\'">']);
    await expectInert('a markup address');
    // The registry's refusal of that name is logged by chromium as a failed load: expected here.
    const added = problems.splice(before);
    expect(added.every((p) => /^console error: Failed to load resource: the server responded with a status of 4\d\d/.test(p)), added.join('\n')).toBe(true);
  });

  it('in all of that: no dialog, no console error, no request to another origin, nothing heard by the listener', async () => {
    await page.waitForTimeout(300); // anything a payload scheduled would have fired by now
    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
    expect(foreignRequests).toEqual([]);
    expect(beacon.hits).toEqual([]);
  });
});
