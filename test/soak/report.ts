/**
 * The soak's report: the verdict, a row per operation (count, errors, p50, p99), what the
 * server's GC did, the refusals the model expected, the RSS and descriptor series, the
 * growth after warm-up against the bounds, and the first errors in full.
 */
import { percentile } from '../bench/stats';
import type { SoakResult } from './run';

const MiB = 2 ** 20;

/**
 * How much the server may grow between the quiet sample after warm-up and the quiet sample at
 * the end (both with the workload paused and our connections closed, so they compare the
 * same state). A leak breaks them; noise does not:
 *
 * - **RSS: less than 64 MiB.** Under this workload RSS climbs from ~90 MiB to a working level
 *   of ~170-200 MiB as V8's heap and the allocator's arenas reach the size the load needs
 *   (blobs up to 4 MiB streaming through eight connections, GC inventories), then holds: the
 *   3-minute runs here stayed between 176 and 212 MiB from their first minute on. How soon it
 *   gets there depends on how many requests the machine managed, so the growth between the
 *   quiet samples at 60 s and at the end was +7 to +21 MiB in the runs here, +26 with V8
 *   coverage on (as under `npm test`), and up to +40 when measured from 30 s, hence the 60 s
 *   warm-up. A leak of 5 KiB per request (12,000 or more requests after warm-up even on a busy
 *   machine), or of any blob's or chunk's buffer (thousands of blobs, 600 MiB or more through),
 *   passes 64 MiB.
 * - **Open descriptors: at most 10 more.** In both quiet samples the server holds its
 *   listening socket, stdio, and V8's and libuv's own descriptors (23 in every run here), and
 *   nothing for our closed connections; no upload or blob file stays open between requests.
 *   The margin covers a socket whose close has not reached the server yet and the folders a
 *   collection has open at that instant. A descriptor leaked per request, upload, blob or
 *   collection run (tens to tens of thousands over a run) passes it.
 */
export const BOUNDS = { rssGrowthMiB: 64, fdGrowth: 10 } as const;

export interface Growth {
  rssMiB: number;
  fds: number;
  /** The highest RSS sampled under load after warm-up. */
  peakRssMiB: number;
}

export function growthAfterWarmup(result: SoakResult): Growth | undefined {
  const { warmup, end } = result;
  if (!warmup || !end) return undefined;
  const after = result.samples.filter((s) => s.atS >= warmup.atS);
  return {
    rssMiB: (end.rssBytes - warmup.rssBytes) / MiB,
    fds: end.fds - warmup.fds,
    peakRssMiB: Math.max(...after.map((s) => s.rssBytes)) / MiB,
  };
}

/** Everything that must be zero: unexpected answers and failed requests, and the server's error log lines. */
export function totalErrors(result: SoakResult): number {
  return result.errorCount + result.log.errorLines;
}

/** Why the run failed, or an empty list. */
export function verdict(result: SoakResult): string[] {
  const problems: string[] = [];
  if (result.errorCount) problems.push(`${result.errorCount} errors`);
  if (result.log.errorLines) problems.push(`${result.log.errorLines} error lines in the server's log`);
  const growth = growthAfterWarmup(result);
  if (growth && growth.rssMiB >= BOUNDS.rssGrowthMiB) problems.push(`RSS grew ${growth.rssMiB.toFixed(1)} MiB after warm-up (bound ${BOUNDS.rssGrowthMiB} MiB)`);
  if (growth && growth.fds > BOUNDS.fdGrowth) problems.push(`open descriptors grew by ${growth.fds} after warm-up (bound +${BOUNDS.fdGrowth})`);
  return problems;
}

