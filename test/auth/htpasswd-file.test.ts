/**
 * The htpasswd file while the registry runs: rotation the way kubelet does it, a missing file,
 * malformed lines, the verified-credential cache, and http.auth.failDelay.
 */
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuth } from '../../registry-image/src/auth';
import { HtpasswdStore } from '../../registry-image/src/auth/htpasswd-store';
import { parseHtpasswd } from '../../registry-image/src/auth/htpasswd';
import type { Auth } from '../../registry-image/src/auth/types';
import { silentLogger } from '../../registry-image/src/log';
import { basic, makeConfig, recordingLogger, startAuthServer, tempDir, writeHtpasswd, type AuthServer } from './harness';

const POLL_MS = 100;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function serve(htpasswdPath: string, extra: { failDelay?: number } = {}): Promise<{ auth: Auth; server: AuthServer; lines: string[] }> {
  const { log, lines } = recordingLogger();
  const auth = await createAuth(makeConfig({ htpasswd: htpasswdPath, ...extra }), log, { pollIntervalMs: POLL_MS });
  const server = await startAuthServer(auth);
  cleanups.push(() => server.close(), () => auth.close());
  return { auth, server, lines };
}

async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

/**
 * A Secret volume as kubelet lays it out (pkg/volume/util/atomic_writer.go):
 *   <dir>/..<timestamp>/htpasswd      the data
 *   <dir>/..data -> ..<timestamp>     swapped by rename for every update
 *   <dir>/htpasswd -> ..data/htpasswd the path the registry is configured with
 */
class SecretVolume {
  private generation = 0;
  constructor(readonly dir: string) {}

  get path(): string {
    return join(this.dir, 'htpasswd');
  }

