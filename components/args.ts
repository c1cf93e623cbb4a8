/**
 * ZotRegistryArgs: what a caller (index.ts from stack config, or another Pulumi program)
 * gives the component. Every field is optional; components/defaults.ts has the defaults.
 * Values are plain (not Outputs) so they are validated while the program runs, before any
 * resource is registered, except the password, which stays a secret Output.
 */
import type * as pulumi from '@pulumi/pulumi';
import type { IdentityArgs } from './identity-keys';
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

/**
 * The bucket and its driver's settings when `storageDriver` is s3, gcs or azure. Each field
 * belongs to some drivers only (components/object-storage-keys.ts has the table, with the stack
 * config key of each); a field set for another driver is refused. Credentials are optional:
 * without them the driver uses the Pod's workload identity (`serviceAccountName`).
 */
export interface ObjectStorageArgs {
  /** s3, gcs: the bucket (required). */
  bucket?: string;
  /** s3, gcs, azure: a prefix inside the bucket the registry keeps everything under. */
  rootDirectory?: string;
  /** s3: the bucket's region (required; any name the server accepts for MinIO and the like). */
  region?: string;
  /** s3: an S3-compatible endpoint URL (MinIO, SeaweedFS, R2, ...); AWS when unset. */
  endpoint?: string;
  /** s3: path-style URLs (endpoint/bucket/key), which most S3-compatible servers need (default false). */
  forcePathStyle?: boolean;
  /** s3: HTTPS to the endpoint (default true). */
  secure?: boolean;
  /** s3: skip TLS certificate verification (default false). */
  skipVerify?: boolean;
  /** s3: access key id; give it with secretAccessKey, or neither (the AWS SDK's default chain). */
  accessKeyId?: pulumi.Input<string>;
  /** s3: secret access key. */
  secretAccessKey?: pulumi.Input<string>;
  /** gcs: a service-account key file's JSON; without it, Application Default Credentials. */
  credentialsJson?: pulumi.Input<string>;
  /** azure: the storage account (required). */
  accountName?: string;
  /** azure: the blob container (required). */
  container?: string;
  /** azure: the endpoint suffix of another cloud, e.g. core.chinacloudapi.cn (default core.windows.net). */
  realm?: string;
  /** azure: the account key; without it, the Pod's Azure identity (default_credentials). */
  accountKey?: pulumi.Input<string>;
}

/** Signing in with OpenID Connect or LDAP, and API keys: `oidc`, `ldap`, `apiKeys` (components/identity-keys.ts). */
export interface ZotRegistryArgs extends IdentityArgs {
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
  /**
   * Where the images live: `filesystem` (a PersistentVolumeClaim, default), or a bucket with
   * `s3`, `gcs` or `azure` (settings in `objectStorage`), which several replicas can share.
   */
  storageDriver?: string;
  /** The bucket and its driver's settings, for storageDriver s3, gcs or azure. */
  objectStorage?: ObjectStorageArgs;
  /** Registry Pods (default 1). More than one needs object storage. */
  replicas?: number;
  /** An existing ServiceAccount in the namespace the registry Pods run as (workload identity). */
  serviceAccountName?: string;
  /** PVC size (default 10Gi); filesystem storage only. */
  storageSize?: string;
  /** PVC storage class; the cluster default when unset; filesystem storage only. */
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
