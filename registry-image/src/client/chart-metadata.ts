/**
 * Chart.yaml read into Helm's chart metadata (helm pkg/chart/v2/metadata.go `Metadata`,
 * dependency.go `Dependency`), and written back out as Helm writes it into the OCI config blob:
 * `json.Marshal(meta)`, so fields in the Go struct's order, empty ones left out (omitempty),
 * except a dependency's name and repository, which Helm always writes.
 *
 * Helm ignores keys it does not know; the seed charts are ours, so an unknown or mistyped key
 * is reported instead of dropped.
 */
import { parse } from 'yaml';
import { goJson, sortedMap } from './go-json';

export interface Maintainer {
  name?: string;
  email?: string;
  url?: string;
}

export interface ChartDependency {
  name: string;
  version?: string;
  repository: string;
  condition?: string;
  tags?: string[];
  enabled?: boolean;
  'import-values'?: unknown[];
  alias?: string;
}

export interface ChartMetadata {
  name: string;
  home?: string;
  sources?: string[];
  version: string;
  description?: string;
  keywords?: string[];
  maintainers?: Maintainer[];
  icon?: string;
  apiVersion: string;
  condition?: string;
  tags?: string;
  appVersion?: string;
  deprecated?: boolean;
  annotations?: Record<string, string>;
  kubeVersion?: string;
  dependencies?: ChartDependency[];
  type?: string;
}

/** Go struct field order of Metadata and Dependency: the order json.Marshal writes. */
const METADATA_FIELDS = [
  'name', 'home', 'sources', 'version', 'description', 'keywords', 'maintainers', 'icon', 'apiVersion',
  'condition', 'tags', 'appVersion', 'deprecated', 'annotations', 'kubeVersion', 'dependencies', 'type',
] as const;
const MAINTAINER_FIELDS = ['name', 'email', 'url'] as const;
const DEPENDENCY_FIELDS = ['name', 'version', 'repository', 'condition', 'tags', 'enabled', 'import-values', 'alias'] as const;
/** Written even when empty (no omitempty on these json tags). */
const DEPENDENCY_ALWAYS = new Set(['name', 'repository']);

/** Semantic version 2.0.0, as Helm requires for `version` (Masterminds/semver, strict form). */
export const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

type Source = Record<string, unknown>;

/** "appVersion", "dependencies[0].name": a key as a user finds it in Chart.yaml. */
function field(what: string, key: string): string {
  return what === 'Chart.yaml' ? key : `${what}.${key}`;
}

class MetadataReader {
  constructor(
    private readonly where: string,
    private readonly strict: boolean,
  ) {}

  fail(message: string): never {
    throw new Error(`${this.where}: ${message}`);
  }

  object(value: unknown, what: string): Source {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(`${what} must be a mapping`);
    return value as Source;
  }

  onlyKeys(source: Source, allowed: readonly string[], what: string): void {
    if (!this.strict) return;
    for (const key of Object.keys(source)) {
      if (!allowed.includes(key)) this.fail(`${what} has an unknown key "${key}" (Helm knows ${allowed.join(', ')})`);
    }
  }

  string(source: Source, key: string, what: string, required = false): string | undefined {
    const value = source[key];
    if (value === undefined || value === null) {
      if (required) this.fail(`${what} needs "${key}"`);
      return undefined;
    }
    if (typeof value !== 'string') this.fail(`${field(what, key)} must be a string (quote it in YAML), not ${JSON.stringify(value)}`);
    return value;
  }

  strings(source: Source, key: string, what: string): string[] | undefined {
    const value = source[key];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) this.fail(`${field(what, key)} must be a list of strings`);
    return value as string[];
  }

  boolean(source: Source, key: string, what: string): boolean | undefined {
    const value = source[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') this.fail(`${field(what, key)} must be true or false`);
    return value;
  }
}

/**
 * Parses Chart.yaml text; `where` names the file in errors. Strict (the default, for perch's
 * own charts) refuses keys Helm does not know and apiVersion v1; not strict, it accepts what
 * Helm accepts (unknown keys ignored, v1 or v2), for charts users bring to pushChart.
 */
