/**
 * What makes an OCI artifact a Helm chart, as `helm push` writes one (helm
 * pkg/registry/client.go `Push`, pkg/registry/chart.go `generateChartOCIAnnotations`):
 *   config  application/vnd.cncf.helm.config.v1+json: json.Marshal of the chart metadata
 *   layer   application/vnd.cncf.helm.chart.content.v1.tar+gzip: the .tgz
 *   manifest  application/vnd.oci.image.manifest.v1+json, without a mediaType field
 *   tag     the chart version with "+" as "_" (OCI tags cannot hold "+")
 * Shared by the client library's pushChart and by `perch seed`.
 */
import { OCI_MANIFEST } from '../oci/media-types';
import type { ChartMetadata } from './chart-metadata';
import { sortedMap } from './go-json';

export const HELM_CONFIG_MEDIA_TYPE = 'application/vnd.cncf.helm.config.v1+json';
export const HELM_CHART_MEDIA_TYPE = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
/** Helm's provenance file (`helm package --sign`), an optional second layer. */
export const HELM_PROVENANCE_MEDIA_TYPE = 'application/vnd.cncf.helm.chart.provenance.v1.prov';
export const HELM_MANIFEST_MEDIA_TYPE = OCI_MANIFEST;

/** Annotations Helm keeps for itself: a chart annotation cannot override them. */
const IMMUTABLE = new Set(['org.opencontainers.image.version', 'org.opencontainers.image.title']);

/** Helm's tag for a chart version: "+" (SemVer build metadata) is not allowed in OCI tags. */
export function helmTag(version: string): string {
  return version.replaceAll('+', '_');
}

/** RFC 3339 in UTC without fractions, as Go's time.RFC3339 formats a whole-second UTC time. */
export function rfc3339(date: Date): string {
  return new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Helm's manifest annotations: description, title, version, url (home), created, source
 * (first of sources), authors (maintainers as "name (email), ..."), then the chart's own
 * annotations except title and version; keys in Go's map order.
 */
export function helmAnnotations(meta: ChartMetadata, created: string): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (key: string, value: string | undefined) => {
    if (value !== undefined && value.trim() !== '') out[key] = value;
  };
  add('org.opencontainers.image.description', meta.description);
  add('org.opencontainers.image.title', meta.name);
  add('org.opencontainers.image.version', meta.version);
  add('org.opencontainers.image.url', meta.home);
  add('org.opencontainers.image.created', created);
  add('org.opencontainers.image.source', meta.sources?.[0]);
  if (meta.maintainers && meta.maintainers.length > 0) {
    add(
      'org.opencontainers.image.authors',
      meta.maintainers.map((m) => `${m.name ?? ''}${m.email ? ` (${m.email})` : ''}`).join(', '),
    );
  }
  for (const [key, value] of Object.entries(meta.annotations ?? {})) {
    if (!IMMUTABLE.has(key)) out[key] = value;
  }
  return sortedMap(out);
}
