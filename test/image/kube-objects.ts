/**
 * The few Kubernetes object shapes the image suite reads from what the Pulumi component
 * renders (plain JSON, as the resources' inputs): Pod templates, ConfigMaps, Secrets,
 * Services. Only the fields a kubelet would act on for these Pods are typed.
 */

export interface KubeMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface KubeObject {
  apiVersion?: string;
  kind: string;
  metadata: KubeMeta;
  [field: string]: unknown;
}

export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
  };
}

export interface EnvFromSource {
  prefix?: string;
  secretRef?: { name: string; optional?: boolean };
  configMapRef?: { name: string; optional?: boolean };
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

export interface HttpGetAction {
  path?: string;
  port: number | string;
  scheme?: string;
}

export interface Probe {
  httpGet?: HttpGetAction;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  initialDelaySeconds?: number;
}

export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  fsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type: string };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  volumeMounts?: VolumeMount[];
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
  securityContext?: SecurityContext;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  workingDir?: string;
}

export interface SecretVolumeSource {
  secretName: string;
  items?: KeyToPath[];
  defaultMode?: number;
  optional?: boolean;
}

export interface ConfigMapVolumeSource {
  name: string;
  items?: KeyToPath[];
  defaultMode?: number;
  optional?: boolean;
}

export interface Volume {
  name: string;
  secret?: SecretVolumeSource;
  configMap?: ConfigMapVolumeSource;
  projected?: {
    defaultMode?: number;
    sources: Array<{
      secret?: { name: string; items?: KeyToPath[]; optional?: boolean };
      configMap?: { name: string; items?: KeyToPath[]; optional?: boolean };
    }>;
  };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  emptyDir?: { medium?: string; sizeLimit?: string };
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  securityContext?: SecurityContext;
  restartPolicy?: string;
  automountServiceAccountToken?: boolean;
}

/** Deployment, Job: the Pod template is at spec.template. */
export function podTemplateOf(workload: KubeObject): PodSpec {
  const spec = (workload.spec as { template?: { spec?: PodSpec } } | undefined)?.template?.spec;
  if (!spec) throw new Error(`${workload.kind} ${workload.metadata.name} has no spec.template.spec`);
  return spec;
}

/** A Secret's or ConfigMap's entries as text (Secret `data` is base64; `stringData` wins, as the API server merges it). */
export function dataOf(object: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  const data = object.data as Record<string, string> | undefined;
  const binary = object.binaryData as Record<string, string> | undefined;
  const stringData = object.stringData as Record<string, string> | undefined;
  if (object.kind === 'Secret') {
    for (const [k, v] of Object.entries(data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  } else {
    Object.assign(out, data ?? {});
    for (const [k, v] of Object.entries(binary ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  }
  Object.assign(out, stringData ?? {});
  return out;
}

export function findObject(objects: readonly KubeObject[], kind: string, name: string): KubeObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}