export function parseChartYaml(text: string, where: string, strict = true): ChartMetadata {
  const read: MetadataReader = new MetadataReader(where, strict);
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    read.fail(`is not valid YAML: ${(err as Error).message}`);
  }
  const src = read.object(doc, 'Chart.yaml');
  read.onlyKeys(src, METADATA_FIELDS, 'Chart.yaml');
  const meta: ChartMetadata = {
    name: read.string(src, 'name', 'Chart.yaml', true)!,
    home: read.string(src, 'home', 'Chart.yaml'),
    sources: read.strings(src, 'sources', 'Chart.yaml'),
    version: read.string(src, 'version', 'Chart.yaml', true)!,
    description: read.string(src, 'description', 'Chart.yaml'),
    keywords: read.strings(src, 'keywords', 'Chart.yaml'),
    icon: read.string(src, 'icon', 'Chart.yaml'),
    apiVersion: read.string(src, 'apiVersion', 'Chart.yaml', true)!,
    condition: read.string(src, 'condition', 'Chart.yaml'),
    tags: read.string(src, 'tags', 'Chart.yaml'),
    appVersion: read.string(src, 'appVersion', 'Chart.yaml'),
    deprecated: read.boolean(src, 'deprecated', 'Chart.yaml'),
    kubeVersion: read.string(src, 'kubeVersion', 'Chart.yaml'),
    type: read.string(src, 'type', 'Chart.yaml'),
  };
  if (meta.apiVersion !== 'v2' && (strict || meta.apiVersion !== 'v1')) read.fail(`apiVersion must be v2 (Helm 3 charts), not ${meta.apiVersion}`);
  if (!SEMVER.test(meta.version)) read.fail(`version ${meta.version} is not a semantic version (e.g. 1.0.0)`);
  if (src.maintainers !== undefined && src.maintainers !== null) {
    if (!Array.isArray(src.maintainers)) read.fail('maintainers must be a list');
    meta.maintainers = src.maintainers.map((m, i) => {
      const entry = read.object(m, `maintainers[${i}]`);
      read.onlyKeys(entry, MAINTAINER_FIELDS, `maintainers[${i}]`);
      return {
        name: read.string(entry, 'name', `maintainers[${i}]`),
        email: read.string(entry, 'email', `maintainers[${i}]`),
        url: read.string(entry, 'url', `maintainers[${i}]`),
      };
    });
  }
  if (src.annotations !== undefined && src.annotations !== null) {
    const annotations = read.object(src.annotations, 'annotations');
    for (const key of Object.keys(annotations)) read.string(annotations, key, 'annotations');
    meta.annotations = annotations as Record<string, string>;
  }
  if (src.dependencies !== undefined && src.dependencies !== null) {
    if (!Array.isArray(src.dependencies)) read.fail('dependencies must be a list');
    meta.dependencies = src.dependencies.map((d, i) => {
      const what = `dependencies[${i}]`;
      const entry = read.object(d, what);
      read.onlyKeys(entry, DEPENDENCY_FIELDS, what);
      const importValues = entry['import-values'];
      if (importValues !== undefined && !Array.isArray(importValues)) read.fail(`${what}.import-values must be a list`);
      return {
        name: read.string(entry, 'name', what, true)!,
        version: read.string(entry, 'version', what),
        repository: read.string(entry, 'repository', what) ?? '',
        condition: read.string(entry, 'condition', what),
        tags: read.strings(entry, 'tags', what),
        enabled: read.boolean(entry, 'enabled', what),
        'import-values': importValues as unknown[] | undefined,
        alias: read.string(entry, 'alias', what),
      };
    });
  }
  return meta;
}

function isEmpty(value: unknown): boolean {
  // Go's omitempty: "", false, nil, and empty slices and maps.
  if (value === undefined || value === null || value === '' || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

function ordered(source: object, fields: readonly string[], always: ReadonlySet<string> = new Set()): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const value = (source as Record<string, unknown>)[field];
    if (always.has(field)) out[field] = value ?? '';
    else if (!isEmpty(value)) out[field] = value;
  }
  return out;
}

/** A dependency as Go's json.Marshal writes chart.Dependency. */
export function dependencyJsonShape(dep: ChartDependency): Record<string, unknown> {
  return ordered(dep, DEPENDENCY_FIELDS, DEPENDENCY_ALWAYS);
}

/** The chart metadata as Helm's json.Marshal writes it: the `application/vnd.cncf.helm.config.v1+json` blob. */
export function helmConfigJson(meta: ChartMetadata): string {
  const shape = ordered(meta, METADATA_FIELDS);
  if (shape.maintainers) shape.maintainers = meta.maintainers!.map((m) => ordered(m, MAINTAINER_FIELDS));
  if (shape.annotations) shape.annotations = sortedMap(meta.annotations!);
  if (shape.dependencies) shape.dependencies = meta.dependencies!.map(dependencyJsonShape);
  return goJson(shape);
}
