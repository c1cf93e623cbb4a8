/**
 * Stack config -> ZotRegistryArgs. index.ts is the only caller; tests pass a recording reader
 * to learn which keys the program reads and compare them with what Pulumi.yaml declares.
 *
 * Pulumi.yaml config types are limited to string, integer, boolean and array, so structured
 * settings are flat keys here (cpuRequest, ingressHost, httpRouteParentRefs, and the
 * object-storage keys of components/object-storage-keys.ts). Every key has a default in
 * Pulumi.yaml (a declared key without one is required by the CLI), so an empty string or 0
 * means "not set".
 */
import type * as pulumi from '@pulumi/pulumi';
import type { GatewayParentRef, ObjectStorageArgs, ZotRegistryArgs } from './args';
import { ConfigError } from './config-error';
import { readIdentityKeys } from './identity-keys';
import { OBJECT_STORAGE_FIELDS, OBJECT_STORAGE_KEYS } from './object-storage-keys';

/** What the program needs from pulumi.Config; a test can hand in its own. */
export interface ConfigReader {
  get(key: string): string | undefined;
  /** Called only for keys that are set; the value stays a secret Output. */
  requireSecret(key: string): pulumi.Output<string>;
}

function text(config: ConfigReader, key: string): string | undefined {
  const value = config.get(key);
  return value === undefined || value === '' ? undefined : value;
}

function bool(config: ConfigReader, key: string): boolean | undefined {
  const value = text(config, key);
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ConfigError(key, `"${value}" is not a boolean; use true or false`);
}

function int(config: ConfigReader, key: string): number | undefined {
  const value = text(config, key);
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new ConfigError(key, `"${value}" is not a whole number`);
  return Number(value);
}

/** Arrays arrive as JSON text (`pulumi config set --path 'key[0]' value` writes one). */
function list(config: ConfigReader, key: string): string[] | undefined {
  const value = text(config, key);
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
    throw new ConfigError(key, `is not a list of strings; set items with: pulumi config set --path '${key}[0]' VALUE`);
  }
  return parsed as string[];
}

/** A key set with `--secret` (or not): only its presence is read in plain; the value stays a secret Output. */
function secret(config: ConfigReader, key: string): pulumi.Output<string> | undefined {
  return text(config, key) === undefined ? undefined : config.requireSecret(key);
}

/** The object-storage keys, named and typed in components/object-storage-keys.ts. */
function objectStorage(config: ConfigReader): ObjectStorageArgs {
  const args: Record<string, string | boolean | pulumi.Output<string>> = {};
  for (const field of OBJECT_STORAGE_FIELDS) {
    const { key, type } = OBJECT_STORAGE_KEYS[field];
    const value = type === 'boolean' ? bool(config, key) : type === 'secret' ? secret(config, key) : text(config, key);
    if (value !== undefined) args[field] = value;
  }
  return args as ObjectStorageArgs;
}

/** `[namespace/]name[:sectionName]`, one Gateway per list item. */
export function parseParentRef(key: string, value: string): GatewayParentRef {
  const match = /^(?:([^/:]+)\/)?([^/:]+)(?::([^/:]+))?$/.exec(value);
  if (!match) {
    throw new ConfigError(key, `"${value}" is not a Gateway reference; write [namespace/]name[:sectionName] (e.g. infra/shared-gateway:https)`);
  }
  const ref: GatewayParentRef = { name: match[2]! };
  if (match[1] !== undefined) ref.namespace = match[1];
  if (match[3] !== undefined) ref.sectionName = match[3];
  return ref;
}

