/**
 * resolveSettings: ZotRegistryArgs + defaults -> one checked, fully filled-in settings object.
 * Every rule a configuration must follow is here (where the images live and how many replicas:
 * components/storage-settings.ts), and each broken rule throws ConfigError naming the key and
 * what is allowed, while the program runs and before anything is created.
 */
import type * as pulumi from '@pulumi/pulumi';
import { chartId, SEED_CHARTS } from 'perch/seed';
import type { HttpRouteArgs, IngressArgs, ZotRegistryArgs } from './args';
import { ConfigError } from './config-error';
import { DEFAULTS } from './defaults';
import { parseHtpasswd, type HtpasswdEntry } from './htpasswd';
import { isPerchImage, pinnedImage } from './image-ref';
import { resolveIdentity, type IdentitySettings } from './identity-settings';
import { DEFAULT_NAMES, type ResourceNames, type SeedChart } from './names';
import { resolveStorage, type RegistryStorage } from './storage-settings';
import {
  byteQuantity,
  cpuQuantity,
  dnsLabel,
  dnsName,
  dnsSubdomain,
  hostWithOptionalPort,
  htpasswdUser,
  oneOf,
  portNumber,
  requestWithinLimit,
  wholeNumber,
} from './validators';
import type { AuthMode, LogLevel } from './zot-config';

export type ServiceType = 'LoadBalancer' | 'NodePort' | 'ClusterIP';
export const SERVICE_TYPES: readonly ServiceType[] = ['LoadBalancer', 'NodePort', 'ClusterIP'];
export const AUTH_MODES: readonly AuthMode[] = ['basic', 'token'];
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Where the htpasswd file comes from. */
export type HtpasswdSource =
  | { kind: 'generated' }
  | { kind: 'given'; entries: HtpasswdEntry[] }
  | { kind: 'existing-secret'; secretName: string };

/** Where the seed Jobs' password comes from; `none` means no seed Jobs. */
export type PasswordSource = 'stack' | 'random' | 'none';

export interface RegistrySettings {
  namespace: string;
  createNamespace: boolean;
  authMode: AuthMode;
  anonymousRead: boolean;
  logLevel: LogLevel;
  registryImage: string;
  seedImage: string;
  serviceType: ServiceType;
  port: number;
  nodePort?: number;
  awaitLoadBalancer: boolean;
  /** Seconds `pulumi up` waits for a load-balancer address (and an Ingress's admission). */
  loadBalancerTimeout: number;
  externalHost?: { host: string; port?: number };
  /** Where the images live: a PersistentVolumeClaim, or a bucket (components/storage-settings.ts). */
  storage: RegistryStorage;
  /** Registry Pods; more than one only with object storage. */
  replicas: number;
  /** An existing ServiceAccount the registry Pods run as; the namespace's default when unset. */
  serviceAccountName?: string;
  /** Go ahead with a change the storage guard would refuse (components/storage-guard.ts). */
  allowDataLoss: boolean;
  username: string;
  password?: pulumi.Input<string>;
  passwordSource: PasswordSource;
  htpasswd: HtpasswdSource;
  /** OpenID Connect and LDAP sign-in, API keys (components/identity-settings.ts). */
  identity: IdentitySettings;
  resources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
  /** Charts to seed, in the seed command's push order; empty when seeding is off or no password is known. */
  seedCharts: SeedChart[];
  localRegistryHosting: boolean;
  ingress?: IngressArgs;
  httpRoute?: HttpRouteArgs;
  names: ResourceNames;
}

/**
 * `name@version`, or `name` for every version of it, as the seed command's --chart takes it;
 * only charts the seed command carries (its catalogue, perch/seed SEED_CHARTS) can be seeded.
 */
