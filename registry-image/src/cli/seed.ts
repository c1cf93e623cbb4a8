/**
 * `perch seed`: push the Roost test charts to a registry (registry-image/src/seed/ does the
 * work; docs/seed.md describes the charts and the flags). Exit codes: 0 done, 1 failed,
 * 2 usage error. Progress goes to stdout, problems to stderr; neither ever shows a password.
 */
import { parseSeedArgs, seed, SEED_ENV, SEED_NAMESPACE, SEED_USAGE, SeedError, type SeedDeps } from '../seed';

export interface SeedIo {
  stdin?: NodeJS.ReadableStream;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Deps other than the password and log (tests pass a fake transport or clock). */
export type RunSeedDeps = Omit<SeedDeps, 'password' | 'log'>;

export async function runSeed(argv: string[], env: NodeJS.ProcessEnv, io: SeedIo, deps: RunSeedDeps = {}): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    io.stdout.write(SEED_USAGE);
    return 0;
  }
  try {
    const options = parseSeedArgs(argv, env);
    let password: string | undefined;
    if (options.password === 'stdin') {
      // One line, as docker login --password-stdin reads it: the trailing newline is not part of it.
      password = (await readAll(io.stdin ?? process.stdin)).replace(/\r?\n$/, '');
    } else if (options.password === 'env') {
      password = env[SEED_ENV.password];
    }
    const who = options.username ? ` as ${options.username}` : '';
    io.stdout.write(`seeding ${options.charts.length} chart(s) to ${options.registry.origin}${who}\n`);
    const results = await seed(options, { ...deps, password, log: (line) => io.stdout.write(`${line}\n`) });
    const pushed = results.filter((r) => r.outcome !== 'present').length;
    io.stdout.write(`done: ${pushed} pushed, ${results.length - pushed} already present\n`);
    const first = results[0];
    if (first) {
      // Helm 4 (and Helm 3 for hosts other than localhost) needs --plain-http for an http:// registry.
      const plain = options.registry.scheme === 'http' ? ' --plain-http' : '';
      io.stdout.write(`try: helm pull oci://${options.registry.host}/${SEED_NAMESPACE}/${first.chart.name} --version ${first.chart.version}${plain}\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof SeedError) {
      io.stderr.write(`perch seed: ${err.message}\n`);
      if (err.kind === 'usage') io.stderr.write('(perch seed --help shows every flag)\n');
      return err.kind === 'usage' ? 2 : 1;
    }
    throw err;
  }
}
