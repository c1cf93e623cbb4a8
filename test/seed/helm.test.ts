/**
 * The seeded charts with real Helm 3 and Helm 4 against the bundled perch server: pull, show,
 * template and lint every chart; render multi-chart straight from the registry; check its
 * Chart.lock with `helm dependency build`; compare seed's manifests with `helm push`'s; a
 * chart Helm packaged itself (with build metadata); a second seed that uploads nothing;
 * crane and oras on a seeded chart; and what users see when the registry is down or a chart
 * is missing.
 */
import { freePort } from '../helpers/ports';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildArtifacts, CHART_TIME, chartId, HELM_CHART_MEDIA_TYPE, HELM_CONFIG_MEDIA_TYPE, SEED_CHARTS, type HelmArtifact } from '../../registry-image/src/seed';
import { startRegistryUnderTest, type RegistryUnderTest } from '../helpers/registry-under-test';
import { runCommand } from '../helpers/run-command';
import { HELMS, makeHelmHome, seedCli, startCountingProxy, type HelmHome, type HelmVersion } from './seed-helpers';

const CHARTS_DIR = resolve(__dirname, '../../registry-image/charts');

/** What `helm template rel CHART` renders for each chart: kind/name, sorted. */
const NGINX_100 = ['Deployment/rel-nginx-test', 'Pod/rel-nginx-test-test-connection', 'Service/rel-nginx-test'];
const NGINX_110 = ['ConfigMap/rel-nginx-test-page', ...NGINX_100];
const REDIS = ['Deployment/rel-redis-test', 'Service/rel-redis-test'];
const RENDERED: Record<string, string[]> = {
  'nginx-test@1.0.0': NGINX_100,
  'nginx-test@1.1.0': NGINX_110,
  'redis-test@1.0.0': REDIS,
  'multi-chart@1.0.0': ['ConfigMap/rel-multi-chart-endpoints', ...NGINX_110, ...REDIS],
};

interface K8sObject {
  kind: string;
  metadata: { name: string };
  spec?: { containers?: Array<{ image: string }>; template?: { spec?: { containers?: Array<{ image: string }> } } };
}

function objects(rendered: string): K8sObject[] {
  return parseAllDocuments(rendered)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}
const kindsAndNames = (rendered: string) => objects(rendered).map((o) => `${o.kind}/${o.metadata.name}`).sort();
/** Every container image: a Deployment's pod template's and a bare Pod's (the helm test hook). */
const images = (rendered: string) =>
  objects(rendered)
    .flatMap((o) => [...(o.spec?.template?.spec?.containers ?? []), ...(o.spec?.containers ?? [])].map((c) => c.image))
    .sort();


