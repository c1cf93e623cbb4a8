/**
 * Runs the OCI distribution-spec conformance suite (the redesigned one, configured through
 * OCI_* environment variables; see its README in the Go module cache) against a registry and
 * reads back what it found.
 *
 * Settings, as PEERS.md fixes them: spec 1.1, every OCI_API_* and OCI_DATA_* test at its
 * default, plus the three things perch claims (upload cancel and the Docker-Content-Digest
 * header on blobs and manifests), and OCI_DATA_SPARSE off (it pushes an index whose children
 * are missing, which the registry rightly refuses). The suite reports a feature it finds
 * missing as a skip, so callers treat skips as failures.
 *
 * Results land in test/artifacts/conformance/<runName>/: the suite's own junit.xml,
 * report.html and results.yaml, plus conformance.log (its console output) and problems.txt
 * (each failing or skipped check with the exact requests and responses it made).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseJunit, type JunitCase, type JunitStatus } from './junit';
import { runCommand } from './run-command';
import { REPO_ROOT } from './registry';

export interface ConformanceOptions {
  /** host:port the suite talks to, e.g. 127.0.0.1:41234 */
  registryHost: string;
  username?: string;
  password?: string;
  /** Folder name under test/artifacts/conformance/ (letters, digits, dot, dash, underscore). */
  runName: string;
  /** How to reach the registry; default "disabled" (plain HTTP). "insecure" = TLS without verification. */
  tls?: 'disabled' | 'insecure' | 'enabled';
  /** Extra OCI_* settings, e.g. { OCI_FILTER_TEST: 'OCI Conformance Test/sha512' } while debugging. */
  extraSettings?: Record<string, string>;
  /** Default 150 s: the whole suite takes about 10 s against a healthy local registry. */
  timeoutMs?: number;
}

export interface ConformanceRun {
  runName: string;
  resultsDir: string;
  junitPath: string;
  reportPath: string;
  exitCode: number | null;
  /** Every leaf check the suite ran. */
  cases: JunitCase[];
  counts: Record<JunitStatus, number>;
  /** Checks that failed, errored or were skipped. */
  problems: JunitCase[];
  /** The suite's per-area verdicts from results.yaml ("Referrers": "FAIL", ...). */
  areas: Record<string, string>;
  /** Counts, the areas that did not pass, and the problem checks by name, for assertion messages. */
  summary: string;
}

export const CONFORMANCE_ARTIFACTS = join(REPO_ROOT, 'test/artifacts/conformance');

/** The settings every run uses (PEERS.md); the registry, TLS mode and credentials come per run. */
export const CONFORMANCE_SETTINGS: Readonly<Record<string, string>> = {
  OCI_VERSION: '1.1',
  OCI_REPO1: 'conformance/repo1',
  OCI_REPO2: 'conformance/repo2',
  OCI_API_BLOBS_UPLOAD_CANCEL: 'true',
  OCI_API_BLOBS_DIGEST_HEADER: 'true',
  OCI_API_MANIFESTS_DIGEST_HEADER: 'true',
  OCI_DATA_SPARSE: 'false',
  OCI_LOG: 'warn',
};

export function conformanceBinary(): string {
  const tools = process.env.PERCH_TOOLS ?? join(homedir(), '.cache/perch-tools');
  const installed = join(tools, 'bin/oci-conformance');
  if (existsSync(installed)) return installed;
  return 'oci-conformance'; // from PATH, if someone installed it elsewhere
}

function suiteEnv(options: ConformanceOptions, resultsDir: string): NodeJS.ProcessEnv {
  // Inherited OCI_* variables (a developer's shell, the legacy names the suite still reads)
  // would silently change what runs; only ours go in.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OCI_')) env[k] = v;
  Object.assign(env, CONFORMANCE_SETTINGS, {
    OCI_REGISTRY: options.registryHost,
    OCI_TLS: options.tls ?? 'disabled',
    OCI_RESULTS_DIR: resultsDir,
    NO_PROXY: '127.0.0.0/8,localhost',
    no_proxy: '127.0.0.0/8,localhost',
  });
  if (options.username !== undefined) env.OCI_USERNAME = options.username;
  if (options.password !== undefined) env.OCI_PASSWORD = options.password;
  Object.assign(env, options.extraSettings ?? {});
  return env;
}

