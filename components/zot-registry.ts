/**
 * ZotRegistry: the whole registry on Kubernetes as one Pulumi component.
 *
 *   StorageGuard (refuses a change that would delete the stored images; components/storage-guard.ts)
 *     │ the namespace name
 *   Namespace ─┬─ ConfigMap (config.json) ───────────────────┐
 *              ├─ Secret htpasswd (bcrypt) ─────────────────┐ │
 *              ├─ Secret token key (token mode) ───────────┐│ │
 *              ├─ PVC (filesystem storage) ───────────────┐││ │
 *              ├─ Secret object storage (bucket keys) ───┐│││ │
 *              ├─ Deployment ◄───────────────────────────┴┴┴┴─┘
 *              │    filesystem: 1 replica, Recreate; a bucket: `replicas`, RollingUpdate
 *              ├─ PodDisruptionBudget (a bucket and more than one replica)
 *              ├─ Service (LoadBalancer | NodePort | ClusterIP)
 *              ├─ Secret seed credentials ──► Jobs `perch seed`, one per chart (after the
 *              │                                Deployment is ready)
 *              └─ optional: Ingress, HTTPRoute, kube-public/local-registry-hosting
 *
 * All configuration is checked (components/settings.ts) before any child is created. What a
 * second `pulumi up` does to each of these is in docs/pulumi.md "What changes do".
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { SEED_ENV, SEED_NAMESPACE } from 'perch/seed';
import type { ZotRegistryArgs } from './args';
import { credentialsChecksum, restartChecksum } from './checksum';
import { ConfigError } from './config-error';
import { hintHook, HTTP_ROUTE_HINT, loadBalancerHint } from './failure-hints';
import { CONFIG_FILE, HEALTH_PATHS, HTPASSWD_FILE, TOKEN_KEY_FILE } from './container-interface';
import { objectStorageLocation, storageCredentials, storageDriverJson, workloadIdentityLabels } from './object-storage';
import { htpasswdLine, htpasswdMatches, htpasswdText, passwordProblem, SALT_BYTES } from './htpasswd';
import { identityAuthJson } from './identity-config';
import { identitySecret } from './identity-secret';
import { commonLabels, selectorLabels } from './labels';
import { localRegistryHostingData } from './local-registry-hosting';
import { inClusterHost, LOCAL_REGISTRY_HOSTING, seedJobName } from './names';
import { registryPodTemplate, type RegistryPodInputs } from './registry-pod';
import { disruptionBudgetSpec, registryRollout } from './rollout';
import { chooseRegistryUrl, helmLoginCommand, registryHost } from './registry-url';
import { SEED_SECRET_KEYS, seedArgs, seedJobSpec } from './seed-job';
import { resolveSettings, type RegistrySettings } from './settings';
import { StorageGuard } from './storage-guard';
import { zotConfigText } from './zot-config';

export const ZOT_REGISTRY_TYPE = 'roost:registry:ZotRegistry';

/** Length of a generated password: 32 letters and digits (~190 bits), safe in any shell. */
const GENERATED_PASSWORD_LENGTH = 32;
/** HMAC signing key for tokens: 32 random bytes, written as 64 hex characters. */
const TOKEN_KEY_BYTES = 32;

export class ZotRegistry extends pulumi.ComponentResource {
  /** The checked settings the component was built from. */
  readonly settings: RegistrySettings;
  readonly namespace: pulumi.Output<string>;
  /** Where users reach the registry (see components/registry-url.ts for the order). */
  readonly registryUrl: pulumi.Output<string>;
  /** host[:port] of registryUrl, as helm and oci:// references write it. */
  readonly registryHost: pulumi.Output<string>;
  /** http://<service>.<namespace>.svc.cluster.local:5000 */
  readonly inClusterUrl: string;
  readonly healthCheckUrl: pulumi.Output<string>;
  /** The token endpoint (token mode only). */
  readonly tokenEndpoint: pulumi.Output<string> | undefined;
  readonly username: pulumi.Output<string>;
  /** Secret. Undefined when the stack gave only htpasswd lines or an existing Secret. */
  readonly password: pulumi.Output<string | undefined>;
  readonly helmLoginCommand: pulumi.Output<string>;
  /** oci:// references of the charts the seed Jobs push. */
  readonly seededCharts: pulumi.Output<string[]>;

