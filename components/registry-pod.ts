/**
 * The registry Pod template: perch's (and zot's) container interface made concrete. Pure: it
 * takes names and values and returns the spec, so tests and the containerd runs can read it.
 */
import type * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import {
  CONFIG_DIR,
  CONFIG_FILE,
  DATA_DIR,
  HTPASSWD_FILE,
  REGISTRY_PORT,
  SECRET_DIR,
  SERVE_ARGS,
  STORAGE_CREDENTIALS_DIR,
  TMP_DIR,
  TOKEN_KEY_FILE,
} from './container-interface';
import { IDENTITY_CHECKSUM_ANNOTATION, identityCredentialsMount, type IdentityPodInputs } from './identity-config';
import type { StorageCredentialRef } from './object-storage';
import { containerSecurityContext, podSecurityContext } from './pod-security';
import { registryProbes } from './probes';

type PodTemplateSpec = k8s.types.input.core.v1.PodTemplateSpec;
type Volume = k8s.types.input.core.v1.Volume;
type EnvVar = k8s.types.input.core.v1.EnvVar;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;

/** Annotation on the Pod template; a changed config or token key rolls the Deployment. */
export const CHECKSUM_ANNOTATION = 'checksum/config-and-token-key';
/** Annotation on the Pod template with object storage credentials; new credentials roll it. */
export const STORAGE_CREDENTIALS_CHECKSUM_ANNOTATION = 'checksum/storage-credentials';

/** Secret files: readable by the owner and the fsGroup (the registry), nobody else. */
const SECRET_FILE_MODE = 0o440;

export interface RegistryPodInputs {
  image: string;
  labels: Record<string, string>;
  configMapName: pulumi.Input<string>;
  htpasswdSecretName: pulumi.Input<string>;
  /** Token mode: the Secret holding token.key, projected beside htpasswd. */
  tokenKeySecretName?: pulumi.Input<string>;
  /** The claim behind storage.rootDirectory; unset with object storage, where an emptyDir is the scratch folder. */
  pvcName?: pulumi.Input<string>;
  /** Object storage credentials: their Secret, how each key reaches the container, and their checksum. */
  storageCredentials?: { secretName: pulumi.Input<string>; refs: StorageCredentialRef[]; checksum: pulumi.Input<string> };
  /** OpenID Connect / LDAP credentials files: their Secret, its keys and their checksum (components/identity-config.ts). */
  identityCredentials?: IdentityPodInputs;
  /** An existing ServiceAccount to run as (object storage through workload identity). */
  serviceAccountName?: string;
  resources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
  checksum: pulumi.Input<string>;
}

/**
 * /secret is one directory (never subPath: kubelet swaps a symlink on Secret updates and
 * subPath mounts never see them). In token mode a projected volume joins the two Secrets.
 */
function secretVolume(inputs: RegistryPodInputs): Volume {
  const htpasswd = { name: inputs.htpasswdSecretName, items: [{ key: HTPASSWD_FILE, path: HTPASSWD_FILE }] };
  if (inputs.tokenKeySecretName === undefined) {
    return { name: 'secret', secret: { secretName: htpasswd.name, items: htpasswd.items, defaultMode: SECRET_FILE_MODE } };
  }
  return {
    name: 'secret',
    projected: {
      defaultMode: SECRET_FILE_MODE,
      sources: [
        { secret: htpasswd },
        { secret: { name: inputs.tokenKeySecretName, items: [{ key: TOKEN_KEY_FILE, path: TOKEN_KEY_FILE }] } },
      ],
    },
  };
}

/**
 * Where storage.rootDirectory lives. With object storage the images are in the bucket and this
 * is scratch space only, on the node's ephemeral storage and gone with the Pod.
 */
function dataVolume(inputs: RegistryPodInputs): Volume {
  if (inputs.pvcName === undefined) return { name: 'data', emptyDir: {} };
  return { name: 'data', persistentVolumeClaim: { claimName: inputs.pvcName } };
}