/** A plain-text table; the columns in `left` are aligned left, the others (figures) right. */
function table(head: string[], rows: string[][], left: readonly number[] = [0]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (left.includes(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(v < 10 ? 1 : 0) : '-');
const mib = (bytes: number) => (bytes / MiB).toFixed(1);

export function renderReport(result: SoakResult): string {
  const { options, gc, log } = result;
  const out: string[] = [];
  const problems = verdict(result);
  out.push(`perch soak: ${problems.length ? `FAILED (${problems.join('; ')})` : 'passed'}`);
  out.push(
    `ran ${result.ranS.toFixed(0)} s (asked ${options.minutes} min, stopped by ${result.stoppedBy}), ${options.concurrency} workers, seed ${options.seed}, ` +
      `${result.requests} requests (limit ${options.maxRequests}), ${(result.requests / Math.max(result.ranS, 1)).toFixed(0)} requests/s`,
  );
  out.push(`server: node ${result.nodeArgs.slice(0, -2).map((a) => a.replace(/^.*\/registry-image\//, 'registry-image/')).join(' ')} serve; ${result.serverExit}`);
  out.push(`errors: ${totalErrors(result)} (must be 0): ${result.errorCount} from the workload, ${log.errorLines} error lines in the server's log`);
  out.push('');

  const rows = [...result.ops.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, s]) => [name, String(s.durationsMs.length + s.errors), String(s.errors), ms(percentile(s.durationsMs, 50)), ms(percentile(s.durationsMs, 99))]);
  const all = [...result.ops.values()];
  rows.push(['all', String(all.reduce((n, s) => n + s.durationsMs.length + s.errors, 0)), String(all.reduce((n, s) => n + s.errors, 0)), '', '']);
  out.push(...table(['operation', 'count', 'errors', 'p50 ms', 'p99 ms'], rows));
  out.push('(an operation is all its requests: a push is a HEAD per blob, the uploads it needs and the manifest PUT; a pull is the manifest and every blob)');
  out.push('');

  out.push(
    `server GC (gcInterval ${gc.gcIntervalMs / 1000} s, gcDelay ${gc.gcDelayMs / 1000} s, uploadTTL ${gc.uploadTtlMs / 1000} s): ${log.gcRuns} runs, longest ${log.gcLongestMs.toFixed(0)} ms; removed ` +
      `${log.gc.manifestsRemoved} manifests, ${log.gc.blobsRemoved} blobs (${mib(log.gc.bytesFreed)} MiB), ${log.gc.linksRemoved} links, ${log.gc.uploadsPurged} uploads; kept ${log.gc.kept} that became young`,
  );
  out.push(`server log: ${log.lines} lines, ${Object.entries(log.levels).map(([level, n]) => `${level} ${n}`).join(', ')}`);
  out.push('');

  if (result.expected.size) {
    out.push('expected refusals and 404s (not errors: the model called for them):');
    for (const [what, n] of [...result.expected.entries()].sort((a, b) => b[1] - a[1])) out.push(`  ${String(n).padStart(6)}  ${what}`);
    out.push('');
  }

  out.push('server RSS and open descriptors:');
  const series = result.samples.map((s) => [
    `${s.atS.toFixed(0)} s`,
    mib(s.rssBytes),
    String(s.fds),
    String(s.requests),
    s.quiet ? `quiet (${s.quiet}: workers paused, connections closed)` : '',
  ]);
  out.push(...table(['time', 'RSS MiB', 'fds', 'requests', ''], series, [4]).map((l) => `  ${l}`));
  const growth = growthAfterWarmup(result);
  if (growth) {
    out.push(
      `growth after warm-up (quiet ${result.warmup!.atS.toFixed(0)} s -> quiet ${result.end!.atS.toFixed(0)} s): RSS ${growth.rssMiB >= 0 ? '+' : ''}${growth.rssMiB.toFixed(1)} MiB (bound < ${BOUNDS.rssGrowthMiB}), ` +
        `fds ${growth.fds >= 0 ? '+' : ''}${growth.fds} (bound <= +${BOUNDS.fdGrowth}); peak RSS under load after warm-up ${growth.peakRssMiB.toFixed(1)} MiB`,
    );
  } else {
    out.push('growth after warm-up: not measured (the run ended before its warm-up did)');
  }

  if (result.errors.length) {
    out.push('');
    out.push(`first ${result.errors.length} errors:`);
    for (const e of result.errors) out.push(`  [${e.atS.toFixed(1)} s] ${e.op}: ${e.message}`);
  }
  if (log.notable.length) {
    out.push('');
    out.push(`server warn/error lines (first ${Math.min(log.notable.length, 20)}):`);
    for (const line of log.notable.slice(0, 20)) out.push(`  ${line.length > 400 ? `${line.slice(0, 400)}...` : line}`);
  }
  return out.join('\n');
}
