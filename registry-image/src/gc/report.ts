/** What a collection removed (or, in a dry run, would remove), and how it is printed. */
import type { ManifestReason } from './retention';

export type GcRemoval =
  | { kind: 'tag'; repository: string; tag: string; digest: string }
  | { kind: 'manifest'; repository: string; digest: string; reason: ManifestReason }
  | { kind: 'link'; repository: string; digest: string }
  | { kind: 'blob'; digest: string; size: number }
  | { kind: 'upload'; repository: string; id: string; size: number };

export interface GcReport {
  dryRun: boolean;
  startedMs: number;
  durationMs: number;
  blobsRemoved: number;
  /** Bytes of removed blobs and purged upload sessions. */
  bytesFreed: number;
  manifestsRemoved: number;
  uploadsPurged: number;
  linksRemoved: number;
  tagsRemoved: number;
  /** Planned removals skipped because something used them meanwhile (see gc/collector.ts). */
  kept: number;
  /** Everything removed, in the order it was removed. */
  removals: GcRemoval[];
  /** Set when this run did not collect: another replica holds the GC lease (who). */
  skippedFor?: string;
}

export function emptyReport(dryRun: boolean, startedMs: number): GcReport {
  return { dryRun, startedMs, durationMs: 0, blobsRemoved: 0, bytesFreed: 0, manifestsRemoved: 0, uploadsPurged: 0, linksRemoved: 0, tagsRemoved: 0, kept: 0, removals: [] };
}

export function record(report: GcReport, removal: GcRemoval): void {
  report.removals.push(removal);
  switch (removal.kind) {
    case 'tag':
      report.tagsRemoved++;
      break;
    case 'manifest':
      report.manifestsRemoved++;
      break;
    case 'link':
      report.linksRemoved++;
      break;
    case 'blob':
      report.blobsRemoved++;
      report.bytesFreed += removal.size;
      break;
    case 'upload':
      report.uploadsPurged++;
      report.bytesFreed += removal.size;
      break;
  }
}

/** One line per removal, without the verb: the same text for a dry run and a real one. */
export function describeRemoval(r: GcRemoval): string {
  switch (r.kind) {
    case 'tag':
      return `tag ${r.repository}:${r.tag} (${r.digest}; no keepTags rule keeps it)`;
    case 'manifest':
      return `manifest ${r.repository}@${r.digest} (${r.reason})`;
    case 'link':
      return `link ${r.repository} -> ${r.digest} (no manifest of ${r.repository} references it)`;
    case 'blob':
      return `blob ${r.digest} ${r.size} bytes (unreferenced)`;
    case 'upload':
      return `upload ${r.repository} ${r.id} ${r.size} bytes (abandoned)`;
  }
}

export function summarise(report: GcReport): string {
  const n = (count: number, one: string) => `${count} ${one}${count === 1 ? '' : 's'}`;
  const what = [n(report.blobsRemoved, 'blob'), n(report.manifestsRemoved, 'manifest'), n(report.tagsRemoved, 'tag'), n(report.linksRemoved, 'link'), n(report.uploadsPurged, 'upload')].join(', ');
  const kept = report.kept > 0 ? `; ${report.kept} kept because they came into use meanwhile` : '';
  return report.dryRun ? `would remove ${what}; would free ${report.bytesFreed} bytes` : `removed ${what}; freed ${report.bytesFreed} bytes${kept}`;
}
