/**
 * Where users reach the registry, in this order:
 *   1. externalHost from config: http://<externalHost>:<nodePort for NodePort, else port>
 *      (or the port written in externalHost itself);
 *   2. the Ingress host: https:// with a TLS Secret, else http://;
 *   3. the load balancer's address (status.loadBalancer.ingress[0].ip, else .hostname);
 *   4. the in-cluster DNS name of the Service (reachable from Pods only).
 * HTTPRoute hosts are not guessed at: a Gateway's scheme and port are its own; set
 * externalHost for them.
 */
import type { IngressArgs } from './args';
import type { ServiceType } from './settings';

export interface UrlInputs {
  serviceType: ServiceType;
  port: number;
  /** The node port actually allocated (from the Service), for NodePort. */
  nodePort?: number;
  externalHost?: { host: string; port?: number };
  ingress?: IngressArgs;
  loadBalancer?: { ip?: string; hostname?: string };
  /** host:port inside the cluster. */
  inClusterHost: string;
}

export type UrlSource = 'externalHost' | 'ingress' | 'loadBalancer' | 'inCluster';

export interface RegistryUrl {
  url: string;
  source: UrlSource;
}

export function chooseRegistryUrl(inputs: UrlInputs): RegistryUrl {
  if (inputs.externalHost !== undefined) {
    const { host, port } = inputs.externalHost;
    const effectivePort = port ?? (inputs.serviceType === 'NodePort' ? inputs.nodePort : inputs.port);
    // NodePort before Kubernetes allocated one (preview) has no port yet: leave it off
    // rather than claim a wrong one.
    return { url: effectivePort === undefined ? `http://${host}` : `http://${host}:${effectivePort}`, source: 'externalHost' };
  }
  if (inputs.ingress !== undefined) {
    const scheme = inputs.ingress.tlsSecret !== undefined ? 'https' : 'http';
    return { url: `${scheme}://${inputs.ingress.host}`, source: 'ingress' };
  }
  if (inputs.serviceType === 'LoadBalancer') {
    const address = inputs.loadBalancer?.ip || inputs.loadBalancer?.hostname;
    if (address) {
      const host = address.includes(':') ? `[${address}]` : address;
      return { url: `http://${host}:${inputs.port}`, source: 'loadBalancer' };
    }
  }
  return { url: `http://${inputs.inClusterHost}`, source: 'inCluster' };
}

/** The registry's host[:port], as helm, docker and oci:// references name it. */
export function registryHost(url: string): string {
  return new URL(url).host;
}

/**
 * `helm registry login` for the registry, reading the password from stdin so it never lands
 * in shell history or the stack outputs. Plain-HTTP registries need --plain-http (Helm 3.13+
 * and Helm 4; Helm treats only localhost as plain HTTP on its own).
 */
export function helmLoginCommand(url: string, username: string): string {
  const plain = new URL(url).protocol === 'http:' ? ' --plain-http' : '';
  return `helm registry login ${registryHost(url)} --username ${username} --password-stdin${plain}`;
}