export function parseSeedCharts(key: string, text: string): SeedChart[] {
  const at = text.lastIndexOf('@');
  const name = at >= 0 ? text.slice(0, at) : text;
  const version = at >= 0 ? text.slice(at + 1) : undefined;
  const matches = SEED_CHARTS.filter((c) => c.name === name && (version === undefined || c.version === version));
  if (matches.length === 0) {
    throw new ConfigError(
      key,
      `"${text}" is not one of the seed command's charts; use name@version or name from: ${SEED_CHARTS.map(chartId).join(', ')}`,
    );
  }
  return matches.map((c) => ({ name: c.name, version: c.version }));
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function resolveNames(overrides: Partial<ResourceNames> | undefined): ResourceNames {
  const names: ResourceNames = { ...DEFAULT_NAMES, ...overrides };
  for (const [field, value] of Object.entries(names)) {
    // Service names must also start with a letter (RFC 1035), the rest are subdomains.
    if (field === 'service' && !/^[a-z]/.test(value)) {
      throw new ConfigError(`names.service`, `"${value}" must start with a letter (Service names are RFC 1035 labels)`);
    }
    if (field === 'service' || field === 'deployment') dnsLabel(`names.${field}`, value);
    else dnsSubdomain(`names.${field}`, value);
  }
  return names;
}

function resolveIngress(ingress: IngressArgs | undefined): IngressArgs | undefined {
  if (ingress === undefined || nonEmpty(ingress.host) === undefined) return undefined;
  const resolved: IngressArgs = { host: dnsName('ingressHost', ingress.host) };
  const tlsSecret = nonEmpty(ingress.tlsSecret);
  if (tlsSecret !== undefined) resolved.tlsSecret = dnsSubdomain('ingressTlsSecret', tlsSecret);
  const className = nonEmpty(ingress.className);
  if (className !== undefined) resolved.className = dnsSubdomain('ingressClassName', className);
  return resolved;
}

function resolveHttpRoute(route: HttpRouteArgs | undefined): HttpRouteArgs | undefined {
  if (route === undefined || nonEmpty(route.host) === undefined) return undefined;
  if (route.parentRefs.length === 0) {
    throw new ConfigError(
      'httpRouteParentRefs',
      'is empty but httpRouteHost is set; name the Gateway to attach to, e.g. ["gateway-ns/my-gateway"] ' +
        '(an HTTPRoute needs a Gateway API implementation and its CRDs in the cluster: gateway.networking.k8s.io/v1)',
    );
  }
  return {
    host: dnsName('httpRouteHost', route.host),
    parentRefs: route.parentRefs.map((ref) => {
      const checked = { name: dnsSubdomain('httpRouteParentRefs', ref.name) } as HttpRouteArgs['parentRefs'][number];
      if (nonEmpty(ref.namespace) !== undefined) checked.namespace = dnsLabel('httpRouteParentRefs', ref.namespace!);
      if (nonEmpty(ref.sectionName) !== undefined) checked.sectionName = dnsSubdomain('httpRouteParentRefs', ref.sectionName!);
      return checked;
    }),
  };
}

export function resolveSettings(args: ZotRegistryArgs): RegistrySettings {
  const namespace = dnsLabel('namespace', nonEmpty(args.namespace) ?? DEFAULTS.namespace);
  const authMode = oneOf('authMode', nonEmpty(args.authMode) ?? DEFAULTS.authMode, AUTH_MODES);
  const logLevel = oneOf('logLevel', nonEmpty(args.logLevel) ?? DEFAULTS.logLevel, LOG_LEVELS);
  const serviceType = oneOf('serviceType', nonEmpty(args.serviceType) ?? DEFAULTS.serviceType, SERVICE_TYPES);
  const port = portNumber('port', args.port ?? DEFAULTS.port);

  const registryImageText = nonEmpty(args.registryImage) ?? DEFAULTS.registryImage;
  const registryImage = pinnedImage('registryImage', registryImageText);
  const seedImage = nonEmpty(args.seedImage) ?? DEFAULTS.seedImage;
  pinnedImage('seedImage', seedImage);
  if (authMode === 'token' && !isPerchImage(registryImage)) {
    throw new ConfigError(
      'authMode',
      `token mode needs perch: "${registryImageText}" is not a perch image and upstream zot refuses perch's token settings; ` +
        'use authMode basic with this image, or set registryImage to a perch image (…/perch:TAG)',
    );
  }

  let nodePort: number | undefined;
  if (args.nodePort !== undefined && args.nodePort !== 0) {
    if (serviceType === 'ClusterIP') {
      throw new ConfigError('nodePort', 'is set but serviceType is ClusterIP, which has no node port; use serviceType NodePort or LoadBalancer, or unset nodePort');
    }
    // Kubernetes' default --service-node-port-range; clusters that widen it are rare.
    nodePort = portNumber('nodePort', args.nodePort, 30000, 32767);
  }

  const externalHostText = nonEmpty(args.externalHost);
  const externalHost = externalHostText === undefined ? undefined : hostWithOptionalPort('externalHost', externalHostText);
  if (serviceType === 'NodePort' && externalHost === undefined) {
    throw new ConfigError(
      'externalHost',
      'is required with serviceType NodePort: a node port is only reachable at a node\'s address; set it to a node IP or DNS name (e.g. pulumi config set externalHost 10.0.0.106)',
    );
  }

  const { storage, replicas, serviceAccountName } = resolveStorage(args);

  const resources = {
    requests: {
      cpu: cpuQuantity('cpuRequest', nonEmpty(args.resources?.requests?.cpu) ?? DEFAULTS.resources.requests.cpu),
      memory: byteQuantity('memoryRequest', nonEmpty(args.resources?.requests?.memory) ?? DEFAULTS.resources.requests.memory),
    },
    limits: {
      cpu: cpuQuantity('cpuLimit', nonEmpty(args.resources?.limits?.cpu) ?? DEFAULTS.resources.limits.cpu),
      memory: byteQuantity('memoryLimit', nonEmpty(args.resources?.limits?.memory) ?? DEFAULTS.resources.limits.memory),
    },
  };
  requestWithinLimit('cpuRequest', resources.requests.cpu, resources.limits.cpu);
  requestWithinLimit('memoryRequest', resources.requests.memory, resources.limits.memory);

  const username = htpasswdUser('username', nonEmpty(args.username) ?? DEFAULTS.username);
  const htpasswdText = nonEmpty(args.htpasswd);
  const htpasswdSecretName = nonEmpty(args.htpasswdSecret);
  if (htpasswdText !== undefined && htpasswdSecretName !== undefined) {
    throw new ConfigError('htpasswdSecret', 'is set together with htpasswd; give either htpasswd lines or the name of an existing Secret, not both');
  }
  let htpasswd: HtpasswdSource = { kind: 'generated' };
  if (htpasswdText !== undefined) {
    const entries = parseHtpasswd('htpasswd', htpasswdText);
    if (!entries.some((e) => e.user === username)) {
      throw new ConfigError(
        'username',
        `"${username}" has no line in htpasswd (it has ${entries.map((e) => `"${e.user}"`).join(', ')}); set username to the user whose password the outputs and seed Jobs use`,
      );
    }
    htpasswd = { kind: 'given', entries };
  } else if (htpasswdSecretName !== undefined) {
    htpasswd = { kind: 'existing-secret', secretName: dnsSubdomain('htpasswdSecret', htpasswdSecretName) };
  }
  const passwordGiven = args.password !== undefined && args.password !== '';
  const passwordSource: PasswordSource = passwordGiven ? 'stack' : htpasswd.kind === 'generated' ? 'random' : 'none';

  const seedChartTexts = args.seedCharts ?? DEFAULTS.seedCharts;
  const chosen = new Set(seedChartTexts.flatMap((text) => parseSeedCharts('seedCharts', text)).map(chartId));
  // The seed command's push order: a chart's dependencies before the chart.
  const seedCharts = SEED_CHARTS.filter((c) => chosen.has(chartId(c))).map((c) => ({ name: c.name, version: c.version }));

  const settings: RegistrySettings = {
    namespace,
    createNamespace: args.createNamespace ?? DEFAULTS.createNamespace,
    authMode,
    anonymousRead: args.anonymousRead ?? DEFAULTS.anonymousRead,
    logLevel,
    registryImage: registryImageText,
    seedImage,
    serviceType,
    port,
    awaitLoadBalancer: args.awaitLoadBalancer ?? DEFAULTS.awaitLoadBalancer,
    loadBalancerTimeout: wholeNumber('loadBalancerTimeout', args.loadBalancerTimeout ?? DEFAULTS.loadBalancerTimeout, 10, 3600),
    storage,
    replicas,
    allowDataLoss: args.allowDataLoss ?? DEFAULTS.allowDataLoss,
    username,
    passwordSource,
    htpasswd,
    identity: resolveIdentity(args),
    resources,
    // Without a known password the Jobs could not log in (htpasswd/htpasswdSecret only).
    seedCharts: passwordSource === 'none' ? [] : seedCharts,
    localRegistryHosting: args.localRegistryHosting ?? DEFAULTS.localRegistryHosting,
    names: resolveNames(args.names),
  };
  if (nodePort !== undefined) settings.nodePort = nodePort;
  if (externalHost !== undefined) settings.externalHost = externalHost;
  if (serviceAccountName !== undefined) settings.serviceAccountName = serviceAccountName;
  if (passwordGiven) settings.password = args.password!;
  const ingress = resolveIngress(args.ingress);
  if (ingress !== undefined) settings.ingress = ingress;
  const httpRoute = resolveHttpRoute(args.httpRoute);
  if (httpRoute !== undefined) settings.httpRoute = httpRoute;
  return settings;
}
