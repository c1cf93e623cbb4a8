/**
 * Chart.lock for a chart whose dependencies are vendored under charts/, as
 * `helm dependency update` writes it, with the digest Helm checks in `helm dependency build`
 * ("Chart.lock is out of sync with Chart.yaml" otherwise): helm internal/resolver/resolver.go
 * `HashReq` is "sha256:" + hex sha256 of json.Marshal([2][]*Dependency{requested, locked}),
 * where requested are Chart.yaml's dependencies and locked are {name, version, repository}
 * with the version resolved (an exact version resolves to itself).
 */
import { createHash } from 'node:crypto';
import { dependencyJsonShape, type ChartDependency } from '../client/chart-metadata';
import { rfc3339 } from './chart-time';
import { goJson } from '../client/go-json';
import { yamlScalar as scalar } from './yaml-scalar';

export interface LockedDependency {
  name: string;
  version: string;
  repository: string;
}

export function lockDigest(requested: readonly ChartDependency[], locked: readonly LockedDependency[]): string {
  const json = goJson([requested.map(dependencyJsonShape), locked.map(dependencyJsonShape)]);
  return `sha256:${createHash('sha256').update(json).digest('hex')}`;
}

/**
 * The file, keys in the order Helm's YAML writer sorts them (dependencies, digest, generated).
 * `generated` is the caller's fixed instant, never the clock.
 */
export function chartLockYaml(requested: readonly ChartDependency[], locked: readonly LockedDependency[], generated: Date): string {
  const lines = ['dependencies:'];
  for (const dep of locked) {
    lines.push(`- name: ${scalar(dep.name)}`, `  repository: ${scalar(dep.repository)}`, `  version: ${scalar(dep.version)}`);
  }
  lines.push(`digest: ${lockDigest(requested, locked)}`, `generated: "${rfc3339(generated)}"`, '');
  return lines.join('\n');
}
