/**
 * The resources the program registers for each kind of configuration, and the specs that
 * matter: the Pod's container interface and security, probes, the Service and the URL.
 */
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import perchPackage from 'perch/package.json';
import {
  CONFIG_DIR,
  CONFIG_PATH,
  DATA_DIR,
  HTPASSWD_FILE,
  REGISTRY_PORT,
  REGISTRY_UID,
  SECRET_DIR,
  TOKEN_KEY_FILE,
} from '../../components/container-interface';
import { CHECKSUM_ANNOTATION } from '../../components/registry-pod';
import { registryPodSpec, renderComponent, renderProgram, type Rendered } from './render';

const T = {
  namespace: 'kubernetes:core/v1:Namespace',
  configMap: 'kubernetes:core/v1:ConfigMap',
  secret: 'kubernetes:core/v1:Secret',
  pvc: 'kubernetes:core/v1:PersistentVolumeClaim',
  deployment: 'kubernetes:apps/v1:Deployment',
  service: 'kubernetes:core/v1:Service',
  job: 'kubernetes:batch/v1:Job',
  ingress: 'kubernetes:networking.k8s.io/v1:Ingress',
  httpRoute: 'kubernetes:gateway.networking.k8s.io/v1:HTTPRoute',
  password: 'random:index/randomPassword:RandomPassword',
  bytes: 'random:index/randomBytes:RandomBytes',
  component: 'roost:registry:ZotRegistry',
  guard: 'pulumi-nodejs:dynamic/storage:StorageGuard',
};

function inventory(rendered: Rendered<unknown>): string[] {
  return rendered.resources.map((r) => `${r.type} ${r.name}`).sort();
}

function container(rendered: Rendered<unknown>): Record<string, any> {
  return registryPodSpec(rendered).containers[0];
}

