/**
 * What a second `pulumi up` does, as far as the program decides it (the cluster suite in
 * test/cluster proves the rest on a real API server and node):
 * - the provider updates ConfigMaps and Secrets in place (Pulumi.yaml), so a new password or
 *   config.json never deletes and recreates the Deployment and the seed Jobs;
 * - a fixed node port survives a Service replacement (the old Service goes first);
 * - a change that would delete the stored images is refused by the storage guard, with a
 *   message naming what would be lost, unless allowDataLoss is set.
 */
import * as pulumi from '@pulumi/pulumi';
import { describe, expect, it } from 'vitest';
import { hintFor, HTTP_ROUTE_HINT, loadBalancerHint } from '../../components/failure-hints';
import { guardProvider, storageLossProblem, type StorageGuardInputs } from '../../components/storage-guard';
import { ZotRegistry } from '../../components/zot-registry';
import { providerConfig, renderProgram, startMocks } from './render';

const GUARD = 'pulumi-nodejs:dynamic/storage:StorageGuard';

const LOCATION: StorageGuardInputs = {
  namespace: 'zot-registry',
  claim: 'zot-registry-data',
  storageSize: '10Gi',
  storageClass: '',
  namespaceOwned: true,
  allowDataLoss: false,
};

describe('provider config', () => {
  it('Pulumi.yaml makes ConfigMaps and Secrets mutable for every stack', () => {
    expect(providerConfig()).toEqual({
      'kubernetes:enableConfigMapMutable': true,
      'kubernetes:enableSecretMutable': true,
    });
  });
});

/** Resource options the component gives its children, captured through a transformation. */
async function childOptions(args: ConstructorParameters<typeof ZotRegistry>[1]): Promise<Map<string, pulumi.CustomResourceOptions>> {
  await startMocks();
  const options = new Map<string, pulumi.CustomResourceOptions>();
  new ZotRegistry('zot-registry', args, {
    transformations: [
      (child) => {
        options.set(child.name, child.opts);
        return undefined;
      },
    ],
  });
  await pulumi.runtime.disconnect();
  return options;
}

describe('Service replacement', () => {
  it('with a fixed nodePort the old Service is deleted before the new one takes the port', async () => {
    const options = await childOptions({ serviceType: 'NodePort', externalHost: '10.0.0.106', nodePort: 30500 });
    expect(options.get('zot-registry-service')!.deleteBeforeReplace).toBe(true);
  });

  it('without one, Kubernetes picks a new port and the new Service comes first (no gap)', async () => {
    const options = await childOptions({ serviceType: 'NodePort', externalHost: '10.0.0.106' });
    expect(options.get('zot-registry-service')!.deleteBeforeReplace).toBe(false);
  });
});

describe('storage guard: the resource', () => {
  it('records where the images live, from the settings', async () => {
    const rendered = await renderProgram({ config: { namespace: 'charts', storageSize: '20Gi', storageClass: 'fast-ssd' } });
    const guard = rendered.find(GUARD);
    expect(guard.inputs).toMatchObject({
      namespace: 'charts',
      claim: 'zot-registry-data',
      storageSize: '20Gi',
      storageClass: 'fast-ssd',
      namespaceOwned: true,
      allowDataLoss: false,
    });
  });

  it('the namespace every child uses is the guard\'s output (nothing namespaced moves before its verdict)', async () => {
    const rendered = await renderProgram({ config: { createNamespace: false, namespace: 'team-a', allowDataLoss: true } });
    expect(rendered.find(GUARD).inputs).toMatchObject({ namespaceOwned: false, allowDataLoss: true });
    expect(rendered.all('kubernetes:core/v1:Namespace')).toEqual([]);
    for (const r of rendered.resources.filter((r) => r.type.startsWith('kubernetes:'))) {
      expect(r.inputs.metadata.namespace, `${r.type} ${r.name}`).toBe('team-a');
    }
  });
});

