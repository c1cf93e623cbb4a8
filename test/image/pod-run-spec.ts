/**
 * Turns one container of a rendered Pod template into a `ctr run`, applying the rules a
 * kubelet applies, so the image runs exactly as the component's Deployment or Job describes:
 *
 * - argv: `command` replaces the image's ENTRYPOINT (and then the image's CMD is dropped);
 *   `args` replace the image's CMD; `$(VAR)` in either expands from the container's env and
 *   `$$` escapes it (Kubernetes "Define a Command and Arguments for a Container").
 * - env: literal values, Secret and ConfigMap keys, `envFrom`; the image's own ENV stays.
 * - securityContext: read-only root filesystem, no_new_privs (`allowPrivilegeEscalation:
 *   false`), dropped capabilities, RuntimeDefault seccomp; limits.memory and limits.cpu.
 *   `ctr run` cannot choose the user: the caller checks that the image's USER is runAsUser.
 * - volumes and mounts: pod-volumes.ts.
 *
 * What it cannot do it refuses with an error naming the field, rather than run something
 * that differs from the manifest.
 */
import type { BindMount, RunSpec } from './containerd';
import { dataOf, findObject, type Container, type KubeObject, type PodSpec, type Probe, type SecurityContext } from './kube-objects';
import { volumeMounts, type VolumeHosts } from './pod-volumes';

/** The parts of an OCI image config (`config` in the config blob) a kubelet uses. */
export interface ImageConfig {
  User?: string;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  ExposedPorts?: Record<string, object>;
  WorkingDir?: string;
}

export interface PodRunOptions {
  /** Which container of the Pod (default: the only one). */
  container?: string;
  /** Container id in containerd. */
  id: string;
  /** The image reference ctr pulled (the manifest's own `image`, as the node would use it). */
  image: string;
  imageConfig: ImageConfig;
  volumes: VolumeHosts;
  /** The namespace the Pod would be in (for `fieldRef: metadata.namespace`). */
  namespace: string;
  /** Mounts the kubelet adds itself, here /etc/hosts naming the Service. */
  extraMounts?: BindMount[];
}

export interface PodRun {
  spec: RunSpec;
  container: Container;
  /** Effective runAsUser/runAsGroup (container over Pod). */
  runAsUser?: number;
  runAsGroup?: number;
  probes: { startup?: Probe; readiness?: Probe; liveness?: Probe };
}

// ctr's (containerd's) default capability set; ctr has no "ALL", so drop: ALL drops these.
const CONTAINERD_DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

export function podRun(pod: PodSpec, options: PodRunOptions): PodRun {
  if (pod.initContainers?.length) throw new Error('the Pod has initContainers, which this test does not run yet');
  const container = options.container
    ? pod.containers.find((c) => c.name === options.container)
    : pod.containers.length === 1
      ? pod.containers[0]
      : undefined;
  if (!container) {
    throw new Error(`choose one of the Pod's containers: ${pod.containers.map((c) => c.name).join(', ')}`);
  }
  const env = containerEnv(container, options.volumes.objects, options.namespace);
  const security: SecurityContext = { ...pod.securityContext, ...container.securityContext };
  if (security.privileged) throw new Error(`container ${container.name} is privileged, which this test does not reproduce`);
  if (security.capabilities?.add?.length) throw new Error(`container ${container.name} adds capabilities, which this test does not reproduce`);
  const drop = security.capabilities?.drop ?? [];
  const capDrop = drop.includes('ALL') ? CONTAINERD_DEFAULT_CAPS : drop.map((c) => (c.startsWith('CAP_') ? c : `CAP_${c}`));
  const seccompType = security.seccompProfile?.type;
  if (seccompType && seccompType !== 'RuntimeDefault' && seccompType !== 'Unconfined') {
    throw new Error(`seccompProfile ${seccompType} is not reproduced by this test`);
  }
  const mounts = [...volumeMounts(pod, container.volumeMounts ?? [], options.volumes), ...(options.extraMounts ?? [])];
  const limits = container.resources?.limits ?? {};
  const spec: RunSpec = {
    image: options.image,
    id: options.id,
    argv: containerArgv(container, options.imageConfig, env),
    env,
    mounts,
    readOnlyRootfs: security.readOnlyRootFilesystem === true,
    netHost: true,
    capDrop,
    seccomp: seccompType === 'RuntimeDefault',
    allowNewPrivileges: security.allowPrivilegeEscalation !== false,
  };
  if (limits.memory) spec.memoryLimitBytes = quantityBytes(limits.memory);
  if (limits.cpu) spec.cpus = quantityCpus(limits.cpu);
  const run: PodRun = {
    spec,
    container,
    probes: { startup: container.startupProbe, readiness: container.readinessProbe, liveness: container.livenessProbe },
  };
  if (security.runAsUser !== undefined) run.runAsUser = security.runAsUser;
  if (security.runAsGroup !== undefined) run.runAsGroup = security.runAsGroup;
  return run;
}

