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

/** Where clients reach the registry (externalHost, Ingress, load balancer, or in-cluster DNS). */
export const registryUrl = registry.registryUrl;
/** host[:port] for `helm registry login`, docker and oci:// references. */
export const registryHost = registry.registryHost;
export const username = registry.username;
/** Secret: shown only by `pulumi stack output --show-secrets password`. */
export const password = pulumi.secret(registry.password);
export const namespace = registry.namespace;
/** Answers 200 without credentials once storage is writable and the htpasswd file loaded. */
export const healthCheckUrl = registry.healthCheckUrl;
/** Token mode only: where clients trade Basic credentials for a Bearer token. */
export const tokenEndpoint = registry.tokenEndpoint;
/** Pipe the password in: `pulumi stack output --show-secrets password | <this command>`. */
export const helmLoginCommand = registry.helmLoginCommand;
/** oci:// references of the charts the seed Jobs pushed. */
export const seededCharts = registry.seededCharts;
/** The Service's address inside the cluster (what the seed Jobs use). */
export const inClusterUrl = registry.inClusterUrl;
