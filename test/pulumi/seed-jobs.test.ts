/**
 * The seed Jobs: their arguments are what the seed command's own parser accepts, their
 * credentials come from the seed Secret through the variables the seed command reads, and
 * their names change exactly when the chart set (or seed image) does.
 */
import { describe, expect, it } from 'vitest';
import perchPackage from 'perch/package.json';
import { chartId, parseSeedArgs, SEED_CHARTS, SEED_ENV, SEED_NAMESPACE } from 'perch/seed';
import { REGISTRY_UID } from '../../components/container-interface';
import { projectConfig, renderProgram, seedJobSpecs, type StackConfig } from './render';

const JOB = 'kubernetes:batch/v1:Job';

async function jobs(config: StackConfig = {}) {
  const rendered = await renderProgram({ config });
  return { rendered, jobs: seedJobSpecs(rendered), records: rendered.all(JOB) };
}

/** The Job container's environment as the seed command would see it (Secret values filled in). */
function envFor(container: Record<string, any>, secret: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const variable of container.env) env[variable.name] = secret[variable.valueFrom.secretKeyRef.key];
  return env;
}

describe('seed Jobs', () => {
  it('one Job per chart the seed command carries, by default', async () => {
    const { records } = await jobs();
    expect(records.map((r) => r.name)).toEqual(SEED_CHARTS.map((c) => `zot-registry-seed-${c.name}-${c.version}`));
    expect(projectConfig().seedCharts!.default).toEqual(SEED_CHARTS.map(chartId));
  });

  it("each Job's args parse with the seed command's parser: in-cluster registry, one chart, registryUrl as dependency repository", async () => {
    const { rendered, jobs: specs } = await jobs({ serviceType: 'NodePort', externalHost: '10.0.0.106', nodePort: 30500 });
    const secret = rendered.secretData('zot-registry-seed-credentials');
    expect(specs).toHaveLength(SEED_CHARTS.length);
    specs.forEach(({ spec }, index) => {
      const container = spec.containers[0];
      expect(container.command).toBeUndefined();
      expect(container.args[0]).toBe('seed');
      const options = parseSeedArgs(container.args.slice(1), envFor(container, secret));
      expect(options.registry.origin).toBe('http://zot-registry-service.zot-registry.svc.cluster.local:5000');
      expect(options.registry.scheme).toBe('http');
      expect(options.insecure).toBe(true);
      expect(options.charts).toEqual([SEED_CHARTS[index]]);
      expect(options.dependencyRepository).toBe(`oci://10.0.0.106:30500/${SEED_NAMESPACE}`);
      expect(options.username).toBe('roost-test');
      expect(options.password).toBe('env');
      // The password travels only through the Secret, never in the args.
      expect(container.args.join(' ')).not.toContain(secret.password);
    });
  });

  it('the exact command line, as the request describes it', async () => {
    const { jobs: specs, rendered } = await jobs();
    expect(specs[0]!.spec.containers[0].args).toEqual([
      'seed',
      '--registry',
      'http://zot-registry-service.zot-registry.svc.cluster.local:5000',
      '--chart',
      'nginx-test@1.0.0',
      '--dependency-repository',
      `oci://${rendered.outputs.registryHost}/roost-test`,
      '--insecure',
    ]);
  });

  it("credentials come from the seed Secret through the seed command's SEED_ENV variables", async () => {
    const { jobs: specs } = await jobs();
    for (const { spec } of specs) {
      expect(spec.containers[0].env).toEqual([
        { name: SEED_ENV.username, valueFrom: { secretKeyRef: { name: 'zot-registry-seed-credentials', key: 'username' } } },
        { name: SEED_ENV.password, valueFrom: { secretKeyRef: { name: 'zot-registry-seed-credentials', key: 'password' } } },
      ]);
    }
  });

  it('Jobs retry, are never garbage-collected by TTL, and run as the same non-root user', async () => {
    const { records, jobs: specs } = await jobs();
    for (const record of records) {
      expect(record.inputs.spec.backoffLimit).toBeGreaterThan(0);
      expect(record.inputs.spec.ttlSecondsAfterFinished).toBeUndefined();
      expect(record.inputs.spec.template.metadata.labels['app.kubernetes.io/component']).toBe('seed');
    }
    for (const { spec } of specs) {
      expect(spec.restartPolicy).toBe('Never');
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: REGISTRY_UID });
      expect(spec.containers[0].securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      expect(spec.containers[0].image).toBe(`perch:${perchPackage.version}`);
      expect(spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
    }
  });

  it('names are valid, unique, stable across runs, and new when the chart set or seed image changes', async () => {
    const first = (await jobs()).jobs.map((j) => j.name);
    const again = (await jobs()).jobs.map((j) => j.name);
    expect(again).toEqual(first);
    expect(new Set(first).size).toBe(first.length);
    for (const name of first) {
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(/^seed-[a-z0-9-]+-[0-9a-f]{8}$/);
    }
    const fewer = (await jobs({ seedCharts: ['nginx-test'] })).jobs.map((j) => j.name);
    expect(fewer).toEqual(first.slice(0, 2));
    const otherImage = (await jobs({ seedImage: 'registry.local/tools/perch:0.2.0' })).jobs.map((j) => j.name);
    for (const name of otherImage) expect(first).not.toContain(name);
  });

  it('a chart list in any order runs in the seed command\'s push order', async () => {
    const { records } = await jobs({ seedCharts: ['multi-chart@1.0.0', 'redis-test@1.0.0'] });
    expect(records.map((r) => r.name)).toEqual(['zot-registry-seed-redis-test-1.0.0', 'zot-registry-seed-multi-chart-1.0.0']);
  });
});
