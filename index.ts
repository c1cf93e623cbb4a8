/**
 * The Pulumi program: stack config -> one ZotRegistry -> stack outputs.
 *
 *   pulumi up
 *   pulumi stack output registryUrl
 *   pulumi stack output --show-secrets password
 *   pulumi destroy
 *
 * docs/pulumi.md explains every config key and output.
 */
import * as pulumi from '@pulumi/pulumi';
import { readStackConfig, ZotRegistry } from './components';

const registry = new ZotRegistry('zot-registry', readStackConfig(new pulumi.Config()));

/**
 * The stack outputs. One that does not apply to this stack (tokenEndpoint in basic mode,
 * password when the stack gave only htpasswd lines or an existing Secret) is left out rather
 * than exported as undefined, which Pulumi would warn about on every run.
 */
export = {
  /** Where clients reach the registry (externalHost, Ingress, load balancer, or in-cluster DNS). */
  registryUrl: registry.registryUrl,
  /** host[:port] for `helm registry login`, docker and oci:// references. */
  registryHost: registry.registryHost,
  username: registry.username,
  /** Secret: shown only by `pulumi stack output --show-secrets password`. */
  ...(registry.settings.passwordSource === 'none' ? {} : { password: pulumi.secret(registry.password) }),
  namespace: registry.namespace,
  /** Answers 200 without credentials once storage is writable and the htpasswd file loaded. */
  healthCheckUrl: registry.healthCheckUrl,
  /** Token mode only: where clients trade Basic credentials for a Bearer token. */
  ...(registry.tokenEndpoint === undefined ? {} : { tokenEndpoint: registry.tokenEndpoint }),
  /** Pipe the password in: `pulumi stack output --show-secrets password | <this command>`. */
  helmLoginCommand: registry.helmLoginCommand,
  /** oci:// references of the charts the seed Jobs pushed. */
  seededCharts: registry.seededCharts,
  /** The Service's address inside the cluster (what the seed Jobs use). */
  inClusterUrl: registry.inClusterUrl,
};
