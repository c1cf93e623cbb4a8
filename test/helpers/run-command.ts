/**
 * Runs an external program (skopeo, crane, oras, regctl, the conformance suite) with a time
 * limit and returns what it printed. A failing command throws an error that names the command
 * line and shows its output, because "exit code 1" alone tells nobody what went wrong.
 */
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** stdout as bytes, for programs that print binary (crane blob). */
  stdoutBytes: Buffer;
  stderr: string;
  /** True when the time limit ended the process. */
  timedOut: boolean;
}

export interface CommandOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Default 60 s; the process group gets SIGKILL when it runs out. */
  timeoutMs?: number;
  input?: string | Buffer;
  /** Do not throw on a non-zero exit (the caller inspects `code`). */
  allowFailure?: boolean;
}

/** Words in a command line that must never reach a log (passwords follow these flags). */
const SECRET_FLAGS = new Set(['--password', '-p', '--dest-creds', '--src-creds', '--creds', '--pass']);

export function describeCommand(cmd: string, args: readonly string[]): string {
  const shown = args.map((a, i) => (SECRET_FLAGS.has(args[i - 1] ?? '') ? '***' : a));
  return [cmd, ...shown].join(' ');
}

export function runCommand(cmd: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      // Own process group, so a timeout also ends anything the program started.
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${cmd}: ${e.message} (is it installed? run scripts/install-tools.sh)`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      const result: CommandResult = {
        code,
        signal,
        stdout: stdoutBytes.toString(),
        stdoutBytes,
        stderr: Buffer.concat(err).toString(),
        timedOut,
      };
      if ((code !== 0 || timedOut) && !options.allowFailure) {
        const why = timedOut ? `did not finish in ${timeoutMs} ms` : `exited with ${code ?? signal}`;
        reject(
          new Error(
            `${describeCommand(cmd, args)} ${why}\n--- stdout ---\n${tail(result.stdout)}\n--- stderr ---\n${tail(result.stderr)}`,
          ),
        );
        return;
      }
      resolve(result);
    });
    if (child.stdin) {
      // A program that exits without reading its input must not crash the test with EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}

function tail(text: string, max = 4000): string {
  return text.length > max ? `...${text.slice(-max)}` : text;
}
