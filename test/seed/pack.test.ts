/**
 * Packing the seed charts: Helm's archive layout and header fields (checked against
 * `helm package` of the same folder), the vendored dependencies and Chart.lock of
 * multi-chart, and the same bytes whatever the files' mtimes and modes, the umask or TZ.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  buildArtifacts,
  CHART_TIME,
  ChartPacker,
  chartId,
  helmConfigJson,
  lockDigest,
  parseChartYaml,
  SEED_CHARTS,
  setDependencyRepositories,
  tar,
  tarHeader,
} from '../../registry-image/src/seed';
import { tempDir } from '../helpers/temp-dir';
import { HELMS, makeHelmHome, readTgzHeaders } from './seed-helpers';

const CHARTS_DIR = resolve(__dirname, '../../registry-image/charts');
const DEP_REPO = 'oci://localhost:5000/roost-test';

function walkFiles(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walkFiles(dir, join(rel, e.name)) : [join(rel, e.name)],
  );
}

describe('the seed chart sources', () => {
  it('are exactly the catalogue: one folder <name>/<version> per SEED_CHARTS entry', () => {
    const onDisk = readdirSync(CHARTS_DIR).flatMap((name) => readdirSync(join(CHARTS_DIR, name)).map((version) => `${name}@${version}`));
    expect(onDisk.sort()).toEqual(SEED_CHARTS.map(chartId).sort());
    for (const chart of SEED_CHARTS) {
      const meta = parseChartYaml(readFileSync(join(CHARTS_DIR, chart.name, chart.version, 'Chart.yaml'), 'utf8'), chart.name);
      expect(`${meta.name}@${meta.version}`).toBe(chartId(chart));
      expect(meta.apiVersion).toBe('v2');
    }
  });

  it('nginx-test 1.0.0 and 1.1.0 differ in appVersion (the image tag) and 1.1.0 adds a ConfigMap', () => {
    const read = (v: string) => parseChartYaml(readFileSync(join(CHARTS_DIR, 'nginx-test', v, 'Chart.yaml'), 'utf8'), v);
    expect(read('1.0.0').appVersion).not.toBe(read('1.1.0').appVersion);
    expect(walkFiles(join(CHARTS_DIR, 'nginx-test/1.1.0'))).toContain('templates/configmap.yaml');
    expect(walkFiles(join(CHARTS_DIR, 'nginx-test/1.0.0'))).not.toContain('templates/configmap.yaml');
  });
});

describe('packed archives', () => {
  const artifacts = buildArtifacts(SEED_CHARTS, CHARTS_DIR, DEP_REPO);

  it('hold every file under <name>/, Chart.yaml first, with the header fields Go writes for Helm', () => {
    for (const [i, chart] of SEED_CHARTS.entries()) {
      const entries = readTgzHeaders(artifacts[i].layer.data);
      expect(entries[0].path).toBe(`${chart.name}/Chart.yaml`);
      const sourceFiles = walkFiles(join(CHARTS_DIR, chart.name, chart.version)).map((p) => `${chart.name}/${p}`);
      expect(entries.map((e) => e.path)).toEqual(expect.arrayContaining(sourceFiles));
      for (const e of entries) {
        expect(e, e.path).toMatchObject({
          mode: '0000644\0',
          uid: '0000000\0',
          gid: '0000000\0',
          typeflag: '0',
          magic: 'ustar\u000000',
          uname: '',
          gname: '',
          devmajor: '0000000\0',
          devminor: '0000000\0',
          mtime: CHART_TIME.getTime() / 1000,
          checksumOk: true,
        });
      }
    }
  });

  it.each(['nginx-test@1.0.0', 'nginx-test@1.1.0', 'redis-test@1.0.0'])(
    '%s: the same entries, order, header fields and gzip framing as helm package of the same folder',
    async (id) => {
      const [name, version] = id.split('@');
      const ours = artifacts[SEED_CHARTS.findIndex((c) => chartId(c) === id)].layer.data;
      const home = makeHelmHome();
      try {
        for (const helm of HELMS) {
          const out = home.folder(`out-${helm}`);
          await home.helm(helm, ['package', join(CHARTS_DIR, name, version), '-d', out]);
          const theirs = readFileSync(join(out, `${name}-${version}.tgz`));
          const a = readTgzHeaders(ours);
          const b = readTgzHeaders(theirs);
          expect(a.map((e) => e.path), helm).toEqual(b.map((e) => e.path));
          for (const [j, entry] of a.entries()) {
            const { mtime: _m1, data: d1, size: _s1, ...fields1 } = entry;
            const { mtime: _m2, data: d2, size: _s2, ...fields2 } = b[j];
            expect(fields1, `${helm} ${entry.path}`).toEqual(fields2);
            // Helm re-serialises Chart.yaml (sorted keys); the content is the same.
            if (entry.path.endsWith('/Chart.yaml')) expect(parse(d1.toString())).toEqual(parse(d2.toString()));
            else expect(d1.equals(d2), `${helm} ${entry.path}`).toBe(true);
          }
          if (helm === 'helm4') {
            // Same gzip header (flags, MTIME, OS, Helm's extra field and comment) but for XFL,
            // which records the compression level (Go's default vs our fixed best).
            const headerLength = 10 + 2 + 44 + 'Helm\0'.length;
            expect(Buffer.concat([ours.subarray(0, 8), ours.subarray(9, headerLength)])).toEqual(
              Buffer.concat([theirs.subarray(0, 8), theirs.subarray(9, headerLength)]),
            );
          }
        }
      } finally {
        home.remove();
      }
    },
  );

  it('multi-chart vendors the very nginx-test and redis-test layers seed pushes, with a Chart.lock naming them', () => {
    const byId = new Map(SEED_CHARTS.map((c, i) => [chartId(c), artifacts[i]]));
    const entries = readTgzHeaders(byId.get('multi-chart@1.0.0')!.layer.data);
    const file = (p: string) => entries.find((e) => e.path === `multi-chart/${p}`)?.data;
    expect(entries.map((e) => e.path).slice(0, 3)).toEqual(['multi-chart/Chart.yaml', 'multi-chart/Chart.lock', 'multi-chart/values.yaml']);
    expect(entries.at(-2)?.path).toBe('multi-chart/charts/nginx-test-1.1.0.tgz');
    expect(entries.at(-1)?.path).toBe('multi-chart/charts/redis-test-1.0.0.tgz');
    expect(file('charts/nginx-test-1.1.0.tgz')!.equals(byId.get('nginx-test@1.1.0')!.layer.data)).toBe(true);
    expect(file('charts/redis-test-1.0.0.tgz')!.equals(byId.get('redis-test@1.0.0')!.layer.data)).toBe(true);
    const lock = parse(file('Chart.lock')!.toString()) as { dependencies: unknown[]; digest: string; generated: string };
    expect(lock.dependencies).toEqual([
      { name: 'nginx-test', repository: DEP_REPO, version: '1.1.0' },
      { name: 'redis-test', repository: DEP_REPO, version: '1.0.0' },
    ]);
    expect(lock.generated).toBe('2025-01-01T00:00:00Z');
    const meta = parseChartYaml(file('Chart.yaml')!.toString(), 'packed');
    expect(lock.digest).toBe(lockDigest(meta.dependencies!, lock.dependencies as never));
  });

  it('the dependency repository changes multi-chart (its Chart.yaml, Chart.lock and digest) and nothing else', () => {
    const other = buildArtifacts(SEED_CHARTS, CHARTS_DIR, 'oci://registry.example.com:5000/team/charts');
    for (const [i, chart] of SEED_CHARTS.entries()) {
      if (chart.name === 'multi-chart') expect(other[i].manifestDigest).not.toBe(artifacts[i].manifestDigest);
      else expect(other[i].manifestDigest).toBe(artifacts[i].manifestDigest);
    }
    const multi = readTgzHeaders(other[3].layer.data);
    const chartYaml = multi[0].data.toString();
    const source = readFileSync(join(CHARTS_DIR, 'multi-chart/1.0.0/Chart.yaml'), 'utf8');
    expect(chartYaml).toBe(source.replaceAll(DEP_REPO, 'oci://registry.example.com:5000/team/charts'));
    expect(multi[1].data.toString()).toContain('repository: oci://registry.example.com:5000/team/charts');
  });
});

describe('reproducibility', () => {
  it('gives the same sha256 for copies with other mtimes and modes, packed under another umask and TZ', () => {
    const expected = buildArtifacts(SEED_CHARTS, CHARTS_DIR, DEP_REPO).map((a) => [a.layer.digest, a.manifestDigest]);
    // A small bundle of the packer, so each run is its own process with its own umask and TZ.
    const bundleDir = tempDir('perch-seed-pack-');
    const entry = join(bundleDir, 'entry.ts');
    writeFileSync(
      entry,
      `import { buildArtifacts, SEED_CHARTS } from ${JSON.stringify(resolve(__dirname, '../../registry-image/src/seed'))};\n` +
        `const [chartsDir, repo] = process.argv.slice(2);\n` +
        `process.stdout.write(JSON.stringify(buildArtifacts(SEED_CHARTS, chartsDir, repo).map((a) => [a.layer.digest, a.manifestDigest])));\n`,
    );
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild');
    esbuild.buildSync({ entryPoints: [entry], bundle: true, platform: 'node', outfile: join(bundleDir, 'pack.js'), logLevel: 'silent' });

    const runs = [
      { umask: '0077', tz: 'Pacific/Kiritimati', mtime: new Date('2001-02-03T04:05:06Z'), fileMode: 0o600, dirMode: 0o700 },
      { umask: '0000', tz: 'America/Los_Angeles', mtime: new Date(), fileMode: 0o777, dirMode: 0o777 },
    ];
    for (const run of runs) {
      const copy = join(tempDir('perch-seed-charts-'), 'charts');
      cpSync(CHARTS_DIR, copy, { recursive: true });
      const setModes = (dir: string) => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          const p = join(dir, e.name);
          if (e.isDirectory()) setModes(p);
          chmodSync(p, e.isDirectory() ? run.dirMode : run.fileMode);
          utimesSync(p, run.mtime, run.mtime);
        }
      };
      setModes(copy);
      const out = execFileSync('sh', ['-c', `umask ${run.umask} && exec "$0" "$@"`, process.execPath, join(bundleDir, 'pack.js'), copy, DEP_REPO], {
        env: { ...process.env, TZ: run.tz, LC_ALL: 'C' },
      }).toString();
      expect(JSON.parse(out), `umask ${run.umask}, TZ ${run.tz}`).toEqual(expected);
    }
  });

  it('packs the same chart twice in one process to the same bytes (no state carried between packs)', () => {
    const a = new ChartPacker({ chartsDir: CHARTS_DIR, dependencyRepository: DEP_REPO }).pack(SEED_CHARTS[3]);
    const b = new ChartPacker({ chartsDir: CHARTS_DIR, dependencyRepository: DEP_REPO }).pack(SEED_CHARTS[3]);
    expect(a.archive.equals(b.archive)).toBe(true);
  });
});

describe('tar', () => {
  it('puts a path over 100 bytes into the ustar prefix, split at a "/"', () => {
    const dir = `chart/${'d'.repeat(80)}`;
    const header = tarHeader({ path: `${dir}/${'f'.repeat(60)}.yaml`, data: Buffer.from('x') }, CHART_TIME);
    expect(header.subarray(0, 100).toString().replace(/\0+$/, '')).toBe(`${'f'.repeat(60)}.yaml`);
    expect(header.subarray(345, 500).toString().replace(/\0+$/, '')).toBe(dir);
  });

  it('refuses a path that fits neither field, duplicate paths and paths that climb out', () => {
    expect(() => tarHeader({ path: `c/${'x'.repeat(120)}`, data: Buffer.alloc(0) }, CHART_TIME)).toThrow(/does not fit a ustar header/);
    expect(() => tar([{ path: 'a/b', data: Buffer.alloc(0) }, { path: 'a/b', data: Buffer.alloc(0) }], CHART_TIME)).toThrow(/listed twice/);
    expect(() => tarHeader({ path: 'a/../b', data: Buffer.alloc(0) }, CHART_TIME)).toThrow(/not a plain relative path/);
  });

  it('ends with two zero blocks and no record padding', () => {
    const out = tar([{ path: 'a/b', data: Buffer.from('hello') }], CHART_TIME);
    expect(out.length).toBe(512 + 512 + 1024);
    expect(out.subarray(1024).every((b) => b === 0)).toBe(true);
  });
});

describe('chart metadata', () => {
  it('writes the config blob as Go json.Marshal writes chart.Metadata: struct order, omitempty, sorted maps, HTML escaping', () => {
    const meta = parseChartYaml(
      [
        'type: application',
        'annotations: {zeta: "1", alpha: "<b>&"}',
        'version: 1.2.3',
        'name: demo',
        'apiVersion: v2',
        'deprecated: false',
        'keywords: []',
        'maintainers: [{email: a@b.c, name: A}]',
        'dependencies: [{name: sub, version: 1.0.0, repository: "oci://r/x", enabled: false}]',
      ].join('\n'),
      'Chart.yaml',
    );
    expect(helmConfigJson(meta)).toBe(
      '{"name":"demo","version":"1.2.3","maintainers":[{"name":"A","email":"a@b.c"}],"apiVersion":"v2",' +
        '"annotations":{"alpha":"\\u003cb\\u003e\\u0026","zeta":"1"},' +
        '"dependencies":[{"name":"sub","version":"1.0.0","repository":"oci://r/x"}],"type":"application"}',
    );
  });

  it('refuses what Helm would misread or drop: unknown keys, numbers for strings, apiVersion v1, non-semver versions', () => {
    const base = 'apiVersion: v2\nname: demo\nversion: 1.0.0\n';
    expect(() => parseChartYaml(`${base}appversion: "1"\n`, 'Chart.yaml')).toThrow(/unknown key "appversion"/);
    expect(() => parseChartYaml(`${base}appVersion: 1.10\n`, 'Chart.yaml')).toThrow(/appVersion must be a string \(quote it/);
    expect(() => parseChartYaml(base.replace('v2', 'v1'), 'Chart.yaml')).toThrow(/apiVersion must be v2/);
    expect(() => parseChartYaml(base.replace('1.0.0', '"1.0"'), 'Chart.yaml')).toThrow(/version 1.0 is not a semantic version/);
    expect(() => parseChartYaml(base.replace('1.0.0', '1.0'), 'Chart.yaml')).toThrow(/^Chart.yaml: version must be a string/);
  });

  it('replaces dependency repositories in Chart.yaml and leaves every other byte alone', () => {
    const text = '# top\ndependencies:\n  - name: a # keep\n    repository: "oci://old/x"\n    version: 1.0.0\n  - repository: oci://old/y\n    name: b\n';
    expect(setDependencyRepositories(text, 'oci://new:5000/z', 'Chart.yaml')).toBe(
      '# top\ndependencies:\n  - name: a # keep\n    repository: oci://new:5000/z\n    version: 1.0.0\n  - repository: oci://new:5000/z\n    name: b\n',
    );
    expect(() => setDependencyRepositories('dependencies:\n  - name: a\n', 'oci://n/z', 'Chart.yaml')).toThrow(/needs a repository/);
  });
});
