/**
 * The benchmark's tables: one per scenario (or several), a row per figure, the median over the
 * runs with the range in brackets for ours, the peer and the ceiling, then the two ratios and
 * the goal with its verdict (ok / MISS; "-" when a side is missing). A table without any
 * ceiling figure (the object-storage and auth tables) leaves the ceiling's columns out.
 */
import { summarize, type Summary } from './stats';
import type { Results } from './harness';
import type { ServerKind } from './servers/types';

export interface Goal {
  text: string;
  /** true: met, false: missed, undefined: cannot tell (a side did not run). */
  check(values: Partial<Record<ServerKind, Summary>>): boolean | undefined;
}

export interface Row {
  label: string;
  unit: string;
  values: Partial<Record<ServerKind, Summary>>;
  goal?: Goal;
}

export interface Table {
  title: string;
  rows: Row[];
  notes: string[];
  /** Column names other than the benchmark's usual servers (scenario s3's peer is registry v3). */
  labels?: Partial<Record<ServerKind, string>>;
}

const KINDS = ['ours', 'peer', 'ceiling'] as const;

function series(results: Results, key: string, metricName: string): number[] {
  return (results.get(key) ?? []).map((r) => r[metricName]).filter((v): v is number => v !== undefined);
}

/** A row from the per-run figures of one metric. */
export function row(results: Results, metricName: string, label: string, unit: string, goal?: Goal): Row {
  return variantRow(results, metricName, '', label, unit, goal);
}

/** The same, from each server's variant keyed `${kind}${suffix}` ("ours+auth", "peer-3"). */
export function variantRow(results: Results, metricName: string, suffix: string, label: string, unit: string, goal?: Goal): Row {
  const values: Partial<Record<ServerKind, Summary>> = {};
  for (const kind of KINDS) {
    const s = series(results, `${kind}${suffix}`, metricName);
    if (s.length) values[kind] = summarize(s);
  }
  return { label, unit, values, goal };
}

/**
 * Per run, a server's variant `over` divided by its variant `under` (suffixes as above), then
 * the median of those ratios: the variants alternate within every run, so run i of one pairs
 * with run i of the other, under the same load.
 */
export function variantRatioRow(results: Results, metricName: string, over: string, under: string, label: string, goal?: Goal): Row {
  const values: Partial<Record<ServerKind, Summary>> = {};
  for (const kind of KINDS) {
    const a = (results.get(`${kind}${over}`) ?? []).map((r) => r[metricName]);
    const b = (results.get(`${kind}${under}`) ?? []).map((r) => r[metricName]);
    const ratios = a.map((v, i) => v / b[i]).filter(Number.isFinite);
    if (ratios.length) values[kind] = summarize(ratios);
  }
  return { label, unit: 'ratio', values, goal };
}

const ratio = (a?: Summary, b?: Summary) => (a && b && b.median ? a.median / b.median : undefined);

/** Goals, in the words of the issue. */
export const goals = {
  /** Throughput at least `share` of the ceiling's. */
  ofCeiling: (share: number): Goal => ({
    text: `>= ${Math.round(share * 100)}% of ceiling`,
    check: (v) => {
      const r = ratio(v.ours, v.ceiling);
      return r === undefined ? undefined : r >= share;
    },
  }),
  /** Throughput ahead of the peer's (where there is no ceiling to hold it to). */
  aheadOfPeer: (text = 'ahead of peer'): Goal => ({
    text,
    check: (v) => {
      const r = ratio(v.ours, v.peer);
      return r === undefined ? undefined : r >= 1;
    },
  }),
  /** Our own median above a bound (a ratio: "faster with three replicas than with one"). */
  medianAbove: (bound: number, text: string): Goal => ({
    text,
    check: (v) => (v.ours ? v.ours.median > bound : undefined),
  }),
  /** Throughput at least the ceiling's share and ahead of the peer. */
  ofCeilingAndAheadOfPeer: (share: number): Goal => ({
    text: `>= ${Math.round(share * 100)}% of ceiling, ahead of peer`,
    check: (v) => {
      const rc = ratio(v.ours, v.ceiling);
      const rp = ratio(v.ours, v.peer);
      if (rc === undefined && rp === undefined) return undefined;
      return (rc === undefined || rc >= share) && (rp === undefined || rp >= 1);
    },
  }),
  /** A time (lower is better) within `factor` of the ceiling's. */
  timeWithinCeiling: (factor: number): Goal => ({
    text: `<= ${factor}x ceiling`,
    check: (v) => {
      const r = ratio(v.ours, v.ceiling);
      return r === undefined ? undefined : r <= factor;
    },
  }),
  /** Our own figure below a bound. */
  below: (bound: number, text: string): Goal => ({
    text,
    check: (v) => (v.ours ? v.ours.max < bound : undefined),
  }),
  /** Our own figure at or above a bound. */
  atLeast: (bound: number, text: string): Goal => ({
    text,
    check: (v) => (v.ours ? v.ours.min >= bound : undefined),
  }),
};

function fmtNumber(v: number): string {
  if (!Number.isFinite(v)) return '-';
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  if (abs >= 100) return v.toFixed(0);
  if (abs >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function fmtSummary(s?: Summary): string {
  if (!s) return '-';
  if (s.runs.length === 1 || s.min === s.max) return fmtNumber(s.median);
  return `${fmtNumber(s.median)} [${fmtNumber(s.min)}-${fmtNumber(s.max)}]`;
}

function fmtRatio(r?: number): string {
  return r === undefined || !Number.isFinite(r) ? '-' : r.toFixed(2);
}

export function renderTable(table: Table, defaultLabels: Record<ServerKind, string>): string {
  const labels = { ...defaultLabels, ...table.labels };
  const header = ['', labels.ours, labels.peer, labels.ceiling, 'ours/peer', 'ours/ceiling', 'goal', ''];
  const body = table.rows.map((r) => {
    const verdict = r.goal?.check(r.values);
    return [
      `${r.label} (${r.unit})`,
      fmtSummary(r.values.ours),
      fmtSummary(r.values.peer),
      fmtSummary(r.values.ceiling),
      fmtRatio(ratio(r.values.ours, r.values.peer)),
      fmtRatio(ratio(r.values.ours, r.values.ceiling)),
      r.goal?.text ?? '',
      r.goal ? (verdict === undefined ? '-' : verdict ? 'ok' : 'MISS') : '',
    ];
  });
  const ceilingColumns = [3, 5];
  const shown = table.rows.some((r) => r.values.ceiling) ? header.map((_, i) => i) : header.map((_, i) => i).filter((i) => !ceilingColumns.includes(i));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    shown
      .map((i) => (i === 0 || i >= 6 ? cells[i].padEnd(widths[i]) : cells[i].padStart(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [table.title, line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
  for (const note of table.notes) out.push(`  ${note}`);
  return out.join('\n');
}
