/**
 * KEP-1755 "Communicating a local registry": a ConfigMap kube-public/local-registry-hosting
 * whose `localRegistryHosting.v1` key tells tools (Tilt, ctlptl, Skaffold) where to push and
 * what name the container runtime pulls by. Field names are the KEP's.
 */
import { stringify } from 'yaml';

export interface LocalRegistryHostingV1 {
  /** Where developers' tools push from outside the cluster. */
  host: string;
  /** The name the nodes' container runtime pulls by. */
  hostFromContainerRuntime: string;
  /** The name Pods use inside the cluster. */
  hostFromClusterNetwork: string;
  help: string;
}

export const LOCAL_REGISTRY_HOSTING_KEY = 'localRegistryHosting.v1';

export function localRegistryHostingData(
  externalHost: string,
  inClusterHost: string,
): Record<string, string> {
  const value: LocalRegistryHostingV1 = {
    host: externalHost,
    // Nodes resolve host names with their own resolver, not the cluster DNS, so the
    // runtime pulls by the external address, like developers do.
    hostFromContainerRuntime: externalHost,
    hostFromClusterNetwork: inClusterHost,
    help: 'https://github.com/kubernetes/enhancements/tree/master/keps/sig-cluster-lifecycle/generic/1755-communicating-a-local-registry',
  };
  return { [LOCAL_REGISTRY_HOSTING_KEY]: stringify(value) };
}
