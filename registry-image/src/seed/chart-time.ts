/**
 * The one instant every seeded chart is stamped with: the mtime of each archive entry, the
 * Chart.lock `generated` field and the manifest's `org.opencontainers.image.created`
 * annotation. Helm takes these from the clock or the archive file's mtime
 * (pkg/chart/v2/util/save.go `writeToTar`, pkg/pusher/ocipusher.go); a constant instead makes
 * the bytes, and so the digests, depend on the chart sources alone. Change it only together
 * with the charts, if ever: every digest changes with it.
 */
export const CHART_TIME = new Date('2025-01-01T00:00:00Z');

export { rfc3339 } from '../client/helm-chart';
