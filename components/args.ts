/**
 * ZotRegistryArgs: what a caller (index.ts from stack config, or another Pulumi program)
 * gives the component. Every field is optional; components/defaults.ts has the defaults.
 * Values are plain (not Outputs) so they are validated while the program runs, before any
 * resource is registered, except the password, which stays a secret Output.
 */
import type * as pulumi from '@pulumi/pulumi';
import type { ResourceNames } from './names';

export interface ResourceAmounts {
  cpu?: string;
  memory?: string;
}

export interface IngressArgs {
  /** DNS name the Ingress routes to the registry. */
  host: string;
  /** A kubernetes.io/tls Secret in the namespace; turns the URL into https://. */
  tlsSecret?: string;
  /** spec.ingressClassName; the cluster's default class when unset. */
  className?: string;
}

export interface GatewayParentRef {
  name: string;
  namespace?: string;
  sectionName?: string;
}

export interface HttpRouteArgs {
  host: string;
  /** The Gateway(s) the route attaches to (Gateway API v1 parentRefs). */
  parentRefs: GatewayParentRef[];
}

export interface ZotRegistryArgs {
  /** Namespace for everything (default zot-registry). */
  namespace?: string;
  /** Create the namespace (default true); false uses an existing one. */
  createNamespace?: boolean;
  /** `basic` (htpasswd, default) or `token` (Bearer tokens from /v2/token; perch image only). */
  authMode?: string;
  /** Let anyone pull without credentials (zot accessControl anonymousPolicy). */
  anonymousRead?: boolean;
  /** `debug`, `info` (default), `warn` or `error`. */
  logLevel?: string;
  /** The registry image, pinned (default perch:<registry-image version>). */
  registryImage?: string;
  /** The image whose `seed` command pushes the charts; stays perch's when registryImage changes. */
  seedImage?: string;
  /** `LoadBalancer` (default), `NodePort` or `ClusterIP`. */
  serviceType?: string;
  /** The Service port (default 5000); the container always listens on 5000. */
  port?: number;
  /** Fixed node port for NodePort/LoadBalancer; unset lets Kubernetes pick one. */
  nodePort?: number;
  /** Wait for the load balancer's address during `pulumi up` (default true). */
  awaitLoadBalancer?: boolean;
  /**
   * How long `pulumi up` waits for the load balancer's address, in seconds (default 300); a
   * cluster without a load-balancer controller never gives one, and the run then fails.
   */
  loadBalancerTimeout?: number;
  /** Host (or host:port) users reach the registry at; required for NodePort. */
  externalHost?: string;
  /** PVC size (default 10Gi). */
  storageSize?: string;
  /** PVC storage class; the cluster default when unset. */
  storageClass?: string;
  /**
   * Let one `pulumi up` go ahead with a change that deletes the stored images (a new
   * namespace, createNamespace turned off, a new claim size or class); refused otherwise.
   */
  allowDataLoss?: boolean;
  /** htpasswd user (default roost-test). */
  username?: string;
  /** Password for `username`; a random one when unset (and no htpasswd/htpasswdSecret given). */
  password?: pulumi.Input<string>;
  /** Ready-made bcrypt htpasswd lines instead of a password. */
  htpasswd?: string;
  /** Name of an existing Secret (key `htpasswd`) in the namespace instead of a password. */
  htpasswdSecret?: string;
  /** Registry container requests and limits (default 100m/128Mi, 500m/512Mi). */
  resources?: { requests?: ResourceAmounts; limits?: ResourceAmounts };
  /** Charts the seed Jobs push, as `name@version` or `name` (all versions) from perch's catalogue; [] for none. */
  seedCharts?: readonly string[];
  /** Publish the KEP-1755 ConfigMap kube-public/local-registry-hosting. */
  localRegistryHosting?: boolean;
  ingress?: IngressArgs;
  httpRoute?: HttpRouteArgs;
  /** Override object names (defaults in components/names.ts). */
  names?: Partial<ResourceNames>;
}
