/**
 * `perch htpasswd add|delete|verify FILE USER`, checked against Apache's own htpasswd
 * (apache2-utils) and bcryptjs, and read back by the registry's Auth.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { createAuth } from '../../registry-image/src/auth';
import { runHtpasswd } from '../../registry-image/src/cli/htpasswd';
import { silentLogger } from '../../registry-image/src/log';
import { basic, makeConfig, startAuthServer, tempDir } from './harness';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function perch(args: string[], stdin = ''): Promise<Run> {
  const input = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  input.end(stdin);
  const code = await runHtpasswd(args, { stdin: input, stdout, stderr });
  return { code, stdout: out, stderr: err };
}

/** Apache's verifier: `htpasswd -vb FILE USER PASS` exits 0 only for the right password. */
function apacheVerifies(file: string, user: string, password: string): boolean {
  return spawnSync('htpasswd', ['-vb', file, user, password], { stdio: 'ignore' }).status === 0;
}

describe('perch htpasswd add', () => {
  it('creates the file with mode 0600 and a $2y$ cost-10 entry that Apache and bcryptjs accept', async () => {
    const file = join(tempDir(), 'htpasswd');
    const run = await perch(['add', file, 'roost-test'], 'Sup3r-secret\n');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Added user roost-test/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const content = readFileSync(file, 'utf8');
    expect(content).toMatch(/^roost-test:\$2y\$10\$[./A-Za-z0-9]{53}\n$/);
    expect(apacheVerifies(file, 'roost-test', 'Sup3r-secret')).toBe(true);
    expect(apacheVerifies(file, 'roost-test', 'Sup3r-secreT')).toBe(false);
    expect(bcrypt.compareSync('Sup3r-secret', content.trim().split(':')[1])).toBe(true);
    expect(run.stdout + run.stderr).not.toContain('Sup3r-secret');
  });

  it('replaces an existing user in place, keeps other users and comments, and keeps the file mode', async () => {
    const file = join(tempDir(), 'htpasswd');
    execFileSync('htpasswd', ['-cbB', file, 'first', 'first-pw']);
    execFileSync('htpasswd', ['-bB', file, 'alice', 'old-pw']);
    writeFileSync(file, `# managed by hand\n${readFileSync(file, 'utf8')}`);
    execFileSync('htpasswd', ['-bB', file, 'last', 'last-pw']);
    chmodSync(file, 0o640);
    const run = await perch(['add', file, 'alice'], 'new-pw\r\n');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Updated password for user alice/);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => l.split(':')[0])).toEqual(['# managed by hand', 'first', 'alice', 'last']);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(apacheVerifies(file, 'alice', 'new-pw')).toBe(true);
    expect(apacheVerifies(file, 'alice', 'old-pw')).toBe(false);
    expect(apacheVerifies(file, 'first', 'first-pw')).toBe(true);
    expect(apacheVerifies(file, 'last', 'last-pw')).toBe(true);
    // no temporary file left behind
    expect(readdirSync(join(file, '..'))).toEqual(['htpasswd']);
  });

  it('writes through a symlink (a mounted file stays a symlink) and refuses an empty password', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'real'), '');
    symlinkSync('real', join(dir, 'htpasswd'));
    expect((await perch(['add', join(dir, 'htpasswd'), 'u'], 'pw\n')).code).toBe(0);
    expect(lstatSync(join(dir, 'htpasswd')).isSymbolicLink()).toBe(true);
    expect(apacheVerifies(join(dir, 'real'), 'u', 'pw')).toBe(true);
    const empty = await perch(['add', join(dir, 'htpasswd'), 'v'], '\n');
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/password is empty/);
  });
});

describe('perch htpasswd verify', () => {
  it('exits 0 for the right password and 1 otherwise, on entries Apache wrote', async () => {
    const file = join(tempDir(), 'htpasswd');
    execFileSync('htpasswd', ['-cbB', file, 'alice', 'apache-pw']);
    expect(readFileSync(file, 'utf8')).toMatch(/^alice:\$2y\$/);
    expect((await perch(['verify', file, 'alice'], 'apache-pw\n')).code).toBe(0);
    const wrong = await perch(['verify', file, 'alice'], 'nope\n');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/password verification failed/);
    expect((await perch(['verify', file, 'bob'], 'x\n')).code).toBe(1);
  });

  it('accepts $2a$ and $2b$ entries too, and refuses non-bcrypt ones with a reason', async () => {
    const file = join(tempDir(), 'htpasswd');
    const b = bcrypt.hashSync('pw-b', 4);
    const a = b.replace(/^\$2b\$/, '$2a$');
    writeFileSync(file, `bee:${b}\nay:${a}\nmd5:$apr1$abcdefgh$0123456789abcdefghijkl\n`);
    expect((await perch(['verify', file, 'bee'], 'pw-b\n')).code).toBe(0);
    expect((await perch(['verify', file, 'ay'], 'pw-b\n')).code).toBe(0);
    const md5 = await perch(['verify', file, 'md5'], 'x\n');
    expect(md5.code).toBe(1);
    expect(md5.stderr).toMatch(/not bcrypt/);
  });
});