describe('storage guard: the verdict', () => {
  it('nothing moved: no problem, no change', async () => {
    expect(storageLossProblem(LOCATION, { ...LOCATION })).toBeUndefined();
    await expect(guardProvider.diff!('id', LOCATION, { ...LOCATION })).resolves.toMatchObject({ changes: false, replaces: [] });
  });

  it('a namespace change names the claim that would be deleted, how to undo it, and how to do it on purpose', () => {
    const problem = storageLossProblem(LOCATION, { ...LOCATION, namespace: 'registry' })!;
    expect(problem).toContain('namespace changes from "zot-registry" to "registry"');
    expect(problem).toContain('the PersistentVolumeClaim "zot-registry-data" in namespace "zot-registry"');
    expect(problem).toContain('pulumi config set namespace zot-registry');
    expect(problem).toContain('pulumi config set allowDataLoss true');
  });

  it('createNamespace turned off would delete the namespace the stack made', () => {
    const problem = storageLossProblem(LOCATION, { ...LOCATION, namespaceOwned: false })!;
    expect(problem).toContain('createNamespace turns false');
    expect(problem).toContain('deletes the namespace "zot-registry"');
    expect(problem).toContain('pulumi config set createNamespace true');
  });

  it('createNamespace turned on, over a namespace that exists, loses nothing here', () => {
    expect(storageLossProblem({ ...LOCATION, namespaceOwned: false }, LOCATION)).toBeUndefined();
  });

  it('a new size or class replaces the claim', () => {
    expect(storageLossProblem(LOCATION, { ...LOCATION, storageSize: '20Gi' })).toContain('storageSize changes from 10Gi to 20Gi');
    const toClass = storageLossProblem(LOCATION, { ...LOCATION, storageClass: 'fast' })!;
    expect(toClass).toContain('storageClass changes from the cluster default to "fast"');
    expect(toClass).toContain('pulumi config rm storageClass');
    expect(storageLossProblem({ ...LOCATION, storageClass: 'fast' }, LOCATION)).toContain('pulumi config set storageClass fast');
    expect(storageLossProblem(LOCATION, { ...LOCATION, claim: 'other' })).toContain('claim\'s name changes');
  });

  it('the provider refuses the diff, so the preview fails before anything changes', async () => {
    await expect(guardProvider.diff!('id', LOCATION, { ...LOCATION, namespace: 'registry' })).rejects.toThrow(
      /refusing to delete the stored images: namespace changes/,
    );
  });

  it('with allowDataLoss the change goes ahead as an update of the guard', async () => {
    const news = { ...LOCATION, namespace: 'registry', allowDataLoss: true };
    await expect(guardProvider.diff!('id', LOCATION, news)).resolves.toMatchObject({ changes: true, replaces: [] });
    await expect(guardProvider.update!('id', LOCATION, news)).resolves.toEqual({ outs: news });
    await expect(guardProvider.create(news)).resolves.toEqual({ id: 'registry/zot-registry-data', outs: news });
  });
});

describe('failure hints', () => {
  // The provider's own words when a LoadBalancer Service's wait runs out (pulumi-kubernetes
  // pkg/await/service.go), and when a kind has no CRD.
  const TIMED_OUT = [
    'resource "urn:...:Service::zot-registry-service" was successfully created, but the Kubernetes API server reported that it failed to fully initialize or become live: \'zot-registry-service\' timed out waiting to be Ready',
    'Service was not allocated an IP address; does your cloud provider support this?',
  ];

  it('a load-balancer wait that ran out is told what to set', () => {
    const message = hintFor(loadBalancerHint(30), TIMED_OUT.slice(0, 1))!;
    expect(message).toContain('not ready in 30 s (loadBalancerTimeout)');
    expect(hintFor(loadBalancerHint(30), TIMED_OUT.slice(1))).toBe(message);
    expect(message).toContain('pulumi config set awaitLoadBalancer false');
    expect(message).toContain('externalHost');
    expect(hintFor(loadBalancerHint(30), ['Service does not target any Pods.'])).toBeUndefined();
  });

  it('an HTTPRoute without the Gateway API CRDs is told to install them', () => {
    expect(hintFor(HTTP_ROUTE_HINT, ['no matches for kind "HTTPRoute" in version "gateway.networking.k8s.io/v1"'])).toContain('Gateway API CRDs');
    expect(hintFor(HTTP_ROUTE_HINT, ['admission webhook denied the request'])).toBeUndefined();
  });

  it('the component hooks them where they apply, and only there', async () => {
    const waiting = await childOptions({ serviceType: 'LoadBalancer', httpRoute: { host: 'r.example.com', parentRefs: [{ name: 'gw' }] } });
    expect(waiting.get('zot-registry-service')!.customTimeouts).toEqual({ create: '300s', update: '300s' });
    expect(waiting.get('zot-registry-service')!.hooks!.onError!.map((h) => h.name)).toEqual(['zot-registry-service-address']);
    expect(waiting.get('zot-registry-httproute')!.hooks!.onError!.map((h) => h.name)).toEqual(['zot-registry-httproute-crds']);
    const notWaiting = await childOptions({ serviceType: 'LoadBalancer', awaitLoadBalancer: false, externalHost: '10.0.0.106' });
    expect(notWaiting.get('zot-registry-service')!.hooks).toBeUndefined();
    expect(notWaiting.get('zot-registry-service')!.customTimeouts).toBeUndefined();
  });
});
