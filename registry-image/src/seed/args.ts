/**
 * The `perch seed` command line, parsed into typed options without side effects (no file or
 * network access, no stdin), so the Pulumi tests can check the seed Jobs' args with it.
 * The password itself is never part of the options: only where it will come from.
 */
import { formatDuration, parseGoDuration } from '../config/duration';
import { chartId, SEED_CHARTS, SEED_NAMESPACE, type SeedChartRef } from './catalogue';
import { SeedError } from './errors';
import { parseRegistryEndpoint, type RegistryEndpoint } from '../client/registry-endpoint';

/** The environment variables seed reads credentials from (the seed Jobs set them from a Secret). */
export const SEED_ENV = Object.freeze({ username: 'PERCH_SEED_USERNAME', password: 'PERCH_SEED_PASSWORD' } as const);

export const DEFAULT_TIMEOUT_MS = 120_000;

export type PasswordSource = 'stdin' | 'env' | 'none';

export interface SeedOptions {
  registry: RegistryEndpoint;
  /** The charts to push, in push order (dependencies first). */
  charts: SeedChartRef[];
  /** oci://host[:port]/path: multi-chart's dependencies name this repository. */
  dependencyRepository: string;
  username?: string;
  /** `stdin`: --password-stdin; `env`: SEED_ENV.password; `none`: anonymous. */
  password: PasswordSource;
  insecure: boolean;
  /** How long to wait for the registry to answer before giving up. */
  timeoutMs: number;
}

export const SEED_USAGE = `usage: perch seed --registry URL [flags]

Packs the Roost test Helm charts and pushes them with Helm's media types to
URL under ${SEED_NAMESPACE}/, skipping what is already there.

flags:
  --registry URL            the registry: http://host:port, https://host, or host:port
                            (plain HTTP for loopback hosts; others need --insecure)
  --chart NAME[@VERSION]    only this chart (all its versions without @VERSION);
                            repeatable; default: all of
                              ${SEED_CHARTS.map(chartId).join(', ')}
  --dependency-repository oci://HOST/PATH
                            where multi-chart's Chart.yaml says its dependencies live
                            (default: oci://<registry host>/${SEED_NAMESPACE})
  --username USER           default: $${SEED_ENV.username}
  --password-stdin          read the password from standard input
                            (default: $${SEED_ENV.password})
  --insecure                allow plain HTTP to a host that is not loopback, and
                            accept TLS certificates that do not verify
  --timeout DURATION        how long to wait for the registry to answer (default ${formatDuration(DEFAULT_TIMEOUT_MS)})
  -h, --help                this text

example:
  perch seed --registry http://localhost:5000
  echo "$PASSWORD" | perch seed --registry https://registry.example.com --username roost-test --password-stdin
`;

const VALUE_FLAGS = new Set(['--registry', '--chart', '--dependency-repository', '--username', '--timeout']);
const BOOLEAN_FLAGS = new Set(['--password-stdin', '--insecure']);

function usage(message: string): SeedError {
  return new SeedError('usage', message);
}

/** `name@version` or `name`: the seed charts it names, or an error listing what there is. */
export function selectCharts(text: string): SeedChartRef[] {
  const at = text.lastIndexOf('@');
  const name = at >= 0 ? text.slice(0, at) : text;
  const version = at >= 0 ? text.slice(at + 1) : undefined;
  const available = SEED_CHARTS.map(chartId).join(', ');
  const versions = SEED_CHARTS.filter((c) => c.name === name);
  if (versions.length === 0) throw usage(`--chart ${text}: there is no seed chart named "${name}"; available: ${available}`);
  if (version === undefined) return versions;
  const match = versions.filter((c) => c.version === version);
  if (match.length === 0) {
    throw usage(`--chart ${text}: ${name} has no version ${JSON.stringify(version)}; available: ${versions.map(chartId).join(', ')}`);
  }
  return match;
}