describe('seeded charts with helm 3 and helm 4', () => {
  let registry: RegistryUnderTest;
  let home: HelmHome;
  let artifacts: Map<string, HelmArtifact>;
  let firstSeed: { code: number; stdout: string; stderr: string };
  const oci = (chart: string) => `oci://${registry.host}/roost-test/${chart}`;

  beforeAll(async () => {
    // On the filesystem, or on the object store PERCH_TEST_STORAGE names (registry-under-test.ts).
    registry = await startRegistryUnderTest();
    home = makeHelmHome();
    artifacts = new Map(
      buildArtifacts(SEED_CHARTS, CHARTS_DIR, `oci://${registry.host}/roost-test`).map((a, i) => [chartId(SEED_CHARTS[i]), a]),
    );
    firstSeed = await seedCli(['--registry', registry.url, '--timeout', '20s']);
  });
  afterAll(async () => {
    await registry?.stop();
    home?.remove();
  });

  it('perch seed pushes the four charts, one line each, and says how to pull them', () => {
    expect(firstSeed.stderr).toBe('');
    expect(firstSeed.code).toBe(0);
    const lines = firstSeed.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`seeding 4 chart(s) to ${registry.url}`);
    for (const [i, chart] of SEED_CHARTS.entries()) {
      const a = artifacts.get(chartId(chart))!;
      expect(lines[i + 1]).toBe(`${registry.host}/roost-test/${chart.name}:${chart.version} pushed ${a.manifestDigest} (2 of 2 blobs uploaded)`);
    }
    expect(lines.slice(5)).toEqual([
      'done: 4 pushed, 0 already present',
      `try: helm pull oci://${registry.host}/roost-test/nginx-test --version 1.0.0 --plain-http`,
    ]);
  });

  it.each(HELMS)('%s pulls every chart byte for byte; show chart, show values, template and lint --strict accept it', async (helm) => {
    const dir = home.folder(`pull-${helm}`);
    for (const chart of SEED_CHARTS) {
      const id = chartId(chart);
      await home.helm(helm, ['pull', oci(chart.name), '--version', chart.version, '-d', dir, '--plain-http']);
      const tgz = join(dir, `${chart.name}-${chart.version}.tgz`);
      expect(readFileSync(tgz).equals(artifacts.get(id)!.layer.data), id).toBe(true);

      const shown = parse((await home.helm(helm, ['show', 'chart', tgz])).stdout) as Record<string, unknown>;
      expect(shown, id).toMatchObject({ apiVersion: 'v2', name: chart.name, version: chart.version });
      const values = (await home.helm(helm, ['show', 'values', tgz])).stdout;
      expect(values.trimEnd(), id).toBe(readFileSync(join(CHARTS_DIR, chart.name, chart.version, 'values.yaml'), 'utf8').trimEnd());

      const rendered = (await home.helm(helm, ['template', 'rel', tgz])).stdout;
      expect(kindsAndNames(rendered), id).toEqual([...RENDERED[id]].sort());
      const lint = await home.helm(helm, ['lint', '--strict', tgz]);
      expect(lint.stdout, id).toContain('1 chart(s) linted, 0 chart(s) failed');
    }
  });

  it.each(HELMS)('%s: the two nginx-test versions differ in the image they run and in the objects they render', async (helm) => {
    const v100 = (await home.helm(helm, ['template', 'rel', oci('nginx-test'), '--version', '1.0.0', '--plain-http'])).stdout;
    const v110 = (await home.helm(helm, ['template', 'rel', oci('nginx-test'), '--version', '1.1.0', '--plain-http'])).stdout;
    expect(images(v100)).toEqual(['docker.io/nginxinc/nginx-unprivileged:1.26.3', 'docker.io/nginxinc/nginx-unprivileged:1.26.3']);
    expect(images(v110)).toEqual(['docker.io/nginxinc/nginx-unprivileged:1.27.4', 'docker.io/nginxinc/nginx-unprivileged:1.27.4']);
    expect(kindsAndNames(v100)).toEqual(NGINX_100);
    expect(kindsAndNames(v110)).toEqual([...NGINX_110].sort());
  });

  it.each(HELMS)('%s template oci://…/multi-chart --version 1.0.0 renders its own, nginx-test\'s and redis-test\'s objects', async (helm) => {
    const rendered = (await home.helm(helm, ['template', 'rel', oci('multi-chart'), '--version', '1.0.0', '--plain-http'])).stdout;
    expect(kindsAndNames(rendered)).toEqual([...RENDERED['multi-chart@1.0.0']].sort());
    const endpoints = objects(rendered).find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'rel-multi-chart-endpoints') as unknown as { data: Record<string, string> };
    expect(endpoints.data).toEqual({ WEB_URL: 'http://rel-nginx-test.default.svc:80', REDIS_URL: 'redis://rel-redis-test.default.svc:6379' });
    const withoutRedis = (await home.helm(helm, ['template', 'rel', oci('multi-chart'), '--version', '1.0.0', '--plain-http', '--set', 'redis-test.enabled=false'])).stdout;
    expect(kindsAndNames(withoutRedis)).toEqual(['ConfigMap/rel-multi-chart-endpoints', ...NGINX_110].sort());
  });

  it.each(HELMS)('%s dependency build accepts multi-chart\'s Chart.lock and fetches subcharts identical to the vendored ones', async (helm) => {
    const dir = home.folder(`depbuild-${helm}`);
    await home.helm(helm, ['pull', oci('multi-chart'), '--version', '1.0.0', '--untar', '-d', dir, '--plain-http']);
    const chartDir = join(dir, 'multi-chart');
    const vendored = ['nginx-test-1.1.0.tgz', 'redis-test-1.0.0.tgz'].map((f) => readFileSync(join(chartDir, 'charts', f)));
    await runCommand('rm', ['-r', join(chartDir, 'charts')]);
    // An out-of-sync lock stops this with "Chart.lock is out of sync with Chart.yaml".
    const build = await home.helm(helm, ['dependency', 'build', chartDir, '--plain-http']);
    expect(build.stdout + build.stderr).not.toMatch(/out of sync/i);
    const fetched = ['nginx-test-1.1.0.tgz', 'redis-test-1.0.0.tgz'].map((f) => readFileSync(join(chartDir, 'charts', f)));
    expect(fetched[0].equals(vendored[0])).toBe(true);
    expect(fetched[1].equals(vendored[1])).toBe(true);
    expect(fetched[0].equals(artifacts.get('nginx-test@1.1.0')!.layer.data)).toBe(true);
  });

  it.each(HELMS)('%s push of a seeded .tgz dated CHART_TIME makes the very manifest seed pushed (same config and annotations)', async (helm) => {
    const dir = home.folder(`push-${helm}`);
    for (const id of ['nginx-test@1.0.0', 'multi-chart@1.0.0']) {
      const [name, version] = id.split('@');
      const file = join(dir, `${name}-${version}.tgz`);
      writeFileSync(file, artifacts.get(id)!.layer.data);
      // helm push takes org.opencontainers.image.created from the file's mtime.
      utimesSync(file, CHART_TIME, CHART_TIME);
      const out = await home.helm(helm, ['push', file, `oci://${registry.host}/helm-${helm}`, '--plain-http']);
      expect(out.stdout + out.stderr, id).toContain(`Digest: ${artifacts.get(id)!.manifestDigest}`);
    }
  });

  it('a chart helm packaged itself, version 1.2.0+build.7: helm 4 pushes it as tag 1.2.0_build.7, helm 3 pulls it back byte for byte', async () => {
    const dir = home.folder('own-chart');
    await home.helm('helm4', ['create', 'own-chart'], { cwd: dir });
    const chartYaml = join(dir, 'own-chart', 'Chart.yaml');
    writeFileSync(chartYaml, readFileSync(chartYaml, 'utf8').replace(/^version: .*$/m, 'version: 1.2.0+build.7'));
    await home.helm('helm4', ['package', 'own-chart', '-d', 'out'], { cwd: dir });
    const packaged = readFileSync(join(dir, 'out', 'own-chart-1.2.0+build.7.tgz'));
    const push = await home.helm('helm4', ['push', join(dir, 'out', 'own-chart-1.2.0+build.7.tgz'), `oci://${registry.host}/roost-test`, '--plain-http']);
    expect(push.stdout + push.stderr).toContain(`Pushed: ${registry.host}/roost-test/own-chart:1.2.0_build.7`);

    const tags = (await (await fetch(`${registry.url}/v2/roost-test/own-chart/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).toEqual(['1.2.0_build.7']);
    const pulled = home.folder('own-chart-pulled');
    await home.helm('helm3', ['pull', `oci://${registry.host}/roost-test/own-chart`, '--version', '1.2.0+build.7', '-d', pulled, '--plain-http']);
    expect(readFileSync(join(pulled, 'own-chart-1.2.0+build.7.tgz')).equals(packaged)).toBe(true);
    const shown = parse((await home.helm('helm3', ['show', 'chart', `oci://${registry.host}/roost-test/own-chart`, '--version', '1.2.0+build.7', '--plain-http'])).stdout);
    expect(shown).toMatchObject({ name: 'own-chart', version: '1.2.0+build.7' });
  });

  it('a second perch seed against the filled registry sends GET /v2/ and one manifest HEAD per chart: no upload, no PUT', async () => {
    const proxy = await startCountingProxy(registry.url);
    try {
      const again = await seedCli(['--registry', proxy.url, '--dependency-repository', `oci://${registry.host}/roost-test`, '--timeout', '10s']);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('done: 0 pushed, 4 already present');
      expect(proxy.requests).toEqual([
        'GET /v2/',
        ...SEED_CHARTS.map((c) => `HEAD /v2/roost-test/${c.name}/manifests/${c.version}`),
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('crane manifest and oras manifest fetch show Helm\'s media types on a seeded chart', async () => {
    const ref = `${registry.host}/roost-test/redis-test:1.0.0`;
    const expected = artifacts.get('redis-test@1.0.0')!;
    const crane = await runCommand('crane', ['manifest', '--insecure', ref], { env: home.env });
    const oras = await runCommand('oras', ['manifest', 'fetch', '--plain-http', ref], { env: home.env });
    for (const [tool, out] of [['crane', crane.stdout], ['oras', oras.stdout]] as const) {
      expect(Buffer.from(out).equals(expected.manifest), tool).toBe(true);
      const manifest = JSON.parse(out) as { config: { mediaType: string }; layers: Array<{ mediaType: string }>; annotations: Record<string, string> };
      expect(manifest.config.mediaType, tool).toBe(HELM_CONFIG_MEDIA_TYPE);
      expect(manifest.layers.map((l) => l.mediaType), tool).toEqual([HELM_CHART_MEDIA_TYPE]);
      expect(manifest.annotations, tool).toMatchObject({
        'org.opencontainers.image.title': 'redis-test',
        'org.opencontainers.image.version': '1.0.0',
        'org.opencontainers.image.created': '2025-01-01T00:00:00Z',
      });
    }
    const descriptor = JSON.parse((await runCommand('oras', ['manifest', 'fetch', '--plain-http', '--descriptor', ref], { env: home.env })).stdout) as { mediaType: string };
    expect(descriptor.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
  });

  it('a missing chart or version: perch seed lists what it has, helm says not found', async () => {
    const noChart = await seedCli(['--registry', registry.url, '--chart', 'postgres-test@1.0.0']);
    expect(noChart.code).toBe(2);
    expect(noChart.stderr).toContain(
      'perch seed: --chart postgres-test@1.0.0: there is no seed chart named "postgres-test"; available: nginx-test@1.0.0, nginx-test@1.1.0, redis-test@1.0.0, multi-chart@1.0.0',
    );
    const noVersion = await seedCli(['--registry', registry.url, '--chart', 'redis-test@2.0.0']);
    expect(noVersion.code).toBe(2);
    expect(noVersion.stderr).toContain('perch seed: --chart redis-test@2.0.0: redis-test has no version "2.0.0"; available: redis-test@1.0.0');

    for (const helm of HELMS as HelmVersion[]) {
      const missingChart = await home.helm(helm, ['pull', oci('postgres-test'), '--version', '1.0.0', '--plain-http'], { allowFailure: true });
      expect(missingChart.code, helm).not.toBe(0);
      expect(missingChart.stderr, helm).toContain(`${registry.host}/roost-test/postgres-test:1.0.0: not found`);
      const missingVersion = await home.helm(helm, ['pull', oci('redis-test'), '--version', '2.0.0', '--plain-http'], { allowFailure: true });
      expect(missingVersion.code, helm).not.toBe(0);
      expect(missingVersion.stderr, helm).toContain(`${registry.host}/roost-test/redis-test:2.0.0: not found`);
    }
  });

  it('the registry down: perch seed gives up after --timeout saying what to check; helm reports the refused connection', async () => {
    const port = await freePort() // released: nothing listens there;
    const started = Date.now();
    const down = await seedCli(['--registry', `http://127.0.0.1:${port}`, '--timeout', '1s']);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(down.code).toBe(1);
    expect(down.stdout).toContain(`waiting for the registry at http://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}); giving up after 1s`);
    expect(down.stderr).toBe(
      `perch seed: cannot reach the registry at http://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}), tried for 1s. Check that it is running and that --registry names it; to wait longer, raise --timeout\n`,
    );
    for (const helm of HELMS as HelmVersion[]) {
      const pull = await home.helm(helm, ['pull', `oci://127.0.0.1:${port}/roost-test/nginx-test`, '--version', '1.0.0', '--plain-http'], { allowFailure: true });
      expect(pull.code, helm).not.toBe(0);
      expect(pull.stderr, helm).toContain(`dial tcp 127.0.0.1:${port}: connect: connection refused`);
    }
  });
});
