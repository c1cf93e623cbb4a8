/** A minimal Helm chart source folder (Chart.yaml, values, one template), for `helm package`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function makeChart(dir: string, name: string, version = '0.1.0'): string {
  const chart = join(dir, name);
  mkdirSync(join(chart, 'templates'), { recursive: true });
  writeFileSync(join(chart, 'Chart.yaml'), `apiVersion: v2\nname: ${name}\nversion: ${version}\ndescription: test chart\ntype: application\n`);
  writeFileSync(join(chart, 'values.yaml'), 'message: hello\n');
  writeFileSync(join(chart, 'templates', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n');
  return chart;
}