/** `oci://host[:port]/path`, without a trailing slash. */
export function parseDependencyRepository(text: string): string {
  const match = /^oci:\/\/([^/\s]+)\/([^\s]+?)\/*$/.exec(text.trim());
  const path = match?.[2];
  if (!match || !path) {
    throw usage(`--dependency-repository ${JSON.stringify(text)} must be an oci:// repository with a path, e.g. oci://registry.example.com/${SEED_NAMESPACE}`);
  }
  // OCI distribution spec repository name components (lower case).
  if (!path.split('/').every((part) => /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/.test(part))) {
    throw usage(`--dependency-repository ${text}: the path must be lower-case letters, digits and . _ - separated by /`);
  }
  return `oci://${match[1]}/${path}`;
}

/** Parses `perch seed` arguments (after "seed"); throws a SeedError of kind "usage" saying what to fix. */
export function parseSeedArgs(argv: readonly string[], env: NodeJS.ProcessEnv): SeedOptions {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    if (name === '--password' || name === '-p') {
      throw usage(`perch seed takes no ${name} (a password on the command line shows in process lists and shell history): pipe it to --password-stdin, or set ${SEED_ENV.password}`);
    }
    if (VALUE_FLAGS.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || (inline === undefined && value.startsWith('--'))) throw usage(`${name} needs a value (perch seed --help)`);
      values.set(name, [...(values.get(name) ?? []), value]);
    } else if (BOOLEAN_FLAGS.has(name)) {
      if (inline !== undefined) throw usage(`${name} takes no value`);
      flags.add(name);
    } else if (arg.startsWith('-')) {
      throw usage(`unknown flag ${name}; perch seed takes ${[...VALUE_FLAGS, ...BOOLEAN_FLAGS].join(', ')} (perch seed --help)`);
    } else {
      throw usage(`unexpected argument ${JSON.stringify(arg)}: perch seed takes flags only, e.g. --registry http://localhost:5000 --chart ${chartId(SEED_CHARTS[0])}`);
    }
  }
  const single = (name: string): string | undefined => {
    const list = values.get(name);
    if (list && list.length > 1) throw usage(`${name} is given ${list.length} times; give it once`);
    return list?.[0];
  };

  const insecure = flags.has('--insecure');
  const registryText = single('--registry');
  if (registryText === undefined) throw usage('--registry is required, e.g. perch seed --registry http://localhost:5000');
  let registry: RegistryEndpoint;
  try {
    registry = parseRegistryEndpoint(registryText, insecure);
  } catch (err) {
    throw usage((err as Error).message);
  }

  const selected = new Set<SeedChartRef>();
  for (const text of values.get('--chart') ?? []) for (const chart of selectCharts(text)) selected.add(chart);
  const charts = selected.size === 0 ? [...SEED_CHARTS] : SEED_CHARTS.filter((c) => selected.has(c));

  const dependencyText = single('--dependency-repository');
  const dependencyRepository = dependencyText === undefined ? `oci://${registry.host}/${SEED_NAMESPACE}` : parseDependencyRepository(dependencyText);

  const timeoutText = single('--timeout');
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (timeoutText !== undefined) {
    const parsed = parseGoDuration(timeoutText);
    if (parsed === undefined || parsed <= 0) {
      throw usage(`--timeout ${JSON.stringify(timeoutText)} is not a positive duration: write it with a unit, e.g. 120s, 2m or 1m30s`);
    }
    timeoutMs = parsed;
  }

  const username = single('--username') ?? (env[SEED_ENV.username] || undefined);
  const password: PasswordSource = flags.has('--password-stdin') ? 'stdin' : env[SEED_ENV.password] ? 'env' : 'none';
  if (username !== undefined && username.trim() === '') throw usage('--username is empty');
  if (username !== undefined && password === 'none') {
    throw usage(`a username ("${username}") without a password: pass --password-stdin and pipe the password in, or set ${SEED_ENV.password}`);
  }
  if (username === undefined && password !== 'none') {
    const from = password === 'stdin' ? '--password-stdin' : SEED_ENV.password;
    throw usage(`a password (${from}) without a username: pass --username, or set ${SEED_ENV.username}`);
  }
  return { registry, charts, dependencyRepository, username, password, insecure, timeoutMs };
}
