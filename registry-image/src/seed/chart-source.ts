/**
 * A chart folder read into archive entries, in the order `helm package` writes them (helm
 * pkg/chart/v2/util/save.go `writeTarContents`): Chart.yaml, Chart.lock, values.yaml,
 * values.schema.json, then the templates, then every other file, each group in the order
 * Helm's loader walks the folder (sorted names, depth first), and the subcharts last.
 * Only file contents are read: names and bytes, never owners, modes or times.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareBytes } from '../client/go-json';

export interface ChartFile {
  /** Path relative to the chart folder, "/"-separated. */
  path: string;
  data: Buffer;
}

/** Files whose place in the archive Helm fixes, in that order. */
const LEADING = ['Chart.yaml', 'Chart.lock', 'values.yaml', 'values.schema.json'];

function walk(root: string, relative: string, out: ChartFile[]): void {
  const names = readdirSync(join(root, relative)).sort(compareBytes);
  for (const name of names) {
    const path = relative ? `${relative}/${name}` : name;
    const stat = lstatSync(join(root, path));
    if (stat.isDirectory()) walk(root, path, out);
    else if (stat.isFile()) out.push({ path, data: readFileSync(join(root, path)) });
    else throw new Error(`${join(root, path)} is neither a file nor a folder; chart sources hold only plain files`);
  }
}

/** Every file of the chart folder in Helm's archive order; subcharts (charts/) are the caller's to add. */
export function readChartFiles(dir: string): ChartFile[] {
  const files: ChartFile[] = [];
  walk(dir, '', files);
  for (const generated of ['charts', 'Chart.lock']) {
    if (files.some((f) => f.path === generated || f.path.startsWith(`${generated}/`))) {
      throw new Error(`${join(dir, generated)} must not be in the chart sources: perch seed vendors the dependencies and writes Chart.lock itself (delete it)`);
    }
  }
  return orderForHelm(files);
}

export function orderForHelm(files: readonly ChartFile[]): ChartFile[] {
  const rank = (f: ChartFile): number => {
    const leading = LEADING.indexOf(f.path);
    if (leading >= 0) return leading;
    if (f.path.startsWith('templates/')) return LEADING.length;
    if (f.path.startsWith('charts/')) return LEADING.length + 2;
    return LEADING.length + 1;
  };
  // Array.prototype.sort is stable: within a group the walk order stays.
  return [...files].sort((a, b) => rank(a) - rank(b));
}
