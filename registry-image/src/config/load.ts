/**
 * Loading a zot-format config file: read it, parse JSON or YAML, check every key against zot's
 * key set (check-keys.ts), then build the normalised PerchConfig (normalise.ts). The only place a
 * PerchConfig comes from.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { checkKeys, describeType, isPlainObject, type Report } from './check-keys';
import { defaultConfig } from './defaults';
import { ConfigError, formatPath, formatProblem, type ConfigProblem, type PathSegment } from './errors';
import { normalise } from './normalise';
import type { LoadedConfig } from './types';

export interface LoadOptions {
  /** Relative paths in the config (storage, htpasswd, TLS, logs) resolve against this; default process.cwd(). */
  cwd?: string;
}

/** Checks and normalises an already-parsed config. Throws ConfigError listing every problem. */
export function parseConfig(raw: unknown, source: string, options: LoadOptions = {}): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  if (!isPlainObject(raw)) {
    throw new ConfigError(source, [
      { path: '', message: `expected a config object at the top level (with sections such as http, storage, log), got ${raw === undefined ? 'nothing' : describeType(raw)}` },
    ]);
  }
  const problems: Array<{ at: number } & ConfigProblem> = [];
  const warnings: string[] = [];
  const order = new Map<string, number>();
  // A problem sorts where its key is in the file; one about a missing key, where its section is.
  const position = (path: readonly PathSegment[]): number => {
    for (let n = path.length; n > 0; n--) {
      const at = order.get(formatPath(path.slice(0, n)));
      if (at !== undefined) return at;
    }
    return -1;
  };
  const report: Report = {
    problem: (path, message) => problems.push({ at: position(path), path: formatPath(path), message }),
    warn: (path, message) => warnings.push(formatProblem(source, { path: formatPath(path), message })),
    visit: (path) => order.set(formatPath(path), order.size),
  };
  const root = checkKeys(raw, report) ?? { kind: 'object' as const, path: [], keys: new Map() };
  const config = normalise(root, report, cwd);
  if (problems.length > 0) {
    const sorted = problems.sort((a, b) => a.at - b.at).map(({ path, message }) => ({ path, message }));
    throw new ConfigError(source, sorted);
  }
  return { config, warnings };
}

/**
 * Reads a config file: YAML for .yaml/.yml, JSON for .json, and for any other name JSON or
 * else YAML (zot likewise tries every format it knows on a file without a known extension).
 * Without a path, perch runs on its defaults (port 5000, storage in ./.perch-data).
 */
export function loadConfig(path?: string, options: LoadOptions = {}): LoadedConfig {
  if (path === undefined) return { config: defaultConfig(options.cwd), warnings: [] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new ConfigError(path, [{ path: '', message: `cannot read the config file (${why}); pass the path of a zot-format config.json or config.yaml` }]);
  }
  return parseConfig(parseText(text, path), path, options);
}

function parseText(text: string, path: string): unknown {
  if (text.trim() === '') throw new ConfigError(path, [{ path: '', message: 'the file is empty; a config needs at least one section, e.g. {"storage": {"rootDirectory": "/var/lib/registry"}}' }]);
  const ext = extname(path).toLowerCase();
  if (ext === '.yaml' || ext === '.yml') return parseYaml(text, path);
  try {
    return JSON.parse(text);
  } catch (err) {
    if (ext === '.json') throw new ConfigError(path, [{ path: '', message: `not valid JSON: ${(err as Error).message}` }]);
    return parseYaml(text, path);
  }
}

function parseYaml(text: string, path: string): unknown {
  // Required here rather than imported at the top: the yaml package costs tens of milliseconds
  // to load, and the usual config (/etc/zot/config.json) never needs it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const yaml = require('yaml') as typeof import('yaml');
  try {
    return yaml.parse(text);
  } catch (err) {
    throw new ConfigError(path, [{ path: '', message: `not valid YAML: ${(err as Error).message.split('\n')[0]}` }]);
  }
}