describe('perch htpasswd delete', () => {
  it('removes the user and says so; a missing user or file is an error', async () => {
    const file = join(tempDir(), 'htpasswd');
    execFileSync('htpasswd', ['-cbB', file, 'alice', 'a']);
    execFileSync('htpasswd', ['-bB', file, 'bob', 'b']);
    const run = await perch(['delete', file, 'alice']);
    expect(run.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^bob:/);
    expect(apacheVerifies(file, 'bob', 'b')).toBe(true);
    expect((await perch(['delete', file, 'alice'])).code).toBe(1);
    expect((await perch(['delete', join(tempDir(), 'none'), 'alice'])).code).toBe(1);
  });
});

describe('a terminal on stdin', () => {
  /** A stand-in terminal: records raw-mode switches, and delivers the keys in `chunks`. */
  async function onTerminal(args: string[], chunks: string[]): Promise<Run & { rawModes: boolean[] }> {
    const stdin = Object.assign(new PassThrough(), { isTTY: true, rawModes: [] as boolean[], setRawMode(mode: boolean) { stdin.rawModes.push(mode); } });
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (d) => (out += d));
    stderr.on('data', (d) => (err += d));
    const running = runHtpasswd(args, { stdin, stdout, stderr });
    for (const chunk of chunks) {
      await new Promise((r) => setTimeout(r, 5));
      stdin.write(chunk);
    }
    return { code: await running, stdout: out, stderr: err, rawModes: stdin.rawModes };
  }

  it('asks twice without echo, with Backspace, also when both answers arrive at once', async () => {
    const file = join(tempDir(), 'htpasswd');
    const typed = await onTerminal(['add', file, 'alice'], ['p', 'w', 'x', '\u007f', '1', '\r', 'pw1\r']);
    expect(typed.code).toBe(0);
    expect(typed.stderr).toContain('Password for alice: ');
    expect(typed.stderr).toContain('Retype password: ');
    expect(typed.stderr).not.toContain('pw1');
    expect(typed.rawModes).toEqual([true, false, true, false]);
    expect(apacheVerifies(file, 'alice', 'pw1')).toBe(true);
    const pasted = await onTerminal(['add', file, 'bob'], ['pw2\r\npw2\r\n']);
    expect(pasted.code).toBe(0);
    expect(apacheVerifies(file, 'bob', 'pw2')).toBe(true);
  });

  it('changes nothing when the answers differ, and stops on Ctrl-C', async () => {
    const file = join(tempDir(), 'htpasswd');
    const differ = await onTerminal(['add', file, 'alice'], ['one\r', 'two\r']);
    expect(differ.code).toBe(1);
    expect(differ.stderr).toMatch(/do not match; nothing changed/);
    expect(existsSync(file)).toBe(false);
    const cancelled = await onTerminal(['add', file, 'alice'], ['on', '\u0003']);
    expect(cancelled.code).toBe(130);
    expect(cancelled.rawModes.at(-1)).toBe(false);
  });
});

describe('usage', () => {
  it.each([[[]], [['add']], [['add', 'f']], [['frob', 'f', 'u']], [['add', 'f', 'u', 'extra']], [['add', 'f', 'a:b']], [['add', 'f', '']]])('%j exits 2', async (args) => {
    const run = await perch(args);
    expect(run.code).toBe(2);
    expect(existsSync('f')).toBe(false);
  });

  it('--help exits 0', async () => {
    expect((await perch(['--help'])).code).toBe(0);
  });
});

describe('a file made by perch htpasswd', () => {
  it('logs in at the registry', async () => {
    const file = join(tempDir(), 'htpasswd');
    await perch(['add', file, 'roost-test'], 'Chart-Pusher-1\n');
    const auth = await createAuth(makeConfig({ htpasswd: file }), silentLogger);
    const server = await startAuthServer(auth);
    try {
      expect((await server.request('GET', '/v2/', { headers: basic('roost-test', 'Chart-Pusher-1') })).status).toBe(200);
    } finally {
      await server.close();
      auth.close();
    }
  });
});