export function readStackConfig(config: ConfigReader): ZotRegistryArgs {
  // Read every key unconditionally, so the set of keys the program reads is fixed.
  const raw = {
    namespace: text(config, 'namespace'),
    createNamespace: bool(config, 'createNamespace'),
    authMode: text(config, 'authMode'),
    anonymousRead: bool(config, 'anonymousRead'),
    logLevel: text(config, 'logLevel'),
    registryImage: text(config, 'registryImage'),
    seedImage: text(config, 'seedImage'),
    serviceType: text(config, 'serviceType'),
    port: int(config, 'port'),
    nodePort: int(config, 'nodePort'),
    awaitLoadBalancer: bool(config, 'awaitLoadBalancer'),
    loadBalancerTimeout: int(config, 'loadBalancerTimeout'),
    externalHost: text(config, 'externalHost'),
    storageDriver: text(config, 'storageDriver'),
    objectStorage: objectStorage(config),
    replicas: int(config, 'replicas'),
    serviceAccountName: text(config, 'serviceAccountName'),
    storageSize: text(config, 'storageSize'),
    storageClass: text(config, 'storageClass'),
    allowDataLoss: bool(config, 'allowDataLoss'),
    username: text(config, 'username'),
    // Presence only; the value itself is read as a secret below and never held in plain.
    passwordSet: text(config, 'password') !== undefined,
    htpasswd: text(config, 'htpasswd'),
    htpasswdSecret: text(config, 'htpasswdSecret'),
    cpuRequest: text(config, 'cpuRequest'),
    memoryRequest: text(config, 'memoryRequest'),
    cpuLimit: text(config, 'cpuLimit'),
    memoryLimit: text(config, 'memoryLimit'),
    seedCharts: list(config, 'seedCharts'),
    localRegistryHosting: bool(config, 'localRegistryHosting'),
    ingressHost: text(config, 'ingressHost'),
    ingressTlsSecret: text(config, 'ingressTlsSecret'),
    ingressClassName: text(config, 'ingressClassName'),
    httpRouteHost: text(config, 'httpRouteHost'),
    httpRouteParentRefs: list(config, 'httpRouteParentRefs'),
    // The oidc*, ldap* and apiKeys keys (components/identity-keys.ts), read with the helpers above.
    identity: readIdentityKeys({
      text: (key) => text(config, key),
      bool: (key) => bool(config, key),
      int: (key) => int(config, key),
      list: (key) => list(config, key),
      secret: (key) => secret(config, key),
    }),
  };

  const args: ZotRegistryArgs = {};
  const set = <K extends keyof ZotRegistryArgs>(key: K, value: ZotRegistryArgs[K] | undefined) => {
    if (value !== undefined) args[key] = value;
  };
  set('namespace', raw.namespace);
  set('createNamespace', raw.createNamespace);
  set('authMode', raw.authMode);
  set('anonymousRead', raw.anonymousRead);
  set('logLevel', raw.logLevel);
  set('registryImage', raw.registryImage);
  set('seedImage', raw.seedImage);
  set('serviceType', raw.serviceType);
  set('port', raw.port);
  set('nodePort', raw.nodePort);
  set('awaitLoadBalancer', raw.awaitLoadBalancer);
  set('loadBalancerTimeout', raw.loadBalancerTimeout);
  set('externalHost', raw.externalHost);
  set('storageDriver', raw.storageDriver);
  args.objectStorage = raw.objectStorage;
  set('replicas', raw.replicas);
  set('serviceAccountName', raw.serviceAccountName);
  set('storageSize', raw.storageSize);
  set('storageClass', raw.storageClass);
  set('allowDataLoss', raw.allowDataLoss);
  set('username', raw.username);
  if (raw.passwordSet) args.password = config.requireSecret('password');
  set('htpasswd', raw.htpasswd);
  set('htpasswdSecret', raw.htpasswdSecret);
  args.resources = {
    requests: { ...(raw.cpuRequest ? { cpu: raw.cpuRequest } : {}), ...(raw.memoryRequest ? { memory: raw.memoryRequest } : {}) },
    limits: { ...(raw.cpuLimit ? { cpu: raw.cpuLimit } : {}), ...(raw.memoryLimit ? { memory: raw.memoryLimit } : {}) },
  };
  set('seedCharts', raw.seedCharts);
  set('localRegistryHosting', raw.localRegistryHosting);
  Object.assign(args, raw.identity);
  if (raw.ingressHost !== undefined) {
    args.ingress = {
      host: raw.ingressHost,
      ...(raw.ingressTlsSecret !== undefined ? { tlsSecret: raw.ingressTlsSecret } : {}),
      ...(raw.ingressClassName !== undefined ? { className: raw.ingressClassName } : {}),
    };
  } else if (raw.ingressTlsSecret !== undefined || raw.ingressClassName !== undefined) {
    throw new ConfigError('ingressHost', 'is empty but ingressTlsSecret or ingressClassName is set; set the host the Ingress should route');
  }
  const parentRefs = (raw.httpRouteParentRefs ?? []).map((ref) => parseParentRef('httpRouteParentRefs', ref));
  if (raw.httpRouteHost !== undefined) {
    args.httpRoute = { host: raw.httpRouteHost, parentRefs };
  } else if (parentRefs.length > 0) {
    throw new ConfigError('httpRouteHost', 'is empty but httpRouteParentRefs is set; set the host name the HTTPRoute should match');
  }
  return args;
}
