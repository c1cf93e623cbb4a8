/**
 * First pass over a parsed config: match every key against zot's key set (known-keys.ts)
 * without regard to case, as zot does through viper, and sort each key into read, warned
 * about, or refused. The result keeps the spelling the file used, so every later message can
 * name the key path as the user wrote it.
 */
import { formatPath, type PathSegment } from './errors';
import { ZOT_KEYS, type KeyNode, type KeyStatus, type ObjectNode } from './known-keys';
import { closest } from './suggest';

export interface CheckedObject {
  kind: 'object';
  path: PathSegment[];
  /** By the schema's spelling of the key. */
  keys: Map<string, Checked>;
}
export interface CheckedMap {
  kind: 'map';
  path: PathSegment[];
  /** By the key as written. */
  entries: Array<{ key: string; node: Checked }>;
}
export interface CheckedList {
  kind: 'list';
  path: PathSegment[];
  items: Checked[];
}
export interface CheckedValue {
  kind: 'value';
  path: PathSegment[];
  value: unknown;
}
export type Checked = CheckedObject | CheckedMap | CheckedList | CheckedValue;

export interface Report {
  problem(path: readonly PathSegment[], message: string): void;
  warn(path: readonly PathSegment[], message: string): void;
  /** Called for each key in the order the file has them, so messages can be listed in that order. */
  visit?(path: readonly PathSegment[]): void;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (isPlainObject(v)) return 'a section';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Walks the whole file; the result is undefined only when the top level is not a section at all. */
export function checkKeys(raw: unknown, report: Report): CheckedObject | undefined {
  const checked = walk(raw, ZOT_KEYS, [], 'implemented', report);
  return checked?.kind === 'object' ? checked : undefined;
}

function walk(raw: unknown, node: KeyNode, path: PathSegment[], inherited: KeyStatus, report: Report): Checked | undefined {
  if (raw === null || raw === undefined) return undefined;
  switch (node.kind) {
    case 'value':
    case 'free':
      return { kind: 'value', path, value: raw };
    case 'list': {
      if (!Array.isArray(raw)) {
        report.problem(path, `expected a list, got ${describeType(raw)}`);
        return undefined;
      }
      const items: Checked[] = [];
      raw.forEach((item, i) => {
        report.visit?.([...path, i]);
        const checked = walk(item, node.item, [...path, i], inherited, report);
        if (checked) items.push(checked);
      });
      return { kind: 'list', path, items };
    }
    case 'map': {
      if (!isPlainObject(raw)) {
        report.problem(path, `expected a section of named entries, got ${describeType(raw)}`);
        return undefined;
      }
      const entries: CheckedMap['entries'] = [];
      const seen = new Map<string, string>();
      for (const [key, item] of Object.entries(raw)) {
        // viper lowercases every key, these included, so zot would merge two that differ only in case.
        const twin = seen.get(key.toLowerCase());
        if (twin !== undefined) {
          report.problem([...path, key], `${JSON.stringify(twin)} and ${JSON.stringify(key)} differ only in case; zot reads keys without regard to case, so keep one`);
          continue;
        }
        seen.set(key.toLowerCase(), key);
        report.visit?.([...path, key]);
        const checked = walk(item, node.value, [...path, key], inherited, report);
        if (checked) entries.push({ key, node: checked });
      }
      return { kind: 'map', path, entries };
    }
    case 'object':
      return walkObject(raw, node, path, inherited, report);
  }
}

function walkObject(raw: unknown, node: ObjectNode, path: PathSegment[], inherited: KeyStatus, report: Report): CheckedObject | undefined {
  const names = Object.keys(node.keys);
  if (!isPlainObject(raw)) {
    report.problem(path, `expected a section with keys such as ${names.slice(0, 4).join(', ')}, got ${describeType(raw)}`);
    return undefined;
  }
  const byLower = new Map(names.map((n) => [n.toLowerCase(), n]));
  const keys = new Map<string, Checked>();
  const writtenAs = new Map<string, string>();
  for (const [written, value] of Object.entries(raw)) {
    const childPath = [...path, written];
    report.visit?.(childPath);
    const name = byLower.get(written.toLowerCase());
    if (name === undefined) {
      report.problem(childPath, unknownKeyMessage(written, names, path));
      continue;
    }
    const twin = writtenAs.get(name);
    if (twin !== undefined) {
      report.problem(childPath, `given twice (as ${JSON.stringify(twin)} and ${JSON.stringify(written)}); zot reads keys without regard to case, so keep one`);
      continue;
    }
    writtenAs.set(name, written);
    const child = node.keys[name];
    const status = child.status ?? inherited;
    if (status === 'refused') {
      if (!isDisabled(value)) {
        report.problem(
          childPath,
          `perch does not implement zot's ${child.what} yet, and running without it would change who may do what, so this config is refused. ` +
            `Remove the key: ${child.instead}.`,
        );
      }
      continue;
    }
    if (status === 'ignored' && inherited !== 'ignored' && !isDisabled(value) && !isSwitchedOff(value)) {
      report.warn(childPath, `ignored: perch does not implement zot's ${child.what}; the registry runs without it`);
    }
    const checked = walk(value, child, childPath, status, report);
    if (checked) keys.set(name, checked);
  }
  return { kind: 'object', path, keys };
}

/** Values that mean "not configured" in zot: null, false, an empty list. */
function isDisabled(value: unknown): boolean {
  return value === null || value === false || value === 'false' || (Array.isArray(value) && value.length === 0);
}

/** An extension section with `enable: false` is off in zot; saying it is ignored would be noise. */
function isSwitchedOff(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  const entry = Object.entries(value).find(([k]) => k.toLowerCase() === 'enable');
  return entry !== undefined && (entry[1] === false || entry[1] === 'false');
}

function unknownKeyMessage(written: string, siblings: string[], parent: PathSegment[]): string {
  const where = parent.length ? formatPath(parent) : 'the top level';
  let message = `unknown key: neither zot nor perch has ${JSON.stringify(written)} in ${where}.`;
  const near = closest(written, siblings);
  if (near) {
    message += ` Did you mean ${formatPath([...parent, near])}?`;
  } else {
    const elsewhere = KEY_INDEX.get(written.toLowerCase());
    if (elsewhere) message += ` It belongs at ${elsewhere.join(' or ')}.`;
  }
  return `${message} Allowed here: ${siblings.join(', ')}.`;
}

/** Where each fixed key name lives, for "it belongs at http.port" (only through plain sections, not lists or named entries). */
const KEY_INDEX: Map<string, string[]> = (() => {
  const index = new Map<string, string[]>();
  const visit = (node: ObjectNode, path: string[]) => {
    for (const [name, child] of Object.entries(node.keys)) {
      const full = [...path, name];
      const lower = name.toLowerCase();
      index.set(lower, [...(index.get(lower) ?? []), formatPath(full)]);
      if (child.kind === 'object') visit(child, full);
    }
  };
  visit(ZOT_KEYS, []);
  return index;
})();
