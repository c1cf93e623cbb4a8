/**
 * A packed chart as the OCI artifact `helm push` makes of it (helm pkg/registry/client.go
 * `Push` and `tagManifest`, pkg/registry/chart.go `generateChartOCIAnnotations`):
 *   config  application/vnd.cncf.helm.config.v1+json: json.Marshal of the chart metadata
 *   layer   application/vnd.cncf.helm.chart.content.v1.tar+gzip: the .tgz
 *   manifest  {schemaVersion, config, layers, annotations}, sent as
 *             application/vnd.oci.image.manifest.v1+json; like Helm's, it has no mediaType
 *             field (the registry takes the type from Content-Type)
 *   tag     the chart version with "+" as "_" (OCI tags cannot hold "+")
 * The annotations are Helm's: description, title, version, url (home), created, source
 * (first of sources), authors (maintainers as "name (email), ..."), then the chart's own
 * annotations except title and version. `created` is CHART_TIME where Helm takes the archive
 * file's mtime, so pushing the same .tgz with `helm push` after setting its mtime to that
 * instant gives this very manifest.
 */
import { createHash } from 'node:crypto';
import { SEED_NAMESPACE } from './catalogue';
import { helmConfigJson, type ChartMetadata } from '../client/chart-metadata';
import { CHART_TIME } from './chart-time';
import { goJson } from '../client/go-json';
import { HELM_CHART_MEDIA_TYPE, HELM_CONFIG_MEDIA_TYPE, helmAnnotations, helmTag, rfc3339 } from '../client/helm-chart';
import type { PackedChart } from './pack';

export { HELM_CONFIG_MEDIA_TYPE, HELM_CHART_MEDIA_TYPE, HELM_MANIFEST_MEDIA_TYPE, helmAnnotations, helmTag } from '../client/helm-chart';

export interface Blob {
  mediaType: string;
  digest: string;
  size: number;
  data: Buffer;
}

export interface HelmArtifact {
  /** e.g. roost-test/nginx-test */
  repository: string;
  /** e.g. 1.0.0 (1.2.0+build.7 -> 1.2.0_build.7) */
  tag: string;
  config: Blob;
  layer: Blob;
  manifest: Buffer;
  manifestDigest: string;
}

export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function blob(mediaType: string, data: Buffer): Blob {
  return { mediaType, digest: sha256(data), size: data.length, data };
}

export function helmArtifact(chart: PackedChart, namespace: string = SEED_NAMESPACE): HelmArtifact {
  const config = blob(HELM_CONFIG_MEDIA_TYPE, Buffer.from(helmConfigJson(chart.metadata)));
  const layer = blob(HELM_CHART_MEDIA_TYPE, chart.archive);
  const descriptor = (b: Blob) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size });
  const manifest = Buffer.from(
    goJson({
      schemaVersion: 2,
      config: descriptor(config),
      layers: [descriptor(layer)],
      annotations: helmAnnotations(chart.metadata, rfc3339(CHART_TIME)),
    }),
  );
  return {
    repository: `${namespace}/${chart.name}`,
    tag: helmTag(chart.version),
    config,
    layer,
    manifest,
    manifestDigest: sha256(manifest),
  };
}
