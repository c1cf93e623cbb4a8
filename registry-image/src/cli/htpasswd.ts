/**
 * `perch htpasswd add|delete|verify FILE USER`: manage the registry's users without Apache's
 * tools. The password comes from the first line of stdin, or is asked for (twice for add,
 * without echo) when stdin is a terminal; it never appears on the command line, where `ps`
 * and shell history would keep it.
 *
 *   add     sets USER's password: a bcrypt entry, cost 10, written as `$2y$` like Apache's
 *           `htpasswd -B`, so `htpasswd -vb FILE USER PASS`, zot and bcryptjs all accept it.
 *           Other lines (users, comments) stay as they are. The file is replaced atomically
 *           (temporary file in the same folder, then rename), keeps its mode, and a new file
 *           gets 0600. A FILE that is a symlink keeps being one: its target is replaced.
 *   delete  removes USER's lines.
 *   verify  exit 0 when the password is USER's, 1 when not.
 * Exit codes: 0 done, 1 refused or failed, 2 usage error.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import bcrypt from 'bcryptjs';
import { parseHtpasswd, userNameProblem, userOfLine } from '../auth/htpasswd';

export interface HtpasswdIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const USAGE = `usage: perch htpasswd add|delete|verify FILE USER
  add     set USER's password (bcrypt); creates FILE with mode 0600 if it does not exist
  delete  remove USER from FILE
  verify  check USER's password: exit 0 if it matches, 1 if not
The password is read from the first line of stdin, or asked for when stdin is a terminal:
  printf '%s\\n' "$PASSWORD" | perch htpasswd add /secret/htpasswd roost-test
`;

export const BCRYPT_COST = 10;
/** bcrypt reads only the first 72 bytes of a password. */
const BCRYPT_MAX_BYTES = 72;

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The first line of a piped stdin, without its line ending. */
async function readLine(stdin: HtpasswdIo['stdin']): Promise<string> {
  let text = '';
  for await (const chunk of stdin) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    if (text.includes('\n')) break;
  }
  const line = text.split('\n')[0];
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/**
 * Asks on the terminal with echo off (raw mode): Enter ends, Backspace erases, Ctrl-C/Ctrl-D
 * abort. Keys typed (or pasted) past the Enter are kept for the next question.
 */
class TerminalPrompt {
  private leftover = '';

  constructor(private readonly io: HtpasswdIo) {}

