/**
 * perch's seed charts and the `perch seed` command's parts, for the CLI and for other code
 * (the Pulumi component imports SEED_ENV and parseSeedArgs; tests pack and inspect charts).
 */
export { SEED_ENV, SEED_USAGE, DEFAULT_TIMEOUT_MS, parseSeedArgs, selectCharts, parseDependencyRepository } from './args';
export type { SeedOptions, PasswordSource } from './args';
export { SEED_CHARTS, SEED_NAMESPACE, chartId, findSeedChart, defaultChartsDir, chartSourceDir } from './catalogue';
export type { SeedChartRef } from './catalogue';
export { CHART_TIME } from './chart-time';
export { parseChartYaml, helmConfigJson } from '../client/chart-metadata';
export type { ChartMetadata, ChartDependency } from '../client/chart-metadata';
export { lockDigest, chartLockYaml } from './chart-lock';
export { tar, tarHeader } from './tar';
export type { TarEntry } from './tar';
export { helmGzip } from './gzip';
export { ChartPacker, setDependencyRepositories } from './pack';
export type { PackedChart, PackOptions } from './pack';
export {
  HELM_CONFIG_MEDIA_TYPE,
  HELM_CHART_MEDIA_TYPE,
  HELM_MANIFEST_MEDIA_TYPE,
  helmArtifact,
  helmAnnotations,
  helmTag,
} from './helm-artifact';
export type { HelmArtifact, Blob } from './helm-artifact';
export { parseRegistryEndpoint, isLoopback } from '../client/registry-endpoint';
export type { RegistryEndpoint } from '../client/registry-endpoint';
export { parseChallenges } from '../client/auth-challenge';
export { RegistryClient } from './registry-client';
export type { Credentials } from './registry-client';
export { nodeTransport, ConnectionError } from '../client/http-transport';
export type { Transport, HttpRequest, HttpResponse } from '../client/http-transport';
export { SeedError } from './errors';
export type { SeedErrorKind } from './errors';
export { seed, buildArtifacts, describeResult } from './seed';
export type { SeedDeps, SeedResult } from './seed';
