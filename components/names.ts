/**
 * Kubernetes object names. In its own namespace the component names things as the request
 * does (`zot-registry` Deployment, `zot-registry-service` Service); each is overridable
 * through ZotRegistryArgs.names.
 */
import { createHash } from 'node:crypto';

export interface ResourceNames {
  deployment: string;
  service: string;
  configMap: string;
  htpasswdSecret: string;
  seedSecret: string;
  tokenKeySecret: string;
  pvc: string;
  /** Object storage credentials (only when the stack gives some). */
  objectStorageSecret: string;
  /** OpenID Connect / LDAP credentials files (only when the stack signs in with either). */
  identitySecret: string;
  /** Only with more than one replica. */
  podDisruptionBudget: string;
  ingress: string;
  httpRoute: string;
}

export const DEFAULT_NAMES: Readonly<ResourceNames> = Object.freeze({
  deployment: 'zot-registry',
  service: 'zot-registry-service',
  configMap: 'zot-registry-config',
  htpasswdSecret: 'zot-registry-htpasswd',
  seedSecret: 'zot-registry-seed-credentials',
  tokenKeySecret: 'zot-registry-token-key',
  pvc: 'zot-registry-data',
  objectStorageSecret: 'zot-registry-object-storage',
  identitySecret: 'zot-registry-identity',
  podDisruptionBudget: 'zot-registry',
  ingress: 'zot-registry',
  httpRoute: 'zot-registry',
});

/** The KEP-1755 ConfigMap tools such as Tilt and ctlptl read (kube-public/local-registry-hosting). */
export const LOCAL_REGISTRY_HOSTING = { namespace: 'kube-public', name: 'local-registry-hosting' } as const;

/** The cluster DNS domain; kubelet's default, which nearly every cluster keeps. */
export const CLUSTER_DOMAIN = 'cluster.local';

/** host:port of the Service inside the cluster (its `port`, default 5000); the seed Jobs push here. */
export function inClusterHost(service: string, namespace: string, port: number): string {
  return `${service}.${namespace}.svc.${CLUSTER_DOMAIN}:${port}`;
}

export interface SeedChart {
  name: string;
  version: string;
}

const MAX_NAME = 63;

/**
 * `seed-<chart>-<version>-<hash>`: the hash covers chart, version and seed image, so a changed
 * chart set or image makes new Jobs (a Job's pod template is immutable) while a rerun with the
 * same set keeps the same names and changes nothing. Fits the 63 characters a Job name may
 * have (it becomes the `job-name` label).
 */
export function seedJobName(chart: SeedChart, seedImage: string): string {
  const hash = createHash('sha256').update(`${chart.name}@${chart.version}\n${seedImage}`).digest('hex').slice(0, 8);
  const readable = `seed-${chart.name}-${chart.version}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-');
  const room = MAX_NAME - hash.length - 1;
  return `${readable.slice(0, room).replace(/-+$/, '')}-${hash}`;
}
