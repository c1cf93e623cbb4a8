/**
 * Typed reads from a checked config section. Each read reports a problem (with the key path as
 * written) instead of throwing, so one pass finds every mistake, and returns a fallback so the
 * pass can go on.
 *
 * Scalars are read as loosely as zot reads them: viper decodes with mapstructure's
 * WeaklyTypedInput and its string-to-slice hook, so `"dedupe": "false"`, `"port": 5000` and
 * `"compat": "docker2s2"` all work there, and here.
 */
import type { Checked, CheckedObject, Report } from './check-keys';
import { describeType } from './check-keys';
import type { PathSegment } from './errors';
import { formatDuration, parseGoDuration } from './duration';
import { parseByteSize } from './byte-size';

export class Section {
  constructor(
    private readonly node: CheckedObject | undefined,
    readonly path: PathSegment[],
    readonly report: Report,
  ) {}

  /** True when the file set the key to something other than null. */
  has(key: string): boolean {
    return this.node?.keys.has(key) ?? false;
  }

  /** True when the file has this section at all. */
  get exists(): boolean {
    return this.node !== undefined;
  }

  pathOf(key: string): PathSegment[] {
    return this.node?.keys.get(key)?.path ?? [...this.path, key];
  }

  problem(key: string | undefined, message: string): void {
    this.report.problem(key === undefined ? this.path : this.pathOf(key), message);
  }

  /** Loads, but the user should know: a warning printed at start, naming the key. */
  warn(key: string | undefined, message: string): void {
    this.report.warn(key === undefined ? this.path : this.pathOf(key), message);
  }

  /** A sub-section; an empty one when the file does not have it. */
  section(key: string): Section {
    const child = this.node?.keys.get(key);
    return new Section(child?.kind === 'object' ? child : undefined, child?.path ?? [...this.path, key], this.report);
  }

  /** The sections of a list of sections. */
  list(key: string): Section[] {
    const child = this.node?.keys.get(key);
    if (child?.kind !== 'list') return [];
    return child.items.map((item) => new Section(item.kind === 'object' ? item : undefined, item.path, this.report));
  }

  /** The named entries of a section whose keys the user chooses. */
  entries(key: string): Array<{ key: string; section: Section }> {
    const child = this.node?.keys.get(key);
    if (child?.kind !== 'map') return [];
    return child.entries.map(({ key: name, node }) => ({
      key: name,
      section: new Section(node.kind === 'object' ? node : undefined, node.path, this.report),
    }));
  }

  private scalar(key: string): unknown {
    const child: Checked | undefined = this.node?.keys.get(key);
    return child?.kind === 'value' ? child.value : undefined;
  }

  string(key: string): string | undefined;
  string(key: string, fallback: string): string;
  string(key: string, fallback?: string): string | undefined {
    const v = this.scalar(key);
    if (v === undefined) return fallback;
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return String(v);
    this.problem(key, `expected text, got ${describeType(v)}`);
    return fallback;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.scalar(key);
    if (v === undefined) return fallback;
    if (typeof v === 'boolean') return v;
    // Go's strconv.ParseBool, which mapstructure's weak decoding uses for strings.
    if (typeof v === 'string') {
      if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
      if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
    }
    if (v === 0 || v === 1) return v === 1;
    this.problem(key, `expected true or false, got ${describeType(v)}`);
    return fallback;
  }

  integer(key: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const v = this.scalar(key);
    if (v === undefined) return fallback;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : NaN;
    const { min = 0, max = Number.MAX_SAFE_INTEGER } = range;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.problem(key, `expected a whole number from ${min} to ${max}, got ${describeType(v)}`);
      return fallback;
    }
    return n;
  }

  /** A list of text values; a single string is split at commas, as zot's string-to-slice hook does. */
  strings(key: string): string[] | undefined {
    const child = this.node?.keys.get(key);
    if (child === undefined) return undefined;
    const v = child.kind === 'value' ? child.value : undefined;
    if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (Array.isArray(v) && v.every((item) => typeof item === 'string' || typeof item === 'number')) return v.map(String);
    this.problem(key, `expected a list of text values, got ${describeType(v)}`);
    return undefined;
  }

  /** Milliseconds, from a Go duration ("90s", "1h30m"). */
  duration(key: string, range: { min?: number } = {}): number | undefined {
    const v = this.scalar(key);
    if (v === undefined) return undefined;
    const { min = 0 } = range;
    let ms: number | undefined;
    if (typeof v === 'string') ms = parseGoDuration(v);
    // zot would read any other bare number as nanoseconds, which nobody means.
    else if (v === 0) ms = 0;
    if (ms === undefined) {
      const hint = typeof v === 'number' ? ' (a bare number would be nanoseconds in zot)' : '';
      this.problem(key, `expected a duration such as "90s", "5m", "1h30m" or "24h", got ${describeType(v)}${hint}`);
      return undefined;
    }
    if (ms < min) {
      this.problem(key, `must be at least ${formatDuration(min)}, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return ms;
  }

  /** Bytes, from a number or a size such as "10Gi", "500Mi" or "1G". */
  byteSize(key: string, fallback: number): number {
    const v = this.scalar(key);
    if (v === undefined) return fallback;
    const bytes = typeof v === 'number' || typeof v === 'string' ? parseByteSize(v) : undefined;
    if (bytes === undefined) {
      this.problem(key, `expected a number of bytes or a size such as "500Mi", "10Gi" or "1G", got ${describeType(v)}`);
      return fallback;
    }
    return bytes;
  }

  /** One of a fixed set of words, compared without regard to case. */
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const v = this.string(key);
    if (v === undefined) return fallback;
    const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
    if (hit === undefined) {
      this.problem(key, `${JSON.stringify(v)} is not allowed; use one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
      return fallback;
    }
    return hit;
  }
}
