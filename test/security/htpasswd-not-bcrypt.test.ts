/**
 * htpasswd lines that are not bcrypt are refused, never silently accepted or silently skipped:
 *
 * - at start-up `perch serve` exits non-zero with a message that names the file, the line and
 *   `htpasswd -B` (and never the hash or a plain-text password);
 * - when the polled file changes to one with such a line, the registry keeps the users it had,
 *   logs the refusal as an error, and /readyz answers 503 naming the line until the file is
 *   fixed (auth/htpasswd-store.ts; docs/auth.md);
 * - `perch htpasswd add` warns when the file it just wrote still holds such a line.
 *
 * The entries are what Apache's htpasswd 2.4 writes: `htpasswd -nbm` (MD5, its default),
 * `-nbs` (SHA-1), `-nbd` (crypt) and `-nbp` (plain text).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runHtpasswd } from '../../registry-image/src/cli/htpasswd';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { tempDir } from '../helpers/temp-dir';
import { basic, call, htpasswdLines, logLine } from './harness';

const NOT_BCRYPT = [
  { what: "Apache MD5 ($apr1$), htpasswd's default", line: 'md5user:$apr1$xOXHRTjz$b7zyITKdf9eq.DtwS3Zx0.', secret: 'b7zyITKdf9eq.DtwS3Zx0.', says: /Apache MD5 \(\$apr1\$\)/ },
  { what: 'SHA-1 ({SHA})', line: 'shauser:{SHA}YeTWQsLQ6zJgzqtJe0WaNwbdVlA=', secret: 'YeTWQsLQ6zJgzqtJe0WaNwbdVlA=', says: /SHA-1 \(\{SHA\}\)/ },
  { what: 'crypt (DES, 13 characters)', line: 'cryptusr:WSFq2vFj/rxtc', secret: 'WSFq2vFj/rxtc', says: /crypt \(DES\)/ },
  { what: 'plain text', line: 'plainusr:plain-Secret-4', secret: 'plain-Secret-4', says: /plain-text password/ },
] as const;

const ALICE = { alice: 'alice-Passw0rd-1' };

function configWith(htpasswd: string) {
  return { http: { auth: { htpasswd: { path: htpasswd } } }, perch: { auth: { tokenKeyFile: join(tempDir('perch-key-'), 'token.key') } } };
}

describe('perch serve with a non-bcrypt line in the htpasswd file', () => {
  it.each(NOT_BCRYPT)('$what: exits non-zero naming the file, the line and htpasswd -B', async ({ line, secret, says }) => {
    const path = join(tempDir('perch-htpasswd-'), 'htpasswd');
    writeFileSync(path, `# users\n${htpasswdLines(ALICE)}${line}\n`);
    const failed = await startRegistry({ config: configWith(path) }).then(
      async (r) => {
        await r.stop();
        return undefined;
      },
      (err: Error) => err.message,
    );
    expect(failed, 'the registry started with the file').toBeDefined();
    expect(failed).toMatch(/^registry exited with 1 before listening/);
    // The one sentence an operator needs, as the last JSON line of the process's own output.
    const lines = failed!.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const last = lines[lines.length - 1];
    expect(last).toMatchObject({ level: 'error', message: 'cannot start' });
    expect(last.error).toContain(`htpasswd file ${path} refused: line 3: user "${line.split(':')[0]}" has`);
    expect(last.error).toMatch(says);
    expect(last.error).toContain('htpasswd -B FILE USER');
    expect(failed).not.toContain(secret);
  });
});

describe('the htpasswd file changing to one with a non-bcrypt line while the registry runs', () => {
  let registry: RunningRegistry;
  afterAll(() => registry?.stop());

  it('keeps the users loaded before, logs the refusal naming the line, and is unready until the file is fixed', async () => {
    const path = join(tempDir('perch-htpasswd-'), 'htpasswd');
    writeFileSync(path, htpasswdLines(ALICE));
    registry = await startRegistry({ config: configWith(path) });
    expect((await call(`${registry.url}/v2/`, { headers: basic('alice', ALICE.alice) })).status).toBe(200);

    // A new password for alice, a new user, and an entry made without -B.
    const mark = registry.logs.length;
    writeFileSync(path, htpasswdLines({ alice: 'alice-Rotated-2', carol: 'carol-Passw0rd-3' }) + `${NOT_BCRYPT[0].line}\n`);
    const refused = JSON.parse(await logLine(registry, /"htpasswd line refused"/, mark));
    expect(refused).toMatchObject({ level: 'error', path, line: 3 });
    expect(refused.problem).toMatch(/line 3: user "md5user" has an Apache MD5 \(\$apr1\$\) hash.*htpasswd -B FILE USER/);
    const file = JSON.parse(await logLine(registry, /"htpasswd file refused"/, mark));
    expect(file).toMatchObject({ level: 'error', path, lines: [3], keeping: 'the 1 users loaded before' });

    // Nothing of the refused file is in force: the old password still works, the new ones do not.
    expect((await call(`${registry.url}/v2/`, { headers: basic('alice', ALICE.alice) })).status).toBe(200);
    expect((await call(`${registry.url}/v2/`, { headers: basic('alice', 'alice-Rotated-2') })).status).toBe(401);
    expect((await call(`${registry.url}/v2/`, { headers: basic('carol', 'carol-Passw0rd-3') })).status).toBe(401);
    const ready = await call(`${registry.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body).toContain(`htpasswd file ${path} refused: line 3`);
    expect(ready.body).toContain('htpasswd -B');
    expect(registry.logs.join('\n')).not.toContain(NOT_BCRYPT[0].secret);

    // Fixed: the new file is in force and the registry is ready again.
    const fixedAt = registry.logs.length;
    writeFileSync(path, htpasswdLines({ alice: 'alice-Rotated-2', carol: 'carol-Passw0rd-3' }));
    await logLine(registry, /"htpasswd file reloaded"/, fixedAt);
    expect((await call(`${registry.url}/readyz`)).status).toBe(200);
    expect((await call(`${registry.url}/v2/`, { headers: basic('carol', 'carol-Passw0rd-3') })).status).toBe(200);
    expect((await call(`${registry.url}/v2/`, { headers: basic('alice', ALICE.alice) })).status).toBe(401);
  });
});

describe('perch htpasswd add on a file with a non-bcrypt line', () => {
  it('adds the user and warns that the registry refuses the file until the line is fixed', async () => {
    const path = join(tempDir('perch-htpasswd-'), 'htpasswd');
    writeFileSync(path, `${NOT_BCRYPT[0].line}\n`);
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (d) => (err += d));
    stdout.resume();
    stdin.end('bob-Passw0rd-5\n');
    expect(await runHtpasswd(['add', path, 'bob'], { stdin, stdout, stderr })).toBe(0);
    expect(readFileSync(path, 'utf8')).toMatch(/^md5user:\$apr1\$.*\nbob:\$2y\$10\$/);
    expect(err).toContain(`the registry refuses ${path} until these lines are fixed`);
    expect(err).toMatch(/line 1: user "md5user" has an Apache MD5.*htpasswd -B/);
    // Re-adding that user with perch (bcrypt) is the fix, and then nothing is said.
    const again = new PassThrough();
    again.end('md5-Passw0rd-6\n');
    err = '';
    expect(await runHtpasswd(['add', path, 'md5user'], { stdin: again, stdout, stderr })).toBe(0);
    expect(err).toBe('');
  });
});
