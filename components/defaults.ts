/**
 * What the component does when a key is left out. Pulumi.yaml declares the same defaults
 * for `pulumi config` (test/pulumi/stack-config.test.ts checks that they agree).
 */
import perchPackage from 'perch/package.json';

/** perch's image, tagged with registry-image/package.json's version (never `latest`). */
export const PERCH_IMAGE = `perch:${perchPackage.version}`;

/** The request's charts (DESIGN.md "The seed charts"), as `name@version`. */
export const DEFAULT_SEED_CHARTS: readonly string[] = Object.freeze([
  'nginx-test@1.0.0',
  'nginx-test@1.1.0',
  'redis-test@1.0.0',
  'multi-chart@1.0.0',
]);

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
  storageSize: '10Gi',
  username: 'roost-test',
  resources: Object.freeze({
    requests: Object.freeze({ cpu: '100m', memory: '128Mi' }),
    limits: Object.freeze({ cpu: '500m', memory: '512Mi' }),
  }),
  seedCharts: DEFAULT_SEED_CHARTS,
  localRegistryHosting: false,
});
