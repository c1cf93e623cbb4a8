/**
 * The Roost test charts `perch seed` publishes (DESIGN.md "The seed charts"), and where their
 * sources are. Each chart version is a complete chart folder,
 * registry-image/charts/<name>/<version>/, so `helm lint` and `helm template` work on the
 * sources as they are. The list is static, so parsing the seed command's arguments (which the
 * Pulumi tests do for the Jobs) needs no file system; a test keeps it equal to the folders.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The registry namespace the charts are pushed under: roost-test/<name>:<version>. */
export const SEED_NAMESPACE = 'roost-test';

export interface SeedChartRef {
  name: string;
  version: string;
}

/** In push order: a chart's dependencies come before it, so the registry is never seen half-seeded. */
export const SEED_CHARTS: readonly SeedChartRef[] = Object.freeze([
  { name: 'nginx-test', version: '1.0.0' },
  { name: 'nginx-test', version: '1.1.0' },
  { name: 'redis-test', version: '1.0.0' },
  { name: 'multi-chart', version: '1.0.0' },
]);

export function chartId(chart: SeedChartRef): string {
  return `${chart.name}@${chart.version}`;
}

export function findSeedChart(name: string, version: string): SeedChartRef | undefined {
  return SEED_CHARTS.find((c) => c.name === name && c.version === version);
}

/**
 * The charts folder: beside the sources (registry-image/src/seed -> registry-image/charts),
 * beside the bundle (registry-image/dist/perch.js -> registry-image/charts) or inside the image
 * (/app/perch.js -> /app/charts).
 */
export function defaultChartsDir(from: string = __dirname): string {
  const candidates = [resolve(from, '../../charts'), resolve(from, '../charts'), resolve(from, 'charts')];
  const found = candidates.find((dir) => existsSync(join(dir, 'nginx-test')));
  if (!found) {
    throw new Error(`the seed chart sources are missing: looked in ${candidates.join(', ')}. They ship as registry-image/charts (in the image: /app/charts next to perch.js)`);
  }
  return found;
}

export function chartSourceDir(chartsDir: string, chart: SeedChartRef): string {
  return join(chartsDir, chart.name, chart.version);
}