  ask(question: string): Promise<string> {
    const { stdin, stderr } = this.io;
    return new Promise((resolve, reject) => {
      stderr.write(question);
      let value = '';
      const finish = (rest: string, err?: Error) => {
        this.leftover = rest;
        stdin.removeListener('data', onData);
        stdin.setRawMode?.(false);
        stdin.pause();
        stderr.write('\n');
        if (err) reject(err);
        else resolve(value);
      };
      const consume = (text: string): boolean => {
        const chars = [...text];
        for (let i = 0; i < chars.length; i++) {
          const ch = chars[i];
          const rest = chars.slice(i + 1).join('');
          if (ch === '\r' || ch === '\n') {
            finish(ch === '\r' && rest.startsWith('\n') ? rest.slice(1) : rest);
            return true;
          }
          if (ch === '\u0003' || ch === '\u0004') {
            finish('', new CliError('cancelled', 130));
            return true;
          }
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
          else value += ch;
        }
        return false;
      };
      const onData = (chunk: Buffer | string) => {
        consume(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      };
      const pending = this.leftover;
      this.leftover = '';
      stdin.setRawMode?.(true);
      if (consume(pending)) return;
      stdin.on('data', onData);
      stdin.resume();
    });
  }
}

async function readPassword(io: HtpasswdIo, user: string, confirm: boolean): Promise<string> {
  let password: string;
  if (io.stdin.isTTY) {
    const terminal = new TerminalPrompt(io);
    password = await terminal.ask(`Password for ${user}: `);
    if (confirm && (await terminal.ask('Retype password: ')) !== password) throw new CliError('the passwords do not match; nothing changed');
  } else {
    password = await readLine(io.stdin);
  }
  if (password === '') throw new CliError('the password is empty; give one on the first line of stdin');
  return password;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Write, then rename over the target: a reader (the registry polling the file) sees old or new, never half. */
async function writeAtomically(path: string, content: string): Promise<void> {
  let target = path;
  let mode = 0o600;
  try {
    target = await fs.realpath(path);
    mode = (await fs.stat(target)).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await fs.writeFile(temp, content, { mode, flag: 'wx' });
    await fs.chmod(temp, mode); // the umask may have narrowed it
    await fs.rename(temp, target);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw new CliError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function splitLines(content: string | undefined): string[] {
  if (!content) return [];
  const lines = content.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

async function add(io: HtpasswdIo, file: string, user: string): Promise<void> {
  const existing = await readIfExists(file);
  const password = await readPassword(io, user, true);
  if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES) {
    io.stderr.write(`warning: bcrypt uses only the first ${BCRYPT_MAX_BYTES} bytes of a password; the rest is ignored\n`);
  }
  // bcryptjs writes $2b$; Apache writes $2y$ for the same algorithm. Keep Apache's spelling.
  const hash = (await bcrypt.hash(password, BCRYPT_COST)).replace(/^\$2b\$/, '$2y$');
  const line = `${user}:${hash}`;
  let replaced = false;
  const lines: string[] = [];
  for (const raw of splitLines(existing)) {
    if (userOfLine(raw) !== user) lines.push(raw);
    else if (!replaced) {
      lines.push(line);
      replaced = true;
    }
  }
  if (!replaced) lines.push(line);
  const content = `${lines.join('\n')}\n`;
  await writeAtomically(file, content);
  io.stdout.write(`${replaced ? 'Updated password for' : 'Added'} user ${user}${existing === undefined ? ` (created ${file}, mode 0600)` : ''}\n`);
  // The registry refuses the whole file while any line is not bcrypt (auth/htpasswd.ts): say so now.
  const refusing = parseHtpasswd(content).problems.filter((p) => p.refuses);
  if (refusing.length > 0) {
    io.stderr.write(`warning: the registry refuses ${file} until these lines are fixed:\n${refusing.map((p) => `  ${p.message}\n`).join('')}`);
  }
}

async function remove(io: HtpasswdIo, file: string, user: string): Promise<void> {
  const existing = await readIfExists(file);
  if (existing === undefined) throw new CliError(`${file} does not exist`);
  const lines = splitLines(existing);
  const kept = lines.filter((raw) => userOfLine(raw) !== user);
  if (kept.length === lines.length) throw new CliError(`user ${user} is not in ${file}; nothing changed`);
  await writeAtomically(file, kept.length ? `${kept.join('\n')}\n` : '');
  io.stdout.write(`Deleted user ${user}\n`);
}

async function verify(io: HtpasswdIo, file: string, user: string): Promise<void> {
  const existing = await readIfExists(file);
  if (existing === undefined) throw new CliError(`${file} does not exist`);
  const raw = splitLines(existing).find((l) => userOfLine(l) === user);
  if (raw === undefined) throw new CliError(`user ${user} is not in ${file}`);
  const entry = parseHtpasswd(`${raw}\n`).entries.get(user);
  if (!entry) throw new CliError(`user ${user} has a hash that is not bcrypt; perch can check only bcrypt ($2y$, $2a$, $2b$)`);
  const password = await readPassword(io, user, false);
  if (!(await bcrypt.compare(password, entry.hash))) throw new CliError(`password verification failed for user ${user}`);
  io.stdout.write(`Password for user ${user} correct.\n`);
}

export async function runHtpasswd(argv: string[], io: HtpasswdIo): Promise<number> {
  const [command, file, user, ...extra] = argv;
  if (command === '-h' || command === '--help' || command === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  if (!command || !file || user === undefined || extra.length > 0 || !['add', 'delete', 'verify'].includes(command)) {
    io.stderr.write(USAGE);
    return 2;
  }
  const problem = userNameProblem(user);
  if (problem) {
    io.stderr.write(`perch htpasswd: ${problem}\n`);
    return 2;
  }
  try {
    if (command === 'add') await add(io, file, user);
    else if (command === 'delete') await remove(io, file, user);
    else await verify(io, file, user);
    return 0;
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    io.stderr.write(`perch htpasswd: ${err.message}\n`);
    return err.exitCode;
  }
}