describe('resource set', () => {
  it('default config: namespace, config, credentials, storage, registry, service and four seed Jobs', async () => {
    const rendered = await renderProgram();
    expect(inventory(rendered)).toEqual(
      [
        `${T.component} zot-registry`,
        `${T.guard} zot-registry-storage-guard`,
        `${T.namespace} zot-registry-namespace`,
        `${T.configMap} zot-registry-config`,
        `${T.password} zot-registry-password`,
        `${T.bytes} zot-registry-htpasswd-salt`,
        `${T.secret} zot-registry-htpasswd`,
        `${T.secret} zot-registry-seed-credentials`,
        `${T.pvc} zot-registry-data`,
        `${T.deployment} zot-registry-deployment`,
        `${T.service} zot-registry-service`,
        `${T.job} zot-registry-seed-nginx-test-1.0.0`,
        `${T.job} zot-registry-seed-nginx-test-1.1.0`,
        `${T.job} zot-registry-seed-redis-test-1.0.0`,
        `${T.job} zot-registry-seed-multi-chart-1.0.0`,
      ].sort(),
    );
    const names = rendered.resources.filter((r) => r.type.startsWith('kubernetes:')).map((r) => [r.type, r.inputs.metadata.name]);
    expect(names).toContainEqual([T.namespace, 'zot-registry']);
    expect(names).toContainEqual([T.deployment, 'zot-registry']);
    expect(names).toContainEqual([T.service, 'zot-registry-service']);
    for (const r of rendered.resources.filter((r) => r.type.startsWith('kubernetes:') && r.type !== T.namespace)) {
      expect(r.inputs.metadata.namespace, `${r.type} ${r.name}`).toBe('zot-registry');
    }
  });

  it('authMode token: a token key from a random resource, in its own Secret', async () => {
    const rendered = await renderProgram({ config: { authMode: 'token' } });
    expect(inventory(rendered)).toContain(`${T.bytes} zot-registry-token-key`);
    expect(rendered.find(T.bytes, 'zot-registry-token-key').inputs.length).toBe(32);
    expect(Object.keys(rendered.secretData('zot-registry-token-key'))).toEqual([TOKEN_KEY_FILE]);
    expect(rendered.outputs.tokenEndpoint).toBe(`${rendered.outputs.registryUrl}/v2/token`);
  });

  it('basic mode has no token key and no tokenEndpoint output', async () => {
    const rendered = await renderProgram();
    expect(rendered.all(T.bytes).map((r) => r.name)).toEqual(['zot-registry-htpasswd-salt']);
    expect(rendered.outputs.tokenEndpoint).toBeUndefined();
  });

  it('htpasswd lines without a password: no random password, no seed Secret, no Jobs', async () => {
    const line = `roost-test:${bcrypt.hashSync('any-password', 5)}`;
    const rendered = await renderProgram({ config: { htpasswd: line }, secretKeys: ['htpasswd'] });
    const types = inventory(rendered).join('\n');
    expect(types).not.toContain(T.password);
    expect(types).not.toContain(T.bytes);
    expect(types).not.toContain(T.job);
    expect(types).not.toContain('seed-credentials');
    expect(rendered.secretData('zot-registry-htpasswd')[HTPASSWD_FILE]).toBe(`${line}\n`);
    expect(rendered.outputs.password).toBeUndefined();
    expect(rendered.outputs.seededCharts).toEqual([]);
  });

  it('htpasswd lines and a password: the seed Jobs run with that password', async () => {
    // Like `htpasswd -nbB roost-test s3cret-Passw0rd` (cost 5 keeps the test fast).
    const line = `roost-test:${bcrypt.hashSync('s3cret-Passw0rd', 5)}`;
    const rendered = await renderProgram({
      config: { htpasswd: line, password: 's3cret-Passw0rd' },
      secretKeys: ['htpasswd', 'password'],
    });
    expect(rendered.all(T.job)).toHaveLength(4);
    expect(rendered.secretData('zot-registry-seed-credentials').password).toBe('s3cret-Passw0rd');
  });

  it('an existing htpasswd Secret: none created, the Pod mounts the named one', async () => {
    const rendered = await renderProgram({ config: { htpasswdSecret: 'team-htpasswd', createNamespace: false } });
    expect(inventory(rendered).join('\n')).not.toContain('zot-registry-htpasswd');
    expect(inventory(rendered).join('\n')).not.toContain(T.namespace);
    expect(rendered.all(T.job)).toHaveLength(0);
    const volume = registryPodSpec(rendered).volumes.find((v: any) => v.name === 'secret');
    expect(volume.secret.secretName).toBe('team-htpasswd');
    expect(rendered.outputs.namespace).toBe('zot-registry');
  });

  it('seedCharts [] seeds nothing but keeps the password', async () => {
    const rendered = await renderProgram({ config: { seedCharts: [] } });
    expect(rendered.all(T.job)).toHaveLength(0);
    expect(inventory(rendered).join('\n')).not.toContain('seed-credentials');
    expect(rendered.outputs.password).toBeTypeOf('string');
  });

  it('toggles: Ingress, HTTPRoute and the KEP-1755 ConfigMap', async () => {
    const rendered = await renderProgram({
      config: {
        ingressHost: 'registry.example.com',
        ingressTlsSecret: 'registry-tls',
        ingressClassName: 'nginx',
        httpRouteHost: 'registry.gw.example.com',
        httpRouteParentRefs: ['infra/shared-gateway:https', 'local-gateway'],
        localRegistryHosting: true,
      },
    });
    const ingress = rendered.find(T.ingress).inputs;
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls).toEqual([{ hosts: ['registry.example.com'], secretName: 'registry-tls' }]);
    expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({ name: 'zot-registry-service', port: { name: 'registry' } });
    expect(ingress.metadata.annotations['nginx.ingress.kubernetes.io/proxy-body-size']).toBe('0');

    const route = rendered.find(T.httpRoute).inputs;
    expect(route.spec.hostnames).toEqual(['registry.gw.example.com']);
    expect(route.spec.parentRefs).toEqual([
      { name: 'shared-gateway', namespace: 'infra', sectionName: 'https' },
      { name: 'local-gateway' },
    ]);
    expect(route.spec.rules[0].backendRefs).toEqual([{ name: 'zot-registry-service', port: 5000 }]);

    const hosting = rendered.all(T.configMap).find((c) => c.inputs.metadata.name === 'local-registry-hosting')!;
    expect(hosting.inputs.metadata.namespace).toBe('kube-public');
    expect(hosting.inputs.data['localRegistryHosting.v1']).toContain('hostFromClusterNetwork: zot-registry-service.zot-registry.svc.cluster.local:5000');
    expect(hosting.inputs.data['localRegistryHosting.v1']).toContain('host: registry.example.com');
    expect(rendered.outputs.registryUrl).toBe('https://registry.example.com');
  });

  it('without toggles there is no Ingress, HTTPRoute or local-registry-hosting', async () => {
    const all = inventory(await renderProgram()).join('\n');
    expect(all).not.toContain(T.ingress);
    expect(all).not.toContain(T.httpRoute);
    expect(all).not.toContain('local-registry-hosting');
  });
});

