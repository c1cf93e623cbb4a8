/**
 * `pulumi up` for real: the real Pulumi CLI deploys this program onto a real one-node cluster
 * (test/cluster/cluster.ts), the seed Jobs really push, helm 3 and helm 4 pull the charts
 * through the NodePort, and every later `pulumi up` does what docs/pulumi.md "What changes do"
 * says: a new password updates the Secret in place and the running registry takes it without a
 * restart, a config change restarts the pod through the checksum, a new image tag rolls it, none
 * of them replaces the Deployment, the claim or the Jobs that already ran; a change that would
 * delete the stored images is refused; `pulumi destroy` removes what the stack made, and only
 * that. The tests run in order against one stack, as a user's runs would.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_CHARTS } from 'perch/seed';
import { selectorLabels } from '../../components/labels';
import { seedJobName } from '../../components/names';
import { HELMS, makeHelmHome, type HelmHome, type HelmVersion } from '../seed/seed-helpers';
import { IMAGE, SECOND_IMAGE_TAG, startCluster, type ClusterUnderTest } from './cluster';
import { request } from './http';
import { jobComplete, podReady, type KubeObject } from './kubectl';
import { changes, PulumiStack } from './pulumi-stack';

const ARTIFACTS = resolve(__dirname, '..', 'artifacts', 'cluster');
const NAMESPACE = 'zot-registry';
const NODE_PORT = 30500;
const REGISTRY_SELECTOR = Object.entries(selectorLabels('zot-registry', 'registry'))
  .map(([k, v]) => `${k}=${v}`)
  .join(',');
const JOB_NAMES = SEED_CHARTS.map((c) => seedJobName(c, IMAGE));

let cluster: ClusterUnderTest;
let stack: PulumiStack;
let url: string;
let host: string;

/** Polls `check` until it gives a value other than undefined or false, and returns that value. */
async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not so after ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The chart the suite pushed itself, before any restart: its manifest, with Basic or a token. */
async function chartKept(): Promise<boolean> {
  const password = await stack.output('password', { showSecrets: true });
  const manifest = (authorization: string) =>
    request(`${url}/v2/kept/redis-test/manifests/1.0.0`, { headers: { authorization, accept: 'application/vnd.oci.image.manifest.v1+json' } });
  let answer = await manifest(basic('roost-test', password));
  if (answer.status === 401) {
    const token = await request(`${url}/v2/token?service=${host}&scope=repository:kept/redis-test:pull`, { headers: { authorization: basic('roost-test', password) } });
    answer = await manifest(`Bearer ${(JSON.parse(token.body) as { token: string }).token}`);
  }
  return answer.status === 200;
}

async function registryPod(): Promise<KubeObject> {
  const pods = (await cluster.kubectl.list('pods', { namespace: NAMESPACE, selector: REGISTRY_SELECTOR })).filter(
    (p) => p.metadata && !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp,
  );
  expect(pods, 'one registry pod').toHaveLength(1);
  return pods[0]!;
}

/**
 * The registry Pod after a restart: ready, and answering through the NodePort (kube-proxy
 * follows the new endpoint a moment after the rollout).
 */
async function restartedPod(): Promise<KubeObject> {
  return eventually('the new registry pod ready and answering on the node port', async () => {
    const pod = await registryPod();
    return podReady(pod) && (await status('/readyz')) === 200 ? pod : undefined;
  });
}

