/**
 * `perch/client`: the JavaScript client library for OCI registries (docs/client.md).
 * The pieces `perch seed` shares with it (transport, challenges, endpoint, Helm metadata) are
 * exported from `perch/seed` as before; this entry point is the library's public surface.
 */
export { RegistryClient, DEFAULT_ARTIFACT_TYPE, DEFAULT_FILE_MEDIA_TYPE, EMPTY_CONFIG_MEDIA_TYPE } from './registry-client';
export type { RegistryClientOptions, PushArtifactOptions, PushedArtifact, PulledArtifact, PulledFile, PushedChart, PulledChart } from './registry-client';
export type { FileInput, Descriptor } from './blobs';
export { RegistryError } from './errors';
export type { RegistryErrorKind } from './errors';
export type { OciErrorEntry } from './oci-errors';
export { HELM_CONFIG_MEDIA_TYPE, HELM_CHART_MEDIA_TYPE } from './helm-chart';
export type { ChartMetadata } from './chart-metadata';