describe('registry Deployment', () => {
  it('one replica, Recreate, args only, the versioned perch image pulled IfNotPresent', async () => {
    const rendered = await renderProgram();
    const spec = rendered.find(T.deployment).inputs.spec;
    expect(spec.replicas).toBe(1);
    expect(spec.strategy).toEqual({ type: 'Recreate' });
    const c = container(rendered);
    expect(c.args).toEqual(['serve', CONFIG_PATH]);
    expect(c.command).toBeUndefined();
    expect(c.image).toBe(`perch:${perchPackage.version}`);
    expect(c.image).not.toMatch(/:latest$/);
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.ports).toEqual([{ name: 'registry', containerPort: REGISTRY_PORT, protocol: 'TCP' }]);
    // The Service selects the registry Pods only (not the seed Jobs' Pods).
    expect(spec.selector.matchLabels['app.kubernetes.io/component']).toBe('registry');
    expect(spec.template.metadata.labels).toMatchObject(spec.selector.matchLabels);
  });

  it('security: non-root 65532, no escalation, read-only root, no capabilities, RuntimeDefault seccomp', async () => {
    const rendered = await renderProgram();
    const pod = registryPodSpec(rendered);
    expect(REGISTRY_UID).toBe(65532);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: REGISTRY_UID,
      runAsGroup: REGISTRY_UID,
      fsGroup: REGISTRY_UID,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container(rendered).securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: REGISTRY_UID,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('resources: defaults 100m/128Mi requests and 500m/512Mi limits, overridable', async () => {
    expect(container(await renderProgram()).resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '512Mi' },
    });
    const custom = await renderProgram({ config: { cpuRequest: '250m', memoryLimit: '1Gi' } });
    expect(container(custom).resources).toEqual({
      requests: { cpu: '250m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '1Gi' },
    });
  });

  it('probes: /startupz, /readyz and /livez on port 5000 over HTTP', async () => {
    const c = container(await renderProgram());
    expect(c.startupProbe.httpGet).toEqual({ path: '/startupz', port: REGISTRY_PORT, scheme: 'HTTP' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: REGISTRY_PORT, scheme: 'HTTP' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/livez', port: REGISTRY_PORT, scheme: 'HTTP' });
    // Start-up gets longer than liveness would allow, so a slow start is not a restart loop.
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThan(
      c.livenessProbe.periodSeconds * c.livenessProbe.failureThreshold,
    );
  });

  it('mounts: config and secrets as directories (never subPath), the PVC and a writable /tmp', async () => {
    const rendered = await renderProgram();
    const pod = registryPodSpec(rendered);
    const mounts = container(rendered).volumeMounts;
    expect(mounts).toEqual([
      { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
      { name: 'secret', mountPath: SECRET_DIR, readOnly: true },
      { name: 'data', mountPath: DATA_DIR },
      { name: 'tmp', mountPath: '/tmp' },
    ]);
    expect(JSON.stringify(rendered.find(T.deployment).inputs)).not.toContain('subPath');
    const volumes = Object.fromEntries(pod.volumes.map((v: any) => [v.name, v]));
    expect(volumes.config.configMap.name).toBe('zot-registry-config');
    expect(volumes.secret.secret.secretName).toBe('zot-registry-htpasswd');
    expect(volumes.data.persistentVolumeClaim.claimName).toBe('zot-registry-data');
    expect(volumes.tmp.emptyDir).toBeDefined();
  });

  it('token mode: one projected volume joins htpasswd and token.key at /secret', async () => {
    const pod = registryPodSpec(await renderProgram({ config: { authMode: 'token' } }));
    const volume = pod.volumes.find((v: any) => v.name === 'secret');
    expect(volume.secret).toBeUndefined();
    expect(volume.projected.sources).toEqual([
      { secret: { name: 'zot-registry-htpasswd', items: [{ key: HTPASSWD_FILE, path: HTPASSWD_FILE }] } },
      { secret: { name: 'zot-registry-token-key', items: [{ key: TOKEN_KEY_FILE, path: TOKEN_KEY_FILE }] } },
    ]);
  });

  it('the checksum annotation follows the config and the token key', async () => {
    const checksum = async (config: Record<string, any>, mocks = {}) =>
      registryPodTemplateAnnotations(await renderProgram({ config, mocks }))[CHECKSUM_ANNOTATION];
    const basic = await checksum({});
    expect(basic).toMatch(/^[0-9a-f]{64}$/);
    expect(await checksum({ logLevel: 'debug' })).not.toBe(basic);
    const token = await checksum({ authMode: 'token' });
    expect(token).not.toBe(basic);
    expect(await checksum({ authMode: 'token' }, { tokenKeyHex: 'cd'.repeat(32) })).not.toBe(token);
  });

  it('the PVC: 10Gi ReadWriteOnce by default, size and class from config, no await on binding', async () => {
    const pvc = (await renderProgram()).find(T.pvc).inputs;
    expect(pvc.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } });
    expect(pvc.metadata.annotations['pulumi.com/skipAwait']).toBe('true');
    const custom = (await renderProgram({ config: { storageSize: '50Gi', storageClass: 'fast-ssd' } })).find(T.pvc).inputs;
    expect(custom.spec.resources.requests.storage).toBe('50Gi');
    expect(custom.spec.storageClassName).toBe('fast-ssd');
  });

  it('upstream zot as registryImage (basic mode): same Pod interface, no perch keys, seed image stays perch', async () => {
    const zot = 'ghcr.io/project-zot/zot:v2.1.20';
    const rendered = await renderProgram({ config: { registryImage: zot } });
    const perch = await renderProgram();
    const c = container(rendered);
    expect(c.image).toBe(zot);
    const { image: _a, ...zotContainer } = c;
    const { image: _b, ...perchContainer } = container(perch);
    expect(zotContainer).toEqual(perchContainer);
    expect(JSON.parse(rendered.configMapData('zot-registry-config')['config.json']!).perch).toBeUndefined();
    for (const job of rendered.all(T.job)) {
      expect(job.inputs.spec.template.spec.containers[0].image).toBe(`perch:${perchPackage.version}`);
    }
  });
});

function registryPodTemplateAnnotations(rendered: Rendered<unknown>): Record<string, string> {
  return rendered.find(T.deployment).inputs.spec.template.metadata.annotations;
}

describe('Service and registryUrl', () => {
  it('default: LoadBalancer on 5000, awaited; the load balancer IP becomes the URL', async () => {
    const rendered = await renderProgram({ mocks: { loadBalancer: { ip: '192.0.2.10' } } });
    const svc = rendered.find(T.service).inputs;
    expect(svc.spec.type).toBe('LoadBalancer');
    expect(svc.spec.ports).toEqual([{ name: 'registry', port: 5000, targetPort: 'registry', protocol: 'TCP' }]);
    expect(svc.spec.selector['app.kubernetes.io/component']).toBe('registry');
    expect(svc.metadata.annotations).toBeUndefined();
    expect(rendered.outputs.registryUrl).toBe('http://192.0.2.10:5000');
    expect(rendered.outputs.healthCheckUrl).toBe('http://192.0.2.10:5000/readyz');
    expect(rendered.outputs.helmLoginCommand).toBe('helm registry login 192.0.2.10:5000 --username roost-test --password-stdin --plain-http');
    expect(rendered.outputs.seededCharts).toContain('oci://192.0.2.10:5000/roost-test/nginx-test:1.0.0');
  });

  it('a load balancer with a host name (cloud LBs)', async () => {
    const rendered = await renderProgram({ mocks: { loadBalancer: { hostname: 'lb-123.elb.example.com' } } });
    expect(rendered.outputs.registryUrl).toBe('http://lb-123.elb.example.com:5000');
  });

  it('LoadBalancer without an address yet: the in-cluster DNS name', async () => {
    const rendered = await renderProgram({ config: { awaitLoadBalancer: false } });
    expect(rendered.find(T.service).inputs.metadata.annotations).toEqual({ 'pulumi.com/skipAwait': 'true' });
    expect(rendered.outputs.registryUrl).toBe('http://zot-registry-service.zot-registry.svc.cluster.local:5000');
  });

  it('externalHost wins over the load balancer: http://<host>:<port>', async () => {
    const rendered = await renderProgram({
      config: { externalHost: '10.0.0.106', port: 8080 },
      mocks: { loadBalancer: { ip: '192.0.2.10' } },
    });
    expect(rendered.find(T.service).inputs.spec.ports[0].port).toBe(8080);
    expect(rendered.find(T.service).inputs.spec.ports[0].targetPort).toBe('registry');
    expect(rendered.outputs.registryUrl).toBe('http://10.0.0.106:8080');
    // Inside the cluster the Service port counts too: the seed Jobs push there.
    expect(rendered.outputs.inClusterUrl).toBe('http://zot-registry-service.zot-registry.svc.cluster.local:8080');
    for (const job of rendered.all(T.job)) {
      expect(job.inputs.spec.template.spec.containers[0].args).toContain('http://zot-registry-service.zot-registry.svc.cluster.local:8080');
    }
  });

  it('NodePort: externalHost with the allocated node port, or the configured one', async () => {
    const allocated = await renderProgram({ config: { serviceType: 'NodePort', externalHost: '10.0.0.106' }, mocks: { allocatedNodePort: 31555 } });
    expect(allocated.find(T.service).inputs.spec.type).toBe('NodePort');
    expect(allocated.outputs.registryUrl).toBe('http://10.0.0.106:31555');
    const fixed = await renderProgram({ config: { serviceType: 'NodePort', externalHost: '10.0.0.106', nodePort: 30500 } });
    expect(fixed.find(T.service).inputs.spec.ports[0].nodePort).toBe(30500);
    expect(fixed.outputs.registryUrl).toBe('http://10.0.0.106:30500');
  });

  it('ClusterIP: the in-cluster DNS name', async () => {
    const rendered = await renderProgram({ config: { serviceType: 'ClusterIP', namespace: 'registry' } });
    expect(rendered.find(T.service).inputs.spec.type).toBe('ClusterIP');
    expect(rendered.outputs.registryUrl).toBe('http://zot-registry-service.registry.svc.cluster.local:5000');
    expect(rendered.outputs.namespace).toBe('registry');
  });

  it('an Ingress without TLS gives an http:// URL on the host', async () => {
    const rendered = await renderProgram({ config: { ingressHost: 'registry.example.com', awaitLoadBalancer: false } });
    expect(rendered.outputs.registryUrl).toBe('http://registry.example.com');
    expect(rendered.find(T.ingress).inputs.metadata.annotations['pulumi.com/skipAwait']).toBe('true');
  });
});

describe('the component', () => {
  it('is the parent of every resource it creates, and publishes its outputs with registerOutputs', async () => {
    const rendered = await renderProgram({
      config: { authMode: 'token', ingressHost: 'r.example.com', httpRouteHost: 'g.example.com', httpRouteParentRefs: ['gw'], localRegistryHosting: true },
    });
    // urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>
    const children = rendered.urns.filter((urn) => urn.split('::')[2] !== T.component);
    expect(children.length).toBe(rendered.resources.length - 1);
    for (const urn of children) expect(urn.split('::')[2]!.startsWith(`${T.component}$`), urn).toBe(true);
    expect(rendered.componentOutputKeys).toEqual(
      expect.arrayContaining(['registryUrl', 'username', 'password', 'namespace', 'healthCheckUrl', 'tokenEndpoint', 'helmLoginCommand', 'seededCharts']),
    );
  });

  it('renderComponent (for other suites) builds what the program builds from the same settings', async () => {
    const fromArgs = await renderComponent({ authMode: 'token', serviceType: 'NodePort', externalHost: '10.0.0.106' });
    const fromConfig = await renderProgram({ config: { authMode: 'token', serviceType: 'NodePort', externalHost: '10.0.0.106' } });
    const inputs = (r: Rendered<unknown>) => Object.fromEntries(r.resources.map((x) => [`${x.type} ${x.name}`, x.inputs]));
    expect(inputs(fromArgs)).toEqual(inputs(fromConfig));
    expect(fromArgs.outputs).toEqual({ ...fromConfig.outputs });
    expect(registryPodSpec(fromArgs).containers[0].args).toEqual(['serve', CONFIG_PATH]);
  });
});