function readAreas(resultsDir: string): Record<string, string> {
  const file = join(resultsDir, 'results.yaml');
  if (!existsSync(file)) return {};
  const doc = parseYaml(readFileSync(file, 'utf8')) as { apis?: Record<string, string>; data?: Record<string, string> };
  const areas: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.apis ?? {})) areas[`API ${k}`] = String(v);
  for (const [k, v] of Object.entries(doc.data ?? {})) areas[`Data ${k}`] = String(v);
  return areas;
}

const LABEL: Record<JunitStatus, string> = { passed: 'PASS', failure: 'FAIL', error: 'ERROR', skipped: 'SKIP' };

function firstLine(text: string, max = 300): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max)}...` : line;
}

function summarise(run: Omit<ConformanceRun, 'summary'>, registryHost: string): string {
  const c = run.counts;
  const lines = [
    `OCI conformance "${run.runName}" against ${registryHost}: ${c.passed} passed, ${c.failure} failed, ` +
      `${c.error} errors, ${c.skipped} skipped (a skip means a feature the suite found missing)`,
  ];
  // "Disabled" areas are the ones this configuration turns off on purpose (sparse, tag params).
  const bad = Object.entries(run.areas).filter(([, v]) => v !== 'Pass' && v !== 'Disabled');
  if (bad.length) lines.push(`Areas not passing: ${bad.map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  // The suite repeats a check name for each blob it pushes; show each name once, with a count.
  const seen = new Map<string, { c: JunitCase; n: number }>();
  for (const p of run.problems) {
    const key = `${p.status} ${p.name}`;
    const entry = seen.get(key);
    if (entry) entry.n += 1;
    else seen.set(key, { c: p, n: 1 });
  }
  const entries = [...seen.values()];
  for (const { c: p, n } of entries.slice(0, 60)) {
    lines.push(`${LABEL[p.status]} ${p.name}${n > 1 ? ` (x${n})` : ''}: ${firstLine(p.message)}`);
  }
  if (entries.length > 60) lines.push(`... and ${entries.length - 60} more`);
  if (run.problems.length) {
    lines.push(`Requests and responses of each problem: ${relative(REPO_ROOT, join(run.resultsDir, 'problems.txt'))}`);
  }
  lines.push(`Full report: ${relative(REPO_ROOT, run.reportPath)}`);
  return lines.join('\n');
}

export async function runConformance(options: ConformanceOptions): Promise<ConformanceRun> {
  if (!/^[A-Za-z0-9._-]+$/.test(options.runName)) {
    throw new Error(`runName "${options.runName}" must be a plain folder name (letters, digits, . _ -)`);
  }
  const resultsDir = join(CONFORMANCE_ARTIFACTS, options.runName);
  // A stale junit.xml from an earlier run would be counted as this run's result.
  rmSync(resultsDir, { recursive: true, force: true });
  mkdirSync(resultsDir, { recursive: true });
  // The suite reads ./oci-conformance.yaml when present: run it where none can be.
  const cwd = mkdtempSync(join(tmpdir(), 'oci-conformance-'));
  const junitPath = join(resultsDir, 'junit.xml');
  const reportPath = join(resultsDir, 'report.html');
  const timeoutMs = options.timeoutMs ?? 150_000;
  let result;
  try {
    result = await runCommand(conformanceBinary(), [], {
      env: suiteEnv(options, resultsDir),
      cwd,
      timeoutMs,
      allowFailure: true, // it exits 1 when any check fails; the junit file says which
    });
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
  writeFileSync(join(resultsDir, 'conformance.log'), `${result.stdout}\n${result.stderr}`);
  if (result.timedOut) {
    throw new Error(`the conformance suite did not finish in ${timeoutMs} ms against ${options.registryHost}; its output:\n${result.stderr.slice(-3000)}`);
  }
  if (!existsSync(junitPath)) {
    // It exits 0 without writing anything when its configuration does not load.
    throw new Error(
      `the conformance suite wrote no junit.xml (exit ${result.code}); its output:\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`,
    );
  }
  const { cases, counts } = parseJunit(readFileSync(junitPath, 'utf8'));
  const problems = cases.filter((c) => c.status !== 'passed');
  writeFileSync(
    join(resultsDir, 'problems.txt'),
    problems.map((p) => `##### ${LABEL[p.status]} ${p.name}\n${p.message.trim()}\n${p.trace}`).join('\n\n'),
  );
  const partial = {
    runName: options.runName,
    resultsDir,
    junitPath,
    reportPath,
    exitCode: result.code,
    cases,
    counts,
    problems,
    areas: readAreas(resultsDir),
  };
  return { ...partial, summary: summarise(partial, options.registryHost) };
}