/** The kubelet's argv: command/args over the image's ENTRYPOINT/CMD, with $(VAR) expanded. */
export function containerArgv(container: Container, image: ImageConfig, env: Record<string, string>): string[] {
  const expand = (words: string[]) => words.map((w) => expandVars(w, env));
  let argv: string[];
  if (container.command?.length) argv = [...expand(container.command), ...expand(container.args ?? [])];
  else if (container.args !== undefined) argv = [...(image.Entrypoint ?? []), ...expand(container.args)];
  else argv = [...(image.Entrypoint ?? []), ...(image.Cmd ?? [])];
  if (argv.length === 0) throw new Error(`container ${container.name}: neither the Pod nor the image says what to run`);
  return argv;
}

/** `$(NAME)` -> the variable's value when defined (kept as written otherwise); `$$` -> `$`. */
export function expandVars(word: string, env: Record<string, string>): string {
  return word.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (name === undefined) return '$';
    return name in env ? env[name]! : match;
  });
}

export function containerEnv(container: Container, objects: readonly KubeObject[], namespace: string): Record<string, string> {
  const env: Record<string, string> = {};
  const read = (kind: string, name: string, optional: boolean | undefined): Record<string, string> | undefined => {
    const object = findObject(objects, kind, name);
    if (!object && !optional) throw new Error(`container ${container.name} reads ${kind} "${name}", which the component did not render`);
    return object ? dataOf(object) : undefined;
  };
  for (const from of container.envFrom ?? []) {
    const data = from.secretRef
      ? read('Secret', from.secretRef.name, from.secretRef.optional)
      : from.configMapRef
        ? read('ConfigMap', from.configMapRef.name, from.configMapRef.optional)
        : undefined;
    for (const [k, v] of Object.entries(data ?? {})) env[`${from.prefix ?? ''}${k}`] = v;
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = expandVars(e.value, env);
    else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef;
      const value = read('Secret', ref.name, ref.optional)?.[ref.key];
      if (value === undefined && !ref.optional) throw new Error(`env ${e.name}: Secret "${ref.name}" has no key "${ref.key}"`);
      if (value !== undefined) env[e.name] = value;
    } else if (e.valueFrom?.configMapKeyRef) {
      const ref = e.valueFrom.configMapKeyRef;
      const value = read('ConfigMap', ref.name, ref.optional)?.[ref.key];
      if (value === undefined && !ref.optional) throw new Error(`env ${e.name}: ConfigMap "${ref.name}" has no key "${ref.key}"`);
      if (value !== undefined) env[e.name] = value;
    } else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') {
      env[e.name] = namespace;
    } else {
      throw new Error(`env ${e.name} comes from ${JSON.stringify(e.valueFrom)}, which this test cannot fill in`);
    }
  }
  return env;
}

const BYTE_SUFFIX: Record<string, number> = {
  '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40,
};

export function quantityBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  if (!m) throw new Error(`"${q}" is not a memory quantity this test understands`);
  return Math.round(Number(m[1]) * BYTE_SUFFIX[m[2] ?? '']!);
}

export function quantityCpus(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(q);
  if (!m) throw new Error(`"${q}" is not a CPU quantity this test understands`);
  return m[2] ? Number(m[1]) / 1000 : Number(m[1]);
}

/** The port number a probe or Service targets (a name is looked up in the container's ports). */
export function resolvePort(container: Container, port: number | string): number {
  if (typeof port === 'number') return port;
  const named = container.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`container ${container.name} has no port named "${port}"`);
  return named.containerPort;
}
