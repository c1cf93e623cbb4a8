/**
 * A strict reader of the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/): it throws on anything the
 * format does not allow, so a test that reads /metrics through it also proves the output
 * parses. Checked: metric and label name syntax, label value escapes, sample values, one HELP
 * and one TYPE per family, TYPE before the family's samples, samples of a family together,
 * no duplicate series, and for histograms: cumulative buckets ending at le="+Inf", equal to
 * _count, with a _sum.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

export interface Exposition {
  families: Map<string, Family>;
  /** The sample's value, or undefined when there is no such series. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Every sample of `name` (a sample name, e.g. registry_http_requests_total). */
  samples(name: string): Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: MetricType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

/**
 * Prometheus reads values with Go's strconv.ParseFloat, which takes NaN and Inf in any case
 * (prom-client writes "Nan" for an empty event-loop histogram), so this does too.
 */
function parseValue(text: string, line: number): number {
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: ${JSON.stringify(text)} is not a sample value`);
  return Number(text);
}

/** Reads `{a="1",b="x\"y"}` starting at `i` (at the "{"); returns the labels and the index after "}". */
function parseLabels(text: string, i: number, line: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++; // {
  while (true) {
    if (text[i] === '}') return [labels, i + 1];
    const eq = text.indexOf('=', i);
    if (eq === -1) throw new Error(`line ${line}: label without "="`);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`line ${line}: bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new Error(`line ${line}: label ${name} twice`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: label ${name} value is not quoted`);
    let j = eq + 2;
    let value = '';
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const next = text[++j];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`line ${line}: bad escape \\${next} in label ${name}`);
      } else value += text[j];
    }
    if (text[j] !== '"') throw new Error(`line ${line}: unterminated label value`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`line ${line}: expected "," or "}" after label ${name}`);
  }
}

function familyOf(sample: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(sample);
  if (direct) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sample.endsWith(suffix)) continue;
    const family = families.get(sample.slice(0, -suffix.length));
    if (family && (family.type === 'histogram' || (family.type === 'summary' && suffix !== '_bucket'))) return family;
  }
  return undefined;
}

function seriesKey(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, Sample[]>();
  const rest = (labels: Record<string, string>) => {
    const copy = { ...labels };
    delete copy.le;
    return seriesKey('', copy);
  };
  for (const s of family.samples) {
    const key = rest(s.labels);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(s);
  }
  for (const [key, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${family.name}_bucket`);
    const count = samples.find((s) => s.name === `${family.name}_count`);
    const sum = samples.find((s) => s.name === `${family.name}_sum`);
    if (!count || !sum || buckets.length === 0) throw new Error(`histogram ${family.name}${key} lacks buckets, _sum or _count`);
    let previousLe = -Infinity;
    let previous = 0;
    for (const b of buckets) {
      if (b.labels.le === undefined) throw new Error(`histogram ${family.name}${key}: bucket without le`);
      const le = parseValue(b.labels.le, 0);
      if (le <= previousLe) throw new Error(`histogram ${family.name}${key}: buckets out of order`);
      if (b.value < previous) throw new Error(`histogram ${family.name}${key}: buckets not cumulative`);
      previousLe = le;
      previous = b.value;
    }
    if (previousLe !== Infinity) throw new Error(`histogram ${family.name}${key}: no le="+Inf" bucket`);
    if (previous !== count.value) throw new Error(`histogram ${family.name}${key}: +Inf bucket ${previous} != _count ${count.value}`);
  }
}

export function parseExposition(text: string): Exposition {
  const families = new Map<string, Family>();
  const series = new Map<string, Sample>();
  const finished = new Set<string>();
  let current: Family | undefined;
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition does not end with a newline');
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
      if (!m) return; // other comments are allowed
      const [, kind, name, rest = ''] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`line ${line}: bad metric name ${JSON.stringify(name)}`);
      let family = families.get(name);
      if (!family) {
        if (finished.has(name)) throw new Error(`line ${line}: family ${name} appears twice`);
        family = { name, type: 'untyped', samples: [] };
        families.set(name, family);
      }
      if (family.samples.length > 0) throw new Error(`line ${line}: ${kind} for ${name} after its samples`);
      if (kind === 'HELP') {
        if (family.help !== undefined) throw new Error(`line ${line}: second HELP for ${name}`);
        family.help = rest;
      } else {
        if (!TYPES.includes(rest as MetricType)) throw new Error(`line ${line}: unknown type ${JSON.stringify(rest)}`);
        if ((family as Family & { typed?: boolean }).typed) throw new Error(`line ${line}: second TYPE for ${name}`);
        family.type = rest as MetricType;
        (family as Family & { typed?: boolean }).typed = true;
      }
      if (current && current !== family) finished.add(current.name);
      current = family;
      return;
    }
    const nameEnd = raw.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`line ${line}: not a sample: ${JSON.stringify(raw)}`);
    const name = raw.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`line ${line}: bad metric name ${JSON.stringify(name)}`);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (raw[i] === '{') [labels, i] = parseLabels(raw, i, line);
    if (raw[i] !== ' ') throw new Error(`line ${line}: expected a space before the value`);
    const [valueText, timestamp, extra] = raw.slice(i + 1).split(' ');
    if (extra !== undefined || (timestamp !== undefined && !/^-?\d+$/.test(timestamp))) throw new Error(`line ${line}: trailing text after the value`);
    const value = parseValue(valueText, line);
    let family = familyOf(name, families);
    if (!family) {
      family = { name, type: 'untyped', samples: [] };
      families.set(name, family);
    }
    if (finished.has(family.name)) throw new Error(`line ${line}: samples of ${family.name} are not together`);
    if (current && current !== family) finished.add(current.name);
    current = family;
    const key = seriesKey(name, labels);
    if (series.has(key)) throw new Error(`line ${line}: duplicate series ${key}`);
    const sample = { name, labels, value };
    series.set(key, sample);
    family.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return {
    families,
    value: (name, labels = {}) => series.get(seriesKey(name, labels))?.value,
    samples: (name) => [...series.values()].filter((s) => s.name === name),
  };
}