  readonly configMap: k8s.core.v1.ConfigMap;
  readonly htpasswdSecret: k8s.core.v1.Secret | undefined;
  readonly tokenKeySecret: k8s.core.v1.Secret | undefined;
  readonly seedSecret: k8s.core.v1.Secret | undefined;
  /** Filesystem storage only. */
  readonly pvc: k8s.core.v1.PersistentVolumeClaim | undefined;
  /** Object storage with credentials given only. */
  readonly objectStorageSecret: k8s.core.v1.Secret | undefined;
  /** OpenID Connect client or LDAP bind credentials only (components/identity-secret.ts). */
  readonly identitySecret: k8s.core.v1.Secret | undefined;
  readonly deployment: k8s.apps.v1.Deployment;
  /** Object storage with more than one replica only. */
  readonly podDisruptionBudget: k8s.policy.v1.PodDisruptionBudget | undefined;
  readonly service: k8s.core.v1.Service;
  readonly seedJobs: k8s.batch.v1.Job[];

  constructor(name: string, args: ZotRegistryArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    // Validate first: a bad configuration stops the program before anything is registered.
    const settings = resolveSettings(args);
    super(ZOT_REGISTRY_TYPE, name, {}, opts);
    this.settings = settings;
    const s = settings;
    const parent = { parent: this };
    const names = s.names;
    const labels = commonLabels(name);

    // ── Storage guard, then the Namespace ──────────────────────────────────────────────
    // The namespace name flows through the guard, so nothing namespaced is touched before it
    // has refused a change that would delete the stored images (components/storage-guard.ts).
    const storage = s.storage;
    const where =
      storage.driver === 'filesystem'
        ? { claim: names.pvc, storageSize: storage.size, storageClass: storage.class ?? '' }
        : { claim: '', storageSize: '', storageClass: '', objectStorage: objectStorageLocation(storage) };
    const guard = new StorageGuard(
      `${name}-storage-guard`,
      { namespace: s.namespace, ...where, namespaceOwned: s.createNamespace, allowDataLoss: s.allowDataLoss },
      parent,
    );
    if (s.createNamespace) {
      const ns = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: guard.namespace, labels } }, parent);
      this.namespace = ns.metadata.name;
    } else {
      this.namespace = guard.namespace;
    }
    const namespace = this.namespace;
    const inCluster = inClusterHost(names.service, s.namespace, s.port);
    this.inClusterUrl = `http://${inCluster}`;

    // ── Credentials ────────────────────────────────────────────────────────────────────
    this.username = pulumi.output(s.username);
    let password: pulumi.Output<string> | undefined;
    if (s.passwordSource === 'random') {
      password = new random.RandomPassword(
        `${name}-password`,
        { length: GENERATED_PASSWORD_LENGTH, special: false },
        parent,
      ).result;
    } else if (s.passwordSource === 'stack') {
      password = pulumi.secret(s.password!).apply((p) => {
        const problem = passwordProblem(p);
        if (problem !== undefined) {
          throw new ConfigError('password', `${problem}; set another with: pulumi config set --secret password ...`);
        }
        return p;
      });
    }
    this.password = pulumi.secret(password ?? pulumi.output(undefined));

    // The htpasswd file: generated from the password with a salt Pulumi keeps, or given.
    let htpasswdSecretName: pulumi.Input<string>;
    const htpasswdSource = s.htpasswd;
    if (htpasswdSource.kind === 'existing-secret') {
      this.htpasswdSecret = undefined;
      htpasswdSecretName = htpasswdSource.secretName;
    } else {
      let fileText: pulumi.Output<string>;
      if (htpasswdSource.kind === 'generated') {
        const salt = new random.RandomBytes(`${name}-htpasswd-salt`, { length: SALT_BYTES }, parent);
        fileText = pulumi
          .all([password!, salt.base64])
          .apply(([p, saltBase64]) => htpasswdText([htpasswdLine(s.username, p, saltBase64)]));
      } else {
        fileText = pulumi.output(htpasswdText(htpasswdSource.entries.map((e) => `${e.user}:${e.hash}`)));
      }
      this.htpasswdSecret = new k8s.core.v1.Secret(
        `${name}-htpasswd`,
        {
          metadata: { name: names.htpasswdSecret, namespace, labels },
          type: 'Opaque',
          stringData: { [HTPASSWD_FILE]: pulumi.secret(fileText) },
        },
        parent,
      );
      htpasswdSecretName = this.htpasswdSecret.metadata.name;
    }

    // ── Token signing key (token mode) ─────────────────────────────────────────────────
    let tokenKey: pulumi.Output<string> | undefined;
    if (s.authMode === 'token') {
      tokenKey = new random.RandomBytes(`${name}-token-key`, { length: TOKEN_KEY_BYTES }, parent).hex;
      this.tokenKeySecret = new k8s.core.v1.Secret(
        `${name}-token-key`,
        {
          metadata: { name: names.tokenKeySecret, namespace, labels },
          type: 'Opaque',
          stringData: { [TOKEN_KEY_FILE]: pulumi.secret(tokenKey) },
        },
        parent,
      );
    } else {
      this.tokenKeySecret = undefined;
    }

    // ── config.json ────────────────────────────────────────────────────────────────────
    const configText = zotConfigText({
      authMode: s.authMode,
      anonymousRead: s.anonymousRead,
      logLevel: s.logLevel,
      ...(storage.driver !== 'filesystem' ? { storageDriver: storageDriverJson(storage) } : {}),
      identity: identityAuthJson(s.identity),
    });
    // OpenID Connect / LDAP credentials files, in a Secret of their own, never in config.json.
    const identity = identitySecret({ name, secretName: names.identitySecret, namespace, labels, identity: s.identity }, parent);
    this.identitySecret = identity?.secret;
    this.configMap = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: { name: names.configMap, namespace, labels }, data: { [CONFIG_FILE]: configText } },
      parent,
    );

    // ── Storage ────────────────────────────────────────────────────────────────────────
    // Filesystem: a claim. Object storage: the bucket, and credentials (if the stack gave any)
    // in a Secret of their own, never in config.json.
    if (storage.driver === 'filesystem') {
      this.pvc = new k8s.core.v1.PersistentVolumeClaim(
        `${name}-data`,
        {
          metadata: {
            name: names.pvc,
            namespace,
            labels,
            // With a WaitForFirstConsumer storage class (kind, k3d, most clouds) the claim stays
            // Pending until the Pod exists, and the Pod waits for the claim: do not wait here;
            // the Deployment's readiness covers the volume.
            annotations: { 'pulumi.com/skipAwait': 'true' },
          },
          spec: {
            accessModes: ['ReadWriteOnce'],
            resources: { requests: { storage: storage.size } },
            ...(storage.class !== undefined ? { storageClassName: storage.class } : {}),
          },
        },
        parent,
      );
    } else {
      this.pvc = undefined;
    }
    const credentials = storage.driver === 'filesystem' ? [] : storageCredentials(storage);
    let podCredentials: Pick<RegistryPodInputs, 'storageCredentials'> = {};
    if (credentials.length > 0) {
      this.objectStorageSecret = new k8s.core.v1.Secret(
        `${name}-object-storage`,
        {
          metadata: { name: names.objectStorageSecret, namespace, labels },
          type: 'Opaque',
          stringData: Object.fromEntries(credentials.map((c) => [c.key, pulumi.secret(c.value)])),
        },
        parent,
      );
      podCredentials = {
        storageCredentials: {
          secretName: this.objectStorageSecret.metadata.name,
          // Names only: the values stay in the Secret.
          refs: credentials.map(({ value: _value, ...ref }) => ref),
          // A SHA-256 of high-entropy keys gives nothing away; left secret it would hide the
          // whole Deployment spec in every preview.
          checksum: pulumi.unsecret(
            pulumi.all(credentials.map((c) => c.value)).apply((values) => credentialsChecksum(credentials.map((c, i) => [c.key, values[i]!] as const))),
          ),
        },
      };
    } else {
      this.objectStorageSecret = undefined;
    }

    // ── Deployment ─────────────────────────────────────────────────────────────────────
    const registrySelector = selectorLabels(name, 'registry');
    const rollout = registryRollout(storage.driver !== 'filesystem', s.replicas);
    const checksum = tokenKey === undefined ? restartChecksum(configText, undefined) : tokenKey.apply((k) => restartChecksum(configText, k));
    this.deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { name: names.deployment, namespace, labels: commonLabels(name, 'registry') },
        spec: {
          // How many Pods and how they are replaced: components/rollout.ts.
          replicas: rollout.replicas,
          strategy: rollout.strategy,
          selector: { matchLabels: registrySelector },
          template: registryPodTemplate({
            image: s.registryImage,
            labels: { ...commonLabels(name, 'registry'), ...workloadIdentityLabels(storage) },
            configMapName: this.configMap.metadata.name,
            htpasswdSecretName,
            ...(this.tokenKeySecret !== undefined ? { tokenKeySecretName: this.tokenKeySecret.metadata.name } : {}),
            ...(this.pvc !== undefined ? { pvcName: this.pvc.metadata.name } : {}),
            ...podCredentials,
            ...(identity !== undefined ? { identityCredentials: identity.pod } : {}),
            ...(s.serviceAccountName !== undefined ? { serviceAccountName: s.serviceAccountName } : {}),
            resources: s.resources,
            checksum,
          }),
        },
      },
      parent,
    );

    const budget = disruptionBudgetSpec(rollout, registrySelector);
    this.podDisruptionBudget =
      budget === undefined
        ? undefined
        : new k8s.policy.v1.PodDisruptionBudget(
            `${name}-disruption-budget`,
            { metadata: { name: names.podDisruptionBudget, namespace, labels: commonLabels(name, 'registry') }, spec: budget },
            parent,
          );

    // ── Service ────────────────────────────────────────────────────────────────────────
    const skipAwait = s.serviceType === 'LoadBalancer' && !s.awaitLoadBalancer;
    // Waiting for an address is bounded (the provider's own limit is 10 minutes), and a wait
    // that runs out says what to set on a cluster that never gives one.
    const awaitAddress = s.serviceType === 'LoadBalancer' && s.awaitLoadBalancer;
    const wait = `${s.loadBalancerTimeout}s`;
    const addressWait: pulumi.CustomResourceOptions = awaitAddress
      ? {
          customTimeouts: { create: wait, update: wait },
          hooks: { onError: [hintHook(`${name}-service-address`, loadBalancerHint(s.loadBalancerTimeout))] },
        }
      : {};
    this.service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: {
          name: names.service,
          namespace,
          labels,
          ...(skipAwait ? { annotations: { 'pulumi.com/skipAwait': 'true' } } : {}),
        },
        spec: {
          type: s.serviceType,
          selector: registrySelector,
          ports: [
            {
              name: 'registry',
              port: s.port,
              targetPort: 'registry',
              protocol: 'TCP',
              ...(s.nodePort !== undefined ? { nodePort: s.nodePort } : {}),
            },
          ],
        },
      },
      // A fixed node port stays taken until the old Service is gone (a namespace move
      // replaces it), so the old one goes first.
      { parent: this, deleteBeforeReplace: s.nodePort !== undefined, ...addressWait },
    );

    // ── URLs ───────────────────────────────────────────────────────────────────────────
    this.registryUrl = pulumi
      .all([this.service.spec, this.service.status])
      .apply(([spec, status]) => {
        const ingress = status?.loadBalancer?.ingress?.[0];
        const nodePort = spec?.ports?.[0]?.nodePort;
        return chooseRegistryUrl({
          serviceType: s.serviceType,
          port: s.port,
          ...(nodePort !== undefined && nodePort !== null ? { nodePort } : {}),
          ...(s.externalHost !== undefined ? { externalHost: s.externalHost } : {}),
          ...(s.ingress !== undefined ? { ingress: s.ingress } : {}),
          ...(ingress !== undefined ? { loadBalancer: { ip: ingress.ip, hostname: ingress.hostname } } : {}),
          inClusterHost: inCluster,
        }).url;
      });
    this.registryHost = this.registryUrl.apply(registryHost);
    this.healthCheckUrl = pulumi.interpolate`${this.registryUrl}${HEALTH_PATHS.readiness}`;
    this.tokenEndpoint = s.authMode === 'token' ? pulumi.interpolate`${this.registryUrl}/v2/token` : undefined;
    this.helmLoginCommand = this.registryUrl.apply((url) => helmLoginCommand(url, s.username));

    // ── Seed Jobs ──────────────────────────────────────────────────────────────────────
    this.seedJobs = [];
    if (s.seedCharts.length > 0 && password !== undefined) {
      let seedPassword = password;
      if (htpasswdSource.kind === 'given') {
        // The stack gave both htpasswd lines and a password: they must agree, or every Job
        // would fail to log in after six slow retries.
        seedPassword = password.apply((p) => {
          if (!htpasswdMatches(htpasswdSource.entries, s.username, p)) {
            throw new ConfigError('password', `does not match the htpasswd line for "${s.username}"; set the password that line was made from, or leave password unset to skip seeding`);
          }
          return p;
        });
      }
      this.seedSecret = new k8s.core.v1.Secret(
        `${name}-seed-credentials`,
        {
          metadata: { name: names.seedSecret, namespace, labels: commonLabels(name, 'seed') },
          type: 'Opaque',
          stringData: {
            [SEED_SECRET_KEYS.username]: s.username,
            [SEED_SECRET_KEYS.password]: pulumi.secret(seedPassword),
          },
        },
        parent,
      );
      // Dependencies are fetched later by whoever installs the charts: through registryUrl.
      const dependencyRepository = pulumi.interpolate`oci://${this.registryHost}/${SEED_NAMESPACE}`;
      let previous: k8s.batch.v1.Job | undefined;
      for (const chart of s.seedCharts) {
        const args = dependencyRepository.apply((repo) =>
          seedArgs({ registry: this.inClusterUrl, chart, dependencyRepository: repo, insecure: true }),
        );
        const job = new k8s.batch.v1.Job(
          `${name}-seed-${chart.name}-${chart.version}`,
          {
            metadata: { name: seedJobName(chart, s.seedImage), namespace, labels: commonLabels(name, 'seed') },
            spec: seedJobSpec({
              image: s.seedImage,
              labels: commonLabels(name, 'seed'),
              args,
              secretName: this.seedSecret.metadata.name,
              env: SEED_ENV,
            }),
          },
          // The registry must be up before pushing, and the Jobs run one after another in the
          // seed command's push order (dependencies first), so nobody sees multi-chart before
          // the charts it depends on. A Job's pod template cannot change in place and its name
          // is fixed, so a replacement deletes the old Job first.
          {
            parent: this,
            dependsOn: previous === undefined ? [this.deployment, this.service] : [this.deployment, this.service, previous],
            deleteBeforeReplace: true,
          },
        );
        this.seedJobs.push(job);
        previous = job;
      }
    } else {
      this.seedSecret = undefined;
    }
    this.seededCharts = this.registryHost.apply((host) =>
      s.seedCharts.map((c) => `oci://${host}/${SEED_NAMESPACE}/${c.name}:${c.version}`),
    );

    // ── Optional routes ────────────────────────────────────────────────────────────────
    if (s.ingress !== undefined) {
      const ingress = s.ingress;
      new k8s.networking.v1.Ingress(
        `${name}-ingress`,
        {
          metadata: {
            name: names.ingress,
            namespace,
            labels,
            annotations: {
              // Blobs are large: ingress-nginx refuses bodies over 1 MiB unless told otherwise.
              'nginx.ingress.kubernetes.io/proxy-body-size': '0',
              ...(s.awaitLoadBalancer ? {} : { 'pulumi.com/skipAwait': 'true' }),
            },
          },
          spec: {
            ...(ingress.className !== undefined ? { ingressClassName: ingress.className } : {}),
            ...(ingress.tlsSecret !== undefined ? { tls: [{ hosts: [ingress.host], secretName: ingress.tlsSecret }] } : {}),
            rules: [
              {
                host: ingress.host,
                http: {
                  paths: [
                    {
                      path: '/',
                      pathType: 'Prefix',
                      backend: { service: { name: this.service.metadata.name, port: { name: 'registry' } } },
                    },
                  ],
                },
              },
            ],
          },
        },
        parent,
      );
    }
    if (s.httpRoute !== undefined) {
      const route = s.httpRoute;
      // Gateway API has no typed class in @pulumi/kubernetes: a CustomResource of the v1 kind.
      new k8s.apiextensions.CustomResource(
        `${name}-httproute`,
        {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'HTTPRoute',
          metadata: { name: names.httpRoute, namespace, labels },
          spec: {
            parentRefs: route.parentRefs,
            hostnames: [route.host],
            rules: [{ backendRefs: [{ name: this.service.metadata.name, port: s.port }] }],
          },
        },
        { parent: this, hooks: { onError: [hintHook(`${name}-httproute-crds`, HTTP_ROUTE_HINT)] } },
      );
    }
    if (s.localRegistryHosting) {
      new k8s.core.v1.ConfigMap(
        `${name}-local-registry-hosting`,
        {
          metadata: { name: LOCAL_REGISTRY_HOSTING.name, namespace: LOCAL_REGISTRY_HOSTING.namespace, labels },
          data: this.registryHost.apply((host) => localRegistryHostingData(host, inCluster)),
        },
        parent,
      );
    }

    this.registerOutputs({
      namespace: this.namespace,
      registryUrl: this.registryUrl,
      registryHost: this.registryHost,
      inClusterUrl: this.inClusterUrl,
      healthCheckUrl: this.healthCheckUrl,
      tokenEndpoint: this.tokenEndpoint,
      username: this.username,
      password: this.password,
      helmLoginCommand: this.helmLoginCommand,
      seededCharts: this.seededCharts,
    });
  }
}
