/**
 * A Helm chart's metadata, read from its OCI config blob. Helm writes that blob as
 * `json.Marshal` of Chart.yaml's metadata (helm pkg/chart/v2/metadata.go `Metadata`,
 * dependency.go `Dependency`; pushed by pkg/registry/client.go Push). Anyone can push such a
 * blob, so every field is checked for its type and anything unexpected is left out.
 */

export interface ChartDependencyView {
  name: string;
  version?: string;
  repository?: string;
  condition?: string;
  alias?: string;
}

export interface ChartMaintainerView {
  name?: string;
  email?: string;
  url?: string;
}

export interface ChartView {
  name: string;
  version: string;
  apiVersion?: string;
  appVersion?: string;
  description?: string;
  type?: string;
  home?: string;
  kubeVersion?: string;
  deprecated?: boolean;
  keywords: string[];
  sources: string[];
  maintainers: ChartMaintainerView[];
  dependencies: ChartDependencyView[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v !== '') : [];
}

/** Copies the named string fields that are present into a fresh object. */
function pick<K extends string>(from: Json, keys: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const value = str(from[key]);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function dependency(value: unknown): ChartDependencyView | undefined {
  if (!isObject(value)) return undefined;
  const name = str(value.name);
  if (!name) return undefined;
  return { name, ...pick(value, ['version', 'repository', 'condition', 'alias'] as const) };
}

function maintainer(value: unknown): ChartMaintainerView | undefined {
  if (!isObject(value)) return undefined;
  const m = pick(value, ['name', 'email', 'url'] as const);
  return Object.keys(m).length ? m : undefined;
}

/** The chart's metadata, or undefined when the blob is not chart metadata (no name or version). */
export function chartView(config: unknown): ChartView | undefined {
  if (!isObject(config)) return undefined;
  const name = str(config.name);
  const version = str(config.version);
  if (!name || !version) return undefined;
  const view: ChartView = {
    name,
    version,
    ...pick(config, ['apiVersion', 'appVersion', 'description', 'type', 'home', 'kubeVersion'] as const),
    keywords: strings(config.keywords),
    sources: strings(config.sources),
    maintainers: Array.isArray(config.maintainers) ? config.maintainers.map(maintainer).filter((m): m is ChartMaintainerView => !!m) : [],
    dependencies: Array.isArray(config.dependencies) ? config.dependencies.map(dependency).filter((d): d is ChartDependencyView => !!d) : [],
  };
  if (config.deprecated === true) view.deprecated = true;
  return view;
}