/** Credentials given as environment variables, each from its key of the Secret. */
function credentialEnv(inputs: RegistryPodInputs): { env?: EnvVar[] } {
  const credentials = inputs.storageCredentials;
  const env = (credentials?.refs ?? [])
    .filter((ref) => ref.env !== undefined)
    .map((ref) => ({ name: ref.env!, valueFrom: { secretKeyRef: { name: credentials!.secretName, key: ref.key } } }));
  return env.length > 0 ? { env } : {};
}

/** Credentials given as files: the Secret mounted as a directory (never subPath, so updates arrive). */
function credentialFiles(inputs: RegistryPodInputs): { mounts: VolumeMount[]; volumes: Volume[] } {
  const credentials = inputs.storageCredentials;
  const files = (credentials?.refs ?? []).filter((ref) => ref.file !== undefined);
  if (files.length === 0) return { mounts: [], volumes: [] };
  return {
    mounts: [{ name: 'storage-credentials', mountPath: STORAGE_CREDENTIALS_DIR, readOnly: true }],
    volumes: [
      {
        name: 'storage-credentials',
        secret: {
          secretName: credentials!.secretName,
          items: files.map((ref) => ({ key: ref.key, path: ref.file! })),
          defaultMode: SECRET_FILE_MODE,
        },
      },
    ],
  };
}

export function registryPodTemplate(inputs: RegistryPodInputs): PodTemplateSpec {
  const files = credentialFiles(inputs);
  const identity = inputs.identityCredentials === undefined ? undefined : identityCredentialsMount(inputs.identityCredentials);
  return {
    metadata: {
      labels: inputs.labels,
      annotations: {
        [CHECKSUM_ANNOTATION]: inputs.checksum,
        ...(inputs.storageCredentials !== undefined
          ? { [STORAGE_CREDENTIALS_CHECKSUM_ANNOTATION]: inputs.storageCredentials.checksum }
          : {}),
        ...(inputs.identityCredentials !== undefined ? { [IDENTITY_CHECKSUM_ANNOTATION]: inputs.identityCredentials.checksum } : {}),
      },
    },
    spec: {
      // The registry never talks to the Kubernetes API. Workload identity does not need the
      // token either: IRSA, EKS Pod Identity and Azure's webhook project their own.
      automountServiceAccountToken: false,
      ...(inputs.serviceAccountName !== undefined ? { serviceAccountName: inputs.serviceAccountName } : {}),
      // No *_SERVICE_HOST variables: the registry reads only its config file.
      enableServiceLinks: false,
      securityContext: podSecurityContext(),
      containers: [
        {
          name: 'registry',
          image: inputs.image,
          imagePullPolicy: 'IfNotPresent',
          // args only, never command: the image's ENTRYPOINT stays, so zot's image runs too.
          args: [...SERVE_ARGS],
          ports: [{ name: 'registry', containerPort: REGISTRY_PORT, protocol: 'TCP' }],
          ...registryProbes(),
          ...credentialEnv(inputs),
          resources: inputs.resources,
          securityContext: containerSecurityContext(),
          volumeMounts: [
            { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
            { name: 'secret', mountPath: SECRET_DIR, readOnly: true },
            { name: 'data', mountPath: DATA_DIR },
            { name: 'tmp', mountPath: TMP_DIR },
            ...files.mounts,
            ...(identity !== undefined ? [identity.mount] : []),
          ],
        },
      ],
      volumes: [
        { name: 'config', configMap: { name: inputs.configMapName, items: [{ key: CONFIG_FILE, path: CONFIG_FILE }] } },
        secretVolume(inputs),
        dataVolume(inputs),
        // Uploads live on the data volume (on a PVC, the blobs' own filesystem, so finishing one
        // is a rename); /tmp only needs a little.
        { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
        ...files.volumes,
        ...(identity !== undefined ? [identity.volume] : []),
      ],
    },
  };
}
