/**
 * `npm run soak -- --minutes N` (scripts/soak.sh bundles this file and runs it): perch under a
 * mixed load for N minutes on loopback, then a report (report.ts). Exit code 1 when there was
 * any error or the RSS or descriptor growth after warm-up passed its bound, 2 for bad arguments.
 * Usage: main.js [--minutes N] [--concurrency N] [--max-requests N] [--warmup S] [--sample S] [--seed N] [--keep]
 * Writes the report to test/artifacts/soak/report.txt and the server's log (without the lines
 * of requests answered below 500) to test/artifacts/soak/perch.log.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderReport, verdict } from './report';
import { runSoak, type SoakOptions } from './run';
import { PERCH_BUNDLE, REPO_ROOT } from './server';

const USAGE = 'usage: npm run soak -- [--minutes N] [--concurrency N] [--max-requests N] [--warmup SECONDS] [--sample SECONDS] [--seed N] [--keep]';

type Args = Omit<SoakOptions, 'dir'> & { keep: boolean };

function parseArgs(argv: string[]): Args {
  const args: Args = { minutes: 2, concurrency: 8, maxRequests: 0, warmupSeconds: 60, sampleSeconds: 10, seed: 1, keep: false };
  const number = (flag: string, value: string | undefined, min: number): number => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < min) throw new Error(`${flag} needs a number of at least ${min}\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--minutes') args.minutes = number(a, argv[++i], 0.1);
    else if (a === '--concurrency') args.concurrency = Math.floor(number(a, argv[++i], 1));
    else if (a === '--max-requests') args.maxRequests = Math.floor(number(a, argv[++i], 1));
    else if (a === '--warmup') args.warmupSeconds = number(a, argv[++i], 1);
    else if (a === '--sample') args.sampleSeconds = number(a, argv[++i], 1);
    else if (a === '--seed') args.seed = Math.floor(number(a, argv[++i], 0));
    else if (a === '--keep') args.keep = true;
    else throw new Error(`unknown argument "${a}"\n${USAGE}`);
  }
  // A ceiling well above what this kind of machine serves (about 600 requests a second here),
  // so time ends a normal run and the budget only a runaway one.
  if (!args.maxRequests) args.maxRequests = Math.ceil(args.minutes * 60 * 2000);
  return args;
}

/** tmpfs when it has room (as the benchmark), else the system's temp folder; PERCH_SOAK_DIR overrides. */
function baseDir(): string {
  const fromEnv = process.env.PERCH_SOAK_DIR;
  if (fromEnv) return fromEnv;
  if (existsSync('/dev/shm')) {
    const fs = statfsSync('/dev/shm');
    if (fs.bavail * fs.bsize > 2 * 2 ** 30) return '/dev/shm';
  }
  return tmpdir();
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  if (!existsSync(PERCH_BUNDLE)) {
    console.error(`${PERCH_BUNDLE} is missing: run "npm run build" first`);
    return 2;
  }
  const dir = mkdtempSync(join(baseDir(), 'perch-soak-'));
  const artifacts = join(REPO_ROOT, 'test/artifacts/soak');
  mkdirSync(artifacts, { recursive: true });
  const abort = new AbortController();
  const onSignal = () => {
    console.log('[soak] interrupted: stopping the workload, then reporting');
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  console.log(`[soak] ${args.minutes} min, ${args.concurrency} workers, at most ${args.maxRequests} requests; data in ${dir}`);
  try {
    const result = await runSoak({ ...args, dir, logFile: join(artifacts, 'perch.log'), signal: abort.signal, progress: (line) => console.log(`[soak] ${line}`) });
    const report = renderReport(result);
    writeFileSync(join(artifacts, 'report.txt'), report + '\n');
    console.log(`\n${report}\n\n(report in test/artifacts/soak/report.txt, server log in test/artifacts/soak/perch.log)`);
    return verdict(result).length ? 1 : 0;
  } finally {
    if (args.keep) console.log(`[soak] kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[soak] could not run: ${(err as Error)?.stack ?? err}`);
    process.exit(2);
  },
);
