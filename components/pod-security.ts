/**
 * Security settings shared by the registry Pod and the seed Jobs: non-root with the image's
 * numeric USER, no privilege escalation, no capabilities, read-only root filesystem and the
 * runtime's default seccomp profile (the Kubernetes "restricted" Pod Security Standard).
 */
import type * as k8s from '@pulumi/kubernetes';
import { REGISTRY_UID } from './container-interface';

export function podSecurityContext(): k8s.types.input.core.v1.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: REGISTRY_UID,
    runAsGroup: REGISTRY_UID,
    // Volumes (the PVC, the projected Secret files) are group-owned by this id, so the
    // registry can write its storage and read 0440 Secret files.
    fsGroup: REGISTRY_UID,
    // Only chown the volume when its root does not match already: large registries start fast.
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function containerSecurityContext(): k8s.types.input.core.v1.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: REGISTRY_UID,
    runAsGroup: REGISTRY_UID,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
