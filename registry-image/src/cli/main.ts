/**
 * The perch command line: `perch <command> [args]`.
 *   serve [CONFIG]     run the registry (zot's config.json format; defaults without one)
 *   seed ...           push the Roost test charts to a registry
 *   htpasswd ...       add, delete or verify htpasswd entries
 *   gc [--dry-run] CONFIG   collect garbage once and report what was removed
 * Exit codes: 0 success, 1 failure, 2 usage error.
 */
import { runGc } from './gc';
import { runServe } from './serve';
import { runSeed } from './seed';
import { runHtpasswd } from './htpasswd';

const USAGE = `usage: perch <command> [args]

commands:
  serve [CONFIG]        run the registry; CONFIG is a zot config.json (or .yaml)
  seed --registry URL   push the Roost test Helm charts (perch seed --help)
  gc [--dry-run] CONFIG  collect garbage once; --dry-run only lists what would go
  htpasswd add|delete|verify FILE USER   manage bcrypt htpasswd entries
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
  switch (command) {
    case 'serve':
      return runServe(rest);
    case 'seed':
      return runSeed(rest, process.env, io);
    case 'gc':
      return runGc(rest, io);
    case 'htpasswd':
      return runHtpasswd(rest, io);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`perch: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      // serve keeps the process alive through its server; other commands end here.
      if (code !== -1) process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`perch: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
