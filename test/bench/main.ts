/**
 * `npm run bench` (scripts/bench.sh bundles this file and runs it): perch against Debian's
 * docker-registry and against the machine's ceiling (a bare Node server), same client, same
 * filesystem, same log level, no fsync on either, several alternating runs per scenario;
 * and (scenario s3) perch against distribution's registry v3 on one SeaweedFS.
 * Prints a table per scenario (s3: two) and writes them to test/artifacts/bench.txt (and .json).
 * Usage: main.js [--quick] [--runs N] [a|b|c|d|e|auth|s3 ...]     (see docs/bench.md)
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext } from './harness';
import { renderTable, type Table } from './report';
import { authenticated } from './scenarios/auth';
import { manyImages } from './scenarios/a-many-images';
import { bigBlob } from './scenarios/b-big-blob';
import { chunkedUploads } from './scenarios/c-chunked';
import { manySmallImages } from './scenarios/d-small-images';
import { burst } from './scenarios/e-burst';
import { objectStorage } from './scenarios/s3-object-storage';
import { s3Api } from './scenarios/s3api';
import { ceilingSpec } from './servers/ceiling';
import { dockerRegistrySpec } from './servers/docker-registry';
import { killAllServers } from './servers/launch';
import { perchSpec } from './servers/perch';
import type { ServerKind, ServerSpec } from './servers/types';

const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<Table | Table[]>> = {
  a: manyImages,
  b: bigBlob,
  c: chunkedUploads,
  d: manySmallImages,
  e: burst,
  auth: authenticated,
  s3: objectStorage,
  s3api: s3Api,
};

const TMPFS_MAGIC = 0x01021994;
const GiB = 1024 ** 3;

function parseArgs(argv: string[]): { quick: boolean; runs: number; only: string[] } {
  let quick = false;
  // Five: on this kind of machine a run's wall time can double for reasons outside the
  // servers (docs/bench.md, "Noise"); a median over five shrugs off two such runs.
  let runs = 5;
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--runs') runs = Number(argv[++i]);
    else if (a in SCENARIOS) only.push(a);
    else throw new Error(`unknown argument "${a}": use --quick, --runs N, or scenario names (${Object.keys(SCENARIOS).join(', ')})`);
  }
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs needs a whole number of at least 1');
  return { quick, runs, only: only.length ? only : Object.keys(SCENARIOS) };
}

/**
 * Where all three servers keep their data: one folder, so one filesystem. tmpfs by default:
 * docker-registry fsyncs every file it writes and cannot be told not to, and on tmpfs fsync
 * is a no-op, which puts it on the same footing as perch (storage.commit false) and the
 * ceiling. PERCH_BENCH_DIR picks another place.
 */
function chooseBaseDir(): { dir: string; note: string } {
  const fromEnv = process.env.PERCH_BENCH_DIR;
  const candidates = fromEnv ? [fromEnv] : ['/dev/shm', tmpdir()];
  for (const dir of candidates) {
    if (!existsSync(dir)) continue;
    const fs = statfsSync(dir);
    const free = fs.bavail * fs.bsize;
    if (!fromEnv && free < 4 * GiB) continue;
    const tmpfs = fs.type === TMPFS_MAGIC;
    const note = tmpfs
      ? 'tmpfs: fsync is a no-op, so no server pays for durability'
      : 'NOT tmpfs: docker-registry fsyncs every file it writes while perch (commit false) and the ceiling do not; its figures are low by that much';
    return { dir, note: `${note}; ${(free / GiB).toFixed(1)} GiB free` };
  }
  throw new Error('no folder with 4 GiB free for the benchmark data: set PERCH_BENCH_DIR');
}

function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n')[0];
  } catch {
    return 'unknown';
  }
}

/** Whether the working tree differs from the commit (the bundle is built from the tree). */
function dirty(): boolean {
  try {
    return execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  const { quick, runs, only } = parseArgs(process.argv.slice(2));
  const repoRoot = process.cwd();
  const base = chooseBaseDir();
  const workDir = mkdtempSync(join(base.dir, 'perch-bench-'));
  const logDir = join(repoRoot, 'test/artifacts/bench/logs');
  const cleanup = () => {
    // Keep the servers' logs (warnings and errors only, at log level warn) for a look later.
    rmSync(logDir, { recursive: true, force: true });
    mkdirSync(logDir, { recursive: true });
    for (const f of readdirSync(workDir).filter((n) => n.endsWith('.log'))) copyFileSync(join(workDir, f), join(logDir, f));
    rmSync(workDir, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      killAllServers();
      cleanup();
      process.exit(130);
    });
  }

  const all: ServerSpec[] = [perchSpec(repoRoot), dockerRegistrySpec(), ceilingSpec(__dirname)];
  const header = [
    `perch benchmark, ${new Date().toISOString()}, ${quick ? 'quick' : 'full'} mode, ${runs} alternating runs per scenario`,
    `commit ${version('git', ['rev-parse', '--short', 'HEAD'])}${dirty() ? ' with uncommitted changes' : ''}; node ${process.version}; ${cpus().length} x ${cpus()[0]?.model.trim()}`,
    `peer: ${version('docker-registry', ['--version'])}`,
    `data: ${workDir} (${base.note})`,
    `load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on the machine skews wall times; server CPU seconds skew less)`,
    'figures: median [min-max] over the runs; ratios from medians; throughput higher is better, times lower',
  ];
  const servers: ServerSpec[] = [];
  for (const spec of all) {
    const why = spec.unavailable();
    if (why) header.push(`left out: ${spec.label}: ${why}`);
    else servers.push(spec);
  }
  const out: string[] = [header.join('\n')];
  console.log(`${out[0]}\n`);
  const labels = Object.fromEntries(all.map((s) => [s.kind, s.label])) as Record<ServerKind, string>;
  const ctx: BenchContext = { workDir, quick, runs, servers, log: (m) => console.log(m) };
  const tables: Table[] = [];
  let failures = 0;
  const t0 = performance.now();
  try {
    for (const id of only) {
      const s0 = performance.now();
      console.log(`scenario ${id} (load average ${loadavg()[0].toFixed(2)} on ${cpus().length} cores)`);
      try {
        const result = await SCENARIOS[id](ctx);
        const made = Array.isArray(result) ? result : [result];
        made[made.length - 1]?.notes.push(`(scenario took ${((performance.now() - s0) / 1000).toFixed(0)} s)`);
        for (const table of made) {
          tables.push(table);
          const text = renderTable(table, labels);
          out.push(text);
          console.log(`\n${text}\n`);
        }
      } catch (err) {
        failures++;
        const text = `scenario ${id} failed: ${(err as Error).stack ?? err}`;
        out.push(text);
        console.log(text);
      }
    }
  } finally {
    killAllServers();
    cleanup();
  }
  out.push(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const artifacts = join(repoRoot, 'test/artifacts');
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(join(artifacts, 'bench.txt'), `${out.join('\n\n')}\n`);
  writeFileSync(join(artifacts, 'bench.json'), JSON.stringify({ header, tables }, null, 2));
  console.log(`${out[out.length - 1]}; tables written to test/artifacts/bench.txt and bench.json`);
  return failures ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err.message);
    killAllServers();
    process.exit(2);
  },
);