  write(users: Record<string, string>): void {
    const stamp = `..2026_11_23_20_00_00.${String(++this.generation).padStart(9, '0')}`;
    mkdirSync(join(this.dir, stamp));
    writeHtpasswd(join(this.dir, stamp, 'htpasswd'), users);
    symlinkSync(stamp, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data')); // the atomic swap
    if (this.generation === 1) symlinkSync('..data/htpasswd', this.path);
  }
}

describe('password rotation through a kubelet-style Secret volume', () => {
  it('accepts the new password and refuses the old one within the poll interval, despite the cache', async () => {
    const volume = new SecretVolume(tempDir('perch-secret-'));
    volume.write({ alice: 'old-Passw0rd' });
    const { server, lines } = await serve(volume.path);

    // Logged in with the old password, twice: the second answer comes from the cache.
    expect((await server.request('GET', '/v2/', { headers: basic('alice', 'old-Passw0rd') })).status).toBe(200);
    expect((await server.request('GET', '/v2/', { headers: basic('alice', 'old-Passw0rd') })).status).toBe(200);

    volume.write({ alice: 'new-Passw0rd' });
    const took = await eventually(async () => (await server.request('GET', '/v2/', { headers: basic('alice', 'old-Passw0rd') })).status === 401, 20 * POLL_MS);
    expect(took).toBeLessThan(10 * POLL_MS);
    expect((await server.request('GET', '/v2/', { headers: basic('alice', 'new-Passw0rd') })).status).toBe(200);
    expect(lines.some((l) => l.includes('htpasswd file reloaded'))).toBe(true);
  });

  it('picks up an added user and drops a removed one', async () => {
    const volume = new SecretVolume(tempDir('perch-secret-'));
    volume.write({ alice: 'a-Passw0rd' });
    const { server } = await serve(volume.path);
    expect((await server.request('GET', '/v2/', { headers: basic('bob', 'b-Passw0rd') })).status).toBe(401);
    volume.write({ bob: 'b-Passw0rd' });
    await eventually(async () => (await server.request('GET', '/v2/', { headers: basic('bob', 'b-Passw0rd') })).status === 200, 20 * POLL_MS);
    expect((await server.request('GET', '/v2/', { headers: basic('alice', 'a-Passw0rd') })).status).toBe(401);
  });
});

describe('a missing or unreadable htpasswd file', () => {
  it('makes readiness not ok with a reason, then recovers when the file appears', async () => {
    const dir = tempDir();
    const path = join(dir, 'htpasswd');
    const { auth, server } = await serve(path);
    const check = auth.readiness();
    expect(check.ok).toBe(false);
    expect(check.reason).toContain(path);
    expect(check.reason).toMatch(/does not exist/);
    expect((await server.request('GET', '/readyz')).status).toBe(503);
    expect((await server.request('GET', '/v2/', { headers: basic('alice', 'a-Passw0rd') })).status).toBe(401);

    writeHtpasswd(path, { alice: 'a-Passw0rd' });
    await eventually(() => auth.readiness().ok, 20 * POLL_MS);
    expect((await server.request('GET', '/v2/', { headers: basic('alice', 'a-Passw0rd') })).status).toBe(200);
  });

  it('keeps the users it had when the file disappears, and reports not ready', async () => {
    const dir = tempDir();
    const path = join(dir, 'htpasswd');
    writeHtpasswd(path, { alice: 'a-Passw0rd' });
    const { auth, server, lines } = await serve(path);
    expect(auth.readiness().ok).toBe(true);
    rmSync(path);
    await eventually(() => !auth.readiness().ok, 20 * POLL_MS);
    expect((await server.request('GET', '/v2/', { headers: basic('alice', 'a-Passw0rd') })).status).toBe(200);
    expect(lines.some((l) => l.includes('htpasswd file cannot be read') && l.includes('keeping'))).toBe(true);
  });

  it('reports a folder in place of the file as unreadable', async () => {
    const dir = tempDir();
    const path = join(dir, 'htpasswd');
    mkdirSync(path);
    const { auth } = await serve(path);
    expect(auth.readiness()).toEqual({ ok: false, reason: expect.stringMatching(/cannot be read \(EISDIR\)/) });
  });
});

describe('malformed lines', () => {
  it('refuse the file, each reported by line number without its content; the repeat of a user only warns', async () => {
    const dir = tempDir();
    const path = join(dir, 'htpasswd');
    writeHtpasswd(path, { alice: 'a-Passw0rd', bob: 'b-Passw0rd' });
    const good = (await import('node:fs')).readFileSync(path, 'utf8').trimEnd().split('\n');
    const text = [
      '# a comment',
      good[0],
      'no-colon-here',
      'md5user:$apr1$abcdefgh$0123456789abcdefghijkl',
      ':$2y$10$abcdefghijklmnopqrstuu1234567890123456789012345678901',
      'plain:secret-in-clear',
      good[0].replace(/:.*/, ':$2y$10$short'),
      good[1],
      good[0],
      '',
    ].join('\r\n');
    const { problems } = parseHtpasswd(text);
    expect(problems.map((p) => [p.line, p.refuses])).toEqual([
      [3, true],
      [4, true],
      [5, true],
      [6, true],
      [7, true],
      [9, false],
    ]);
    expect(problems[0].message).toMatch(/line 3 has no ":"/);
    expect(problems[1].message).toMatch(/md5user.*MD5.*bcrypt.*htpasswd -B/);
    expect(problems[2].message).toMatch(/empty user name/);
    expect(problems[3].message).toMatch(/"plain" has an unknown hash or a plain-text password/);
    expect(problems[4].message).toMatch(/"alice" has a malformed bcrypt hash/);
    expect(problems[5].message).toMatch(/repeats user "alice" \(first at line 2\)/);

    writeFileSync(path, text);
    const { log, lines } = recordingLogger();
    await expect(createAuth(makeConfig({ htpasswd: path }), log, { pollIntervalMs: POLL_MS })).rejects.toThrow(/refused: line 3 .*line 4: user "md5user"/);
    const refused = lines.filter((l) => l.includes('htpasswd line refused')).map((l) => JSON.parse(l));
    expect(refused.map((w) => w.line)).toEqual([3, 4, 5, 6, 7]);
    expect(lines.filter((l) => l.includes('htpasswd line ignored')).map((l) => JSON.parse(l).line)).toEqual([9]);
    const all = lines.join('\n');
    expect(all).not.toContain('secret-in-clear');
    expect(all).not.toContain('0123456789abcdefghijkl'); // the MD5 hash itself
  });

  it('a repeated user alone refuses nothing: the file loads and both users log in', async () => {
    const dir = tempDir();
    const path = join(dir, 'htpasswd');
    writeHtpasswd(path, { alice: 'a-Passw0rd', bob: 'b-Passw0rd' });
    const good = (await import('node:fs')).readFileSync(path, 'utf8').trimEnd().split('\n');
    writeFileSync(path, [...good, good[0], ''].join('\n'));
    const { server, lines } = await serve(path);
    expect((await server.request('GET', '/v2/', { headers: basic('alice', 'a-Passw0rd') })).status).toBe(200);
    expect((await server.request('GET', '/v2/', { headers: basic('bob', 'b-Passw0rd') })).status).toBe(200);
    expect(lines.some((l) => l.includes('htpasswd line ignored') && l.includes('repeats user \\"alice\\"'))).toBe(true);
  });

  it('parses CRLF files, comments and duplicates as Apache does (first entry wins)', () => {
    const hash = '$2y$04$abcdefghijklmnopqrstuu1234567890123456789012345678901';
    const other = '$2a$04$abcdefghijklmnopqrstuu1234567890123456789012345678902';
    const parsed = parseHtpasswd(`# c\r\nu:${hash}\r\nu:${other}\r\n`);
    expect(parsed.entries.get('u')).toEqual({ user: 'u', hash, line: 2 });
    expect(parsed.problems).toHaveLength(1);
  });
});

describe('the verified-credential cache', () => {
  it('runs bcrypt once per user and password, not per request', async () => {
    const dir = tempDir();
    const path = join(dir, 'htpasswd');
    writeHtpasswd(path, { alice: 'a-Passw0rd' }, 10); // the cost perch htpasswd writes
    const store = new HtpasswdStore(path, silentLogger, { pollIntervalMs: 60_000, now: Date.now });
    await store.start();
    cleanups.push(() => store.close());
    let start = performance.now();
    expect(await store.verify('alice', 'a-Passw0rd')).toBe(true);
    const first = performance.now() - start;
    start = performance.now();
    for (let i = 0; i < 50; i++) expect(await store.verify('alice', 'a-Passw0rd')).toBe(true);
    const fifty = performance.now() - start;
    // bcrypt at cost 10 takes tens of milliseconds; fifty cached answers take well under one.
    expect(first).toBeGreaterThan(10);
    expect(fifty).toBeLessThan(first);
  });

  it('shares one check between concurrent requests and forgets everything when the file changes', async () => {
    const dir = tempDir();
    const path = join(dir, 'htpasswd');
    writeHtpasswd(path, { alice: 'a-Passw0rd' });
    let now = 0;
    const store = new HtpasswdStore(path, silentLogger, { pollIntervalMs: 60_000, now: () => now, cacheTtlMs: 1000 });
    await store.start();
    cleanups.push(() => store.close());
    const answers = await Promise.all(Array.from({ length: 20 }, () => store.verify('alice', 'a-Passw0rd')));
    expect(answers.every(Boolean)).toBe(true);
    writeHtpasswd(path, { alice: 'b-Passw0rd' });
    await store.refresh();
    expect(await store.verify('alice', 'a-Passw0rd')).toBe(false);
    expect(await store.verify('alice', 'b-Passw0rd')).toBe(true);
    now += 2000; // past the TTL: checked again, same answer
    expect(await store.verify('alice', 'b-Passw0rd')).toBe(true);
  });
});

describe('http.auth.failDelay', () => {
  it('answers a failed login only after the delay, and holds the next attempt of the same client and user', async () => {
    const dir = tempDir();
    const path = join(dir, 'htpasswd');
    writeHtpasswd(path, { alice: 'a-Passw0rd', bob: 'b-Passw0rd' });
    const { server } = await serve(path, { failDelay: 1 });

    let start = Date.now();
    const refused = await server.request('GET', '/v2/', { headers: basic('alice', 'Wr0ng-pass-x') });
    expect(refused.status).toBe(401);
    expect(Date.now() - start).toBeGreaterThanOrEqual(950);

    // Another user from the same address is not held back...
    start = Date.now();
    expect((await server.request('GET', '/v2/', { headers: basic('bob', 'b-Passw0rd') })).status).toBe(200);
    expect(Date.now() - start).toBeLessThan(500);

    // ...but attempts for the same pair take turns, one per delay, even in parallel:
    // the first is checked at once, the second a delay later, each answered a delay after.
    start = Date.now();
    const parallel = await Promise.all([
      server.request('GET', '/v2/', { headers: basic('alice', 'Wr0ng-pass-y') }).then(() => Date.now() - start),
      server.request('GET', '/v2/', { headers: basic('alice', 'Wr0ng-pass-z') }).then(() => Date.now() - start),
    ]);
    expect(Math.min(...parallel)).toBeGreaterThanOrEqual(950);
    expect(Math.max(...parallel)).toBeGreaterThanOrEqual(1900);

    // Once the turns have passed, the right password is answered at once and clears the pair.
    await new Promise((r) => setTimeout(r, 1100));
    start = Date.now();
    expect((await server.request('GET', '/v2/', { headers: basic('alice', 'a-Passw0rd') })).status).toBe(200);
    expect(Date.now() - start).toBeLessThan(500);
  });
});