/** The UIDs of what must never be replaced by an ordinary change. */
async function lasting(): Promise<Record<string, string>> {
  const uids: Record<string, string> = {};
  const add = async (kind: string, name: string) => {
    const object = await cluster.kubectl.get(kind, name, NAMESPACE);
    uids[`${kind}/${name}`] = object?.metadata.uid ?? 'missing';
  };
  await add('deployment', 'zot-registry');
  await add('pvc', 'zot-registry-data');
  await add('service', 'zot-registry-service');
  for (const job of JOB_NAMES) await add('job', job);
  return uids;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

async function status(path: string, authorization?: string): Promise<number> {
  return (await request(`${url}${path}`, { headers: authorization ? { authorization } : {} })).status;
}

/** `helm registry login` exactly as the stack's helmLoginCommand says, with the password on stdin. */
async function helmLogin(home: HelmHome, helm: HelmVersion): Promise<void> {
  const command = (await stack.output('helmLoginCommand')).split(/\s+/);
  expect(command[0]).toBe('helm');
  const password = await stack.output('password', { showSecrets: true });
  await home.helm(helm, command.slice(1), { input: `${password}\n` });
}

async function pullEverySeededChart(home: HelmHome, helm: HelmVersion): Promise<void> {
  const dest = home.folder(`pulled-${helm}-${Date.now()}`);
  for (const chart of SEED_CHARTS) {
    await home.helm(helm, ['pull', `oci://${host}/roost-test/${chart.name}`, '--version', chart.version, '--plain-http', '--destination', dest]);
  }
}

beforeAll(async () => {
  cluster = await startCluster();
  await cluster.addVolume('perch-suite-data-1', '10Gi');
  await cluster.addVolume('perch-suite-data-2', '10Gi');
  stack = new PulumiStack('cluster-suite', cluster);
  await stack.init();
  // Like Pulumi.dev.yaml, but reachable from this machine: the node's NodePort.
  await stack.setAll({
    namespace: NAMESPACE,
    username: 'roost-test',
    storageSize: '10Gi',
    serviceType: 'NodePort',
    nodePort: String(NODE_PORT),
    externalHost: cluster.nodeAddress,
    awaitLoadBalancer: 'false',
  });
}, 1_500_000);

afterAll(async () => {
  await stack?.remove();
  await cluster?.stop();
}, 900_000);

// Each `pulumi up` starts or restarts a pod; a few minutes each at most, never endless.
describe('pulumi up on a real cluster', { timeout: 600_000 }, () => {
  it('deploys the registry from the image, runs the four seed Jobs, and exports where it is', async () => {
    const up = await stack.up();
    expect(up.stdout).not.toContain('Undefined value');
    url = await stack.output('registryUrl');
    host = await stack.output('registryHost');
    expect(url).toBe(`http://${cluster.nodeAddress}:${NODE_PORT}`);
    const pod = await registryPod();
    expect(podReady(pod)).toBe(true);
    expect(pod.spec.containers[0].image).toBe(IMAGE);
    for (const name of JOB_NAMES) {
      const job = (await cluster.kubectl.get('job', name, NAMESPACE))!;
      expect(jobComplete(job), name).toBe(true);
      expect(await cluster.kubectl.logs(`job/${name}`, NAMESPACE), name).toMatch(/roost-test\/[a-z-]+:[0-9.]+ pushed sha256:/);
    }
    // A healthy basic-auth install logs no error (the token key it does not use included).
    const log = await cluster.kubectl.logs(`deployment/zot-registry`, NAMESPACE);
    expect(log.split('\n').filter((line) => line.includes('"level":"error"'))).toEqual([]);
    expect(await status('/readyz')).toBe(200);
    expect(await status('/v2/')).toBe(401);
  });

  it('helm 3 and helm 4 log in with helmLoginCommand and pull every seeded chart; dependency build fetches from the registry', async () => {
    for (const helm of HELMS) {
      const home = makeHelmHome();
      try {
        await helmLogin(home, helm);
        await pullEverySeededChart(home, helm);
        const dir = home.folder('multi');
        await home.helm(helm, ['pull', `oci://${host}/roost-test/multi-chart`, '--version', '1.0.0', '--plain-http', '--untar', '--untardir', dir]);
        // Without the vendored copies, build must fetch both from the registry, via registryHost.
        rmSync(join(dir, 'multi-chart', 'charts'), { recursive: true });
        await home.helm(helm, ['dependency', 'build', join(dir, 'multi-chart'), '--plain-http']);
        expect(readdirSync(join(dir, 'multi-chart', 'charts')).sort()).toEqual(['nginx-test-1.1.0.tgz', 'redis-test-1.0.0.tgz']);
      } finally {
        home.remove();
      }
    }
  });

  it('a second run changes nothing: preview --expect-no-changes passes', async () => {
    const result = await stack.preview(['--expect-no-changes']);
    expect(result.code).toBe(0);
  });

  it('a chart pushed now is still there after every restart below', async () => {
    const home = makeHelmHome();
    try {
      await helmLogin(home, 'helm3');
      const dest = home.folder('keep');
      await home.helm('helm3', ['pull', `oci://${host}/roost-test/redis-test`, '--version', '1.0.0', '--plain-http', '--destination', dest]);
      await home.helm('helm3', ['push', `${dest}/redis-test-1.0.0.tgz`, `oci://${host}/kept`, '--plain-http']);
    } finally {
      home.remove();
    }
    expect(await chartKept()).toBe(true);
  });

  it('a new password updates the Secrets in place; the running registry takes it without a restart', async () => {
    const before = await lasting();
    const pod = await registryPod();
    const oldPassword = await stack.output('password', { showSecrets: true });
    await stack.set('password', 'Second-Passw0rd-for-the-suite', { secret: true });
    const steps = await stack.plannedSteps();
    // The generated password gives way to the one set: its RandomPassword goes.
    expect(changes(steps)).toEqual(['delete zot-registry-password', 'update zot-registry-htpasswd', 'update zot-registry-seed-credentials']);
    await stack.up();
    expect(await lasting()).toEqual(before);
    // The kubelet refreshes the mounted Secret on its sync; perch polls the file.
    await eventually('the new password accepted', async () => (await status('/v2/', basic('roost-test', 'Second-Passw0rd-for-the-suite'))) === 200, 180_000);
    expect(await status('/v2/', basic('roost-test', oldPassword))).toBe(401);
    const after = await registryPod();
    expect(after.metadata.uid).toBe(pod.metadata.uid);
    expect(after.status.containerStatuses[0].restartCount).toBe(0);
  });

  for (const [key, value] of [
    ['logLevel', 'debug'],
    ['anonymousRead', 'true'],
  ] as const) {
    it(`a new ${key} restarts the pod through the checksum, and replaces nothing`, async () => {
      const before = await lasting();
      const pod = await registryPod();
      await stack.set(key, value);
      const steps = await stack.plannedSteps();
      expect(changes(steps)).toEqual(['update zot-registry-config', 'update zot-registry-deployment']);
      await stack.up();
      expect(await lasting()).toEqual(before);
      const after = await restartedPod();
      expect(after.metadata.uid).not.toBe(pod.metadata.uid);
      expect(await chartKept()).toBe(true);
    });
  }

  it('with anonymousRead, anyone pulls and nobody anonymous pushes', async () => {
    expect(await status('/v2/roost-test/nginx-test/tags/list')).toBe(200);
    const push = await request(`${url}/v2/anonymous/blobs/uploads/`, { method: 'POST' });
    expect(push.status).toBe(401);
  });

  it('a new image tag rolls the pod onto it, and replaces nothing', async () => {
    const before = await lasting();
    await stack.set('registryImage', SECOND_IMAGE_TAG);
    const steps = await stack.plannedSteps();
    expect(changes(steps)).toEqual(['update zot-registry-deployment']);
    await stack.up();
    expect(await lasting()).toEqual(before);
    expect((await restartedPod()).spec.containers[0].image).toBe(SECOND_IMAGE_TAG);
    expect(await chartKept()).toBe(true);
  });

  it('authMode token: the pod restarts with a token key; helm logs in and pulls with Bearer tokens', async () => {
    const before = await lasting();
    await stack.set('anonymousRead', 'false');
    await stack.set('authMode', 'token');
    await stack.up();
    expect(await lasting()).toEqual(before);
    await restartedPod();
    const challenge = await request(`${url}/v2/`);
    expect(challenge.headers['www-authenticate']).toMatch(/^Bearer realm="[^"]+\/v2\/token"/);
    expect(await stack.output('tokenEndpoint')).toBe(`${url}/v2/token`);
    for (const helm of HELMS) {
      const home = makeHelmHome();
      try {
        await helmLogin(home, helm);
        await pullEverySeededChart(home, helm);
      } finally {
        home.remove();
      }
    }
    expect(await chartKept()).toBe(true);
    const result = await stack.preview(['--expect-no-changes']);
    expect(result.code).toBe(0);
  });

  for (const [label, key, value, expected] of [
    ['a namespace change', 'namespace', 'zot-registry-moved', /namespace changes from "zot-registry" to "zot-registry-moved"/],
    ['createNamespace true -> false', 'createNamespace', 'false', /createNamespace turns false/],
    ['a storage size change', 'storageSize', '20Gi', /storageSize changes from 10Gi to 20Gi/],
    ['a storage class change', 'storageClass', 'fast', /storageClass changes from the cluster default to "fast"/],
  ] as const) {
    it(`${label} is refused: preview and up name the claim that would be lost, and nothing changes`, async () => {
      const before = await lasting();
      await stack.set(key, value);
      const preview = await stack.preview([], { allowFailure: true });
      expect(preview.code).not.toBe(0);
      const said = preview.stdout + preview.stderr;
      expect(said).toMatch(expected);
      expect(said).toContain('the PersistentVolumeClaim "zot-registry-data" in namespace "zot-registry"');
      expect(said).toContain('pulumi config set allowDataLoss true');
      const up = await stack.up({ preview: true, allowFailure: true, timeoutMs: 180_000 });
      expect(up.code).not.toBe(0);
      expect(await lasting()).toEqual(before);
      expect(await chartKept()).toBe(true);
      await stack.unset(key);
      if (key === 'namespace') await stack.set('namespace', NAMESPACE);
    });
  }

  it('with allowDataLoss a namespace move goes ahead, and the fixed nodePort moves with the Service', async () => {
    await stack.set('allowDataLoss', 'true');
    await stack.set('namespace', 'zot-registry-moved');
    await stack.up();
    const service = (await cluster.kubectl.get('service', 'zot-registry-service', 'zot-registry-moved'))!;
    expect(service.spec.ports[0].nodePort).toBe(NODE_PORT);
    await eventually('the old namespace gone', async () => (await cluster.kubectl.get('namespace', NAMESPACE)) === undefined);
    await eventually('the moved registry answering on the same node port', async () => (await status('/readyz')) === 200);
    await stack.set('allowDataLoss', 'false');
  });

  it('a configuration mistake stops the preview with the key and the fix, in plain text', async () => {
    await stack.set('serviceType', 'Ingress');
    const result = await stack.preview([], { allowFailure: true });
    const said = result.stdout + result.stderr;
    expect(result.code).not.toBe(0);
    expect(said).toContain('Invalid config "serviceType": "Ingress"');
    expect(said).not.toContain('\u001b[');
    await stack.set('serviceType', 'NodePort');
  });

  it('pulumi destroy removes everything the stack made, and only that', async () => {
    await cluster.kubectl.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'perch-suite-bystander', namespace: 'default' }, data: { keep: 'me' } });
    await stack.destroy();
    expect(await cluster.kubectl.get('namespace', 'zot-registry-moved')).toBeUndefined();
    const left = await cluster.kubectl.list('all,configmaps,secrets,pvc,jobs', { selector: 'app.kubernetes.io/part-of=roost-registry' });
    expect(left.map((o) => `${(o as { kind?: string }).kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual([]);
    expect(await cluster.kubectl.get('configmap', 'perch-suite-bystander', 'default')).toBeDefined();
    expect(await cluster.kubectl.get('pv', 'perch-suite-data-1')).toBeDefined();
  });
});

describe('awaitLoadBalancer on a cluster without a load-balancer controller', { timeout: 600_000 }, () => {
  it('pulumi up ends within the bound, saying to set awaitLoadBalancer false or externalHost', async () => {
    await cluster.addVolume('perch-suite-data-3', '10Gi');
    const lb = new PulumiStack('cluster-suite-lb', cluster);
    try {
      await lb.init();
      await lb.setAll({ namespace: 'zot-registry-lb', serviceType: 'LoadBalancer', awaitLoadBalancer: 'true', loadBalancerTimeout: '30' });
      await lb.set('seedCharts[0]', 'redis-test@1.0.0', { path: true });
      const started = Date.now();
      const up = await lb.up({ allowFailure: true });
      const seconds = (Date.now() - started) / 1000;
      expect(up.code).not.toBe(0);
      // The Deployment's rollout, then the 30 s bound: far from the provider's 10 minutes.
      expect(seconds).toBeLessThan(240);
      const said = up.stdout + up.stderr;
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(join(ARTIFACTS, 'await-load-balancer-up.log'), said);
      expect(said).toContain('pulumi config set awaitLoadBalancer false');
      expect(said).toContain('externalHost');
    } finally {
      await lb.remove();
    }
  });
});
