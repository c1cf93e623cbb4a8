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
  TMP_DIR,
  TOKEN_KEY_FILE,
} from './container-interface';
import { containerSecurityContext, podSecurityContext } from './pod-security';
import { registryProbes } from './probes';

type PodTemplateSpec = k8s.types.input.core.v1.PodTemplateSpec;
type Volume = k8s.types.input.core.v1.Volume;

/** Annotation on the Pod template; a changed config or token key rolls the Deployment. */
export const CHECKSUM_ANNOTATION = 'checksum/config-and-token-key';

/** Secret files: readable by the owner and the fsGroup (the registry), nobody else. */
const SECRET_FILE_MODE = 0o440;

export interface RegistryPodInputs {
  image: string;
  labels: Record<string, string>;
  configMapName: pulumi.Input<string>;
  htpasswdSecretName: pulumi.Input<string>;
  /** Token mode: the Secret holding token.key, projected beside htpasswd. */
  tokenKeySecretName?: pulumi.Input<string>;
  pvcName: pulumi.Input<string>;
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

export function registryPodTemplate(inputs: RegistryPodInputs): PodTemplateSpec {
  return {
    metadata: { labels: inputs.labels, annotations: { [CHECKSUM_ANNOTATION]: inputs.checksum } },
    spec: {
      // The registry never talks to the Kubernetes API.
      automountServiceAccountToken: false,
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
          resources: inputs.resources,
          securityContext: containerSecurityContext(),
          volumeMounts: [
            { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
            { name: 'secret', mountPath: SECRET_DIR, readOnly: true },
            { name: 'data', mountPath: DATA_DIR },
            { name: 'tmp', mountPath: TMP_DIR },
          ],
        },
      ],
      volumes: [
        { name: 'config', configMap: { name: inputs.configMapName, items: [{ key: CONFIG_FILE, path: CONFIG_FILE }] } },
        secretVolume(inputs),
        { name: 'data', persistentVolumeClaim: { claimName: inputs.pvcName } },
        // Uploads live on the PVC (same filesystem as the blobs); /tmp only needs a little.
        { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
      ],
    },
  };
}
