/**
 * The registry's probes. All three endpoints answer without credentials (DESIGN.md
 * "Container interface"); zot serves the same paths, so upstream zot's image passes them too.
 */
import type * as k8s from '@pulumi/kubernetes';
import { HEALTH_PATHS, REGISTRY_PORT } from './container-interface';

type Probe = k8s.types.input.core.v1.Probe;

function httpProbe(path: string): Pick<Probe, 'httpGet'> {
  return { httpGet: { path, port: REGISTRY_PORT, scheme: 'HTTP' } };
}

export interface RegistryProbes {
  startupProbe: Probe;
  readinessProbe: Probe;
  livenessProbe: Probe;
}

export function registryProbes(): RegistryProbes {
  return {
    // Start-up may scan storage and load the auth file: allow up to 2 minutes (60 x 2s)
    // before liveness takes over, instead of a long initialDelaySeconds on every restart.
    startupProbe: { ...httpProbe(HEALTH_PATHS.startup), periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 60 },
    // /readyz fails while storage is not writable or the htpasswd cannot be loaded, which
    // takes the Pod out of the Service without restarting it.
    readinessProbe: { ...httpProbe(HEALTH_PATHS.readiness), periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
    // /livez checks the process only (never storage): a full disk must not cause a restart loop.
    livenessProbe: { ...httpProbe(HEALTH_PATHS.liveness), periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
  };
}
