/**
 * Packs a seed chart the way `helm package` does (a gzip tar whose entries all sit under
 * `<name>/`, Chart.yaml first; see chart-source.ts, tar.ts and gzip.ts), byte for byte the same
 * on every run: nothing comes from the clock, the file system's metadata, the umask or TZ.
 *
 * A chart with dependencies (multi-chart) is packed as its folder would stand after
 * `helm dependency update`: each dependency's repository set to the dependency repository,
 * the dependencies themselves under charts/<name>-<version>.tgz (the very bytes seed pushes
 * for them, so `helm template` and `helm install` need nothing else), and a Chart.lock whose
 * digest `helm dependency build` accepts. (`helm package` itself would re-pack the subcharts
 * as folders under charts/; Helm loads both forms alike, and the .tgz keeps them identical to
 * the pushed charts.)
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument, isScalar } from 'yaml';
import { chartSourceDir, findSeedChart, type SeedChartRef } from './catalogue';
import { chartLockYaml, type LockedDependency } from './chart-lock';
import { parseChartYaml, SEMVER, type ChartMetadata } from '../client/chart-metadata';
import { readChartFiles, orderForHelm, type ChartFile } from './chart-source';
import { CHART_TIME } from './chart-time';
import { helmGzip } from './gzip';
import { tar } from './tar';
import { yamlScalar } from './yaml-scalar';

export interface PackOptions {
  chartsDir: string;
  /** oci://host/namespace: what the packed Chart.yaml names as its dependencies' repository. */
  dependencyRepository: string;
}

export interface PackedChart {
  name: string;
  version: string;
  /** The Chart.yaml inside the archive, parsed: the source of the OCI config blob. */
  metadata: ChartMetadata;
  /** The .tgz, as helm package would name it `<name>-<version>.tgz`. */
  archive: Buffer;
  /** sha256:<hex> of the archive. */
  digest: string;
}

/**
 * Chart.yaml with every dependency's repository replaced, everything else byte for byte as in
 * the source (comments, order, quoting), by splicing the new values over the old ones.
 */
export function setDependencyRepositories(text: string, repository: string, where: string): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`${where}: ${doc.errors[0].message}`);
  const dependencies = doc.get('dependencies', true);
  const count = dependencies && typeof dependencies === 'object' && 'items' in dependencies ? (dependencies.items as unknown[]).length : 0;
  const edits: Array<{ start: number; end: number }> = [];
  for (let i = 0; i < count; i++) {
    const node = doc.getIn(['dependencies', i, 'repository'], true);
    if (!isScalar(node) || !node.range) throw new Error(`${where}: dependencies[${i}] needs a repository (it is replaced by the dependency repository)`);
    edits.push({ start: node.range[0], end: node.range[1] });
  }
  let out = text;
  for (const { start, end } of edits.reverse()) out = out.slice(0, start) + yamlScalar(repository) + out.slice(end);
  return out;
}

export class ChartPacker {
  private readonly packed = new Map<string, PackedChart>();

  constructor(private readonly options: PackOptions) {}

  pack(chart: SeedChartRef): PackedChart {
    const key = `${chart.name}@${chart.version}`;
    let result = this.packed.get(key);
    if (!result) {
      result = this.packFresh(chart, new Set([key]));
      this.packed.set(key, result);
    }
    return result;
  }

  private packFresh(chart: SeedChartRef, path: Set<string>): PackedChart {
    const dir = chartSourceDir(this.options.chartsDir, chart);
    const where = join(dir, 'Chart.yaml');
    const sourceFiles = readChartFiles(dir);
    let chartYaml = readFileSync(where, 'utf8');
    const sourceMeta = parseChartYaml(chartYaml, where);
    if (sourceMeta.name !== chart.name || sourceMeta.version !== chart.version) {
      throw new Error(`${where} says ${sourceMeta.name}@${sourceMeta.version}, but its folder is ${chart.name}/${chart.version}`);
    }
    const extra: ChartFile[] = [];
    const requested = sourceMeta.dependencies ?? [];
    if (requested.length > 0) {
      chartYaml = setDependencyRepositories(chartYaml, this.options.dependencyRepository, where);
      const metaWithRepo = parseChartYaml(chartYaml, where);
      const locked: LockedDependency[] = [];
      for (const dep of metaWithRepo.dependencies!) {
        const version = dep.version ?? '';
        const target = findSeedChart(dep.name, version);
        if (!SEMVER.test(version) || !target) {
          throw new Error(`${where}: dependency ${dep.name} ${version} must be one of the seed charts at an exact version, so seed can vendor it`);
        }
        const key = `${dep.name}@${version}`;
        if (path.has(key)) throw new Error(`${where}: dependency cycle through ${key}`);
        const sub = this.packed.get(key) ?? this.packFresh(target, new Set([...path, key]));
        this.packed.set(key, sub);
        extra.push({ path: `charts/${sub.name}-${sub.version}.tgz`, data: sub.archive });
        locked.push({ name: dep.name, version, repository: dep.repository });
      }
      extra.push({ path: 'Chart.lock', data: Buffer.from(chartLockYaml(metaWithRepo.dependencies!, locked, CHART_TIME)) });
    }
    const files = orderForHelm([
      { path: 'Chart.yaml', data: Buffer.from(chartYaml) },
      ...sourceFiles.filter((f) => f.path !== 'Chart.yaml'),
      ...extra.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    ]);
    const archive = helmGzip(tar(files.map((f) => ({ path: `${chart.name}/${f.path}`, data: f.data })), CHART_TIME));
    return {
      name: chart.name,
      version: chart.version,
      metadata: parseChartYaml(chartYaml, where),
      archive,
      digest: `sha256:${createHash('sha256').update(archive).digest('hex')}`,
    };
  }
}
