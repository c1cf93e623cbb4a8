/**
 * What the component does when a key is left out. Pulumi.yaml declares the same defaults
 * for `pulumi config` (test/pulumi/stack-config.test.ts checks that they agree).
 */
import perchPackage from 'perch/package.json';
import { chartId, SEED_CHARTS } from 'perch/seed';

/** perch's image, tagged with registry-image/package.json's version (never `latest`). */
export const PERCH_IMAGE = `perch:${perchPackage.version}`;

/**
 * The region an S3-compatible server (MinIO, SeaweedFS, ...) is addressed with when the stack
 * names none: such servers ignore it, but requests are signed with one, and the registry and
 * distribution's s3 driver both take us-east-1 for it.
 */
export const S3_COMPATIBLE_REGION = 'us-east-1';

/** Every chart the seed command knows (DESIGN.md "The seed charts"), as `name@version`. */
export const DEFAULT_SEED_CHARTS: readonly string[] = Object.freeze(SEED_CHARTS.map(chartId));

export const DEFAULTS = Object.freeze({
  namespace: 'zot-registry',
  createNamespace: true,
  authMode: 'basic',
  anonymousRead: false,
  logLevel: 'info',
  registryImage: PERCH_IMAGE,
  seedImage: PERCH_IMAGE,
  serviceType: 'LoadBalancer',
  port: 5000,
  awaitLoadBalancer: true,
  loadBalancerTimeout: 300,
  storageDriver: 'filesystem',
  replicas: 1,
  // storageDriver s3 only: virtual-hosted URLs over HTTPS with verified certificates, as AWS wants.
  objectStorage: Object.freeze({ forcePathStyle: false, secure: true, skipVerify: false }),
  storageSize: '10Gi',
  allowDataLoss: false,
  username: 'roost-test',
  resources: Object.freeze({
    requests: Object.freeze({ cpu: '100m', memory: '128Mi' }),
    limits: Object.freeze({ cpu: '500m', memory: '512Mi' }),
  }),
  seedCharts: DEFAULT_SEED_CHARTS,
  localRegistryHosting: false,
});
