/**
 * LDAP logins end to end: the bundled perch (`perch serve`, a child process) with
 * http.auth.ldap pointing at a real OpenLDAP slapd (test/helpers/slapd.ts), and real clients
 * logging in with directory passwords. What a user would check:
 *
 * - crane, oras and helm log in with an LDAP password, push, and pull back the same bytes;
 * - a wrong password gets 401 only after failDelay;
 * - memberOf decides access: a user in "readers" may pull but a push is 403 DENIED, a user in
 *   "writers" may push;
 * - a user removed from "writers" in slapd keeps push for the cache time (cacheTTL "2s") and
 *   loses it after, not before;
 * - slapd stopped: a login not in the cache gets 503 UNAVAILABLE naming the server, and logins
 *   work again once it is back;
 * - zot's examples/config-ldap.json (test/fixtures/zot-configs/config-ldap.json: only the LDAP
 *   address, port, baseDN and credentials file path adapted) starts and enforces its policies.
 *   Its credentialsFile is relative, resolved against the working directory as zot does; perch
 *   runs in the repository root here. At run time the test also points what is this machine's
 *   and not the example's at real things: the LDAP port at slapd's LDAPS port (the fixture's
 *   636), http.tls at a certificate made for 127.0.0.1, and the listen port, storage and log at
 *   the test's own. The example speaks LDAPS (insecure and startTLS unset) with skipVerify.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeClientHome, type ClientHome } from '../helpers/client-home';
import { writeSingleImageLayout } from '../helpers/oci-layout';
import { sha256 } from '../helpers/oci-client';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { showRegistryLogsOnFailure } from '../helpers/registry-under-test';
import { runCommand } from '../helpers/run-command';
import { SEARCHER_DN, SEARCHER_PASSWORD, USERS_DN, startSlapd, type Slapd } from '../helpers/slapd';
import { tempDir } from './harness';

const FIXTURES = resolve(__dirname, '..', 'fixtures', 'zot-configs');

interface Reply {
  status: number;
  code?: string;
  message?: string;
  ms: number;
}

/** One registry request with Basic credentials, over http or (with `ca`) https. */
function call(base: string, method: string, path: string, user: string, password: string, options: { body?: Buffer; contentType?: string; ca?: string } = {}): Promise<Reply> {
  const started = Date.now();
  const url = new URL(path, base);
  const headers: Record<string, string> = { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
  if (options.contentType) headers['Content-Type'] = options.contentType;
  const done = (status: number, text: string): Reply => {
    let code: string | undefined;
    let message: string | undefined;
    try {
      const first = JSON.parse(text)?.errors?.[0];
      code = first?.code;
      message = first?.message;
    } catch {
      // not an error body
    }
    return { status, code, message, ms: Date.now() - started };
  };
  if (url.protocol === 'https:') {
    return new Promise((resolveReply, reject) => {
      const req = httpsRequest(url, { method, headers, ca: options.ca, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolveReply(done(res.statusCode ?? 0, Buffer.concat(chunks).toString())));
      });
      req.on('error', reject);
      req.end(options.body);
    });
  }
  return fetch(url, { method, headers, body: options.body ? new Uint8Array(options.body) : undefined }).then(async (res) => done(res.status, await res.text()));
}

/** A push as clients do it, a blob then a manifest; the first refusal is returned. */
async function push(base: string, repo: string, tag: string, user: string, password: string, ca?: string): Promise<Reply> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, tag }));
  const blob = await call(base, 'POST', `/v2/${repo}/blobs/uploads/?digest=${sha256(config)}`, user, password, { body: config, contentType: 'application/octet-stream', ca });
  if (blob.status !== 201) return blob;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [],
    }),
  );
  return call(base, 'PUT', `/v2/${repo}/manifests/${tag}`, user, password, { body: manifest, contentType: 'application/vnd.oci.image.manifest.v1+json', ca });
}

function credentialsFile(): string {
  // zot's credentials file shape; slapd's search account has exactly these values.
  const dir = tempDir('perch-ldap-creds-');
  const path = join(dir, 'ldap-credentials.json');
  writeFileSync(path, JSON.stringify({ bindDN: SEARCHER_DN, bindPassword: SEARCHER_PASSWORD }), { mode: 0o600 });
  return path;
}

describe('LDAP logins through perch', () => {
  const USERS = {
    pusher: { uid: 'pusher', password: 'Pusher-Ldap-Pw-1', groups: ['writers'] },
    reader: { uid: 'reader', password: 'Reader-Ldap-Pw-2', groups: ['readers'] },
    mover: { uid: 'mover', password: 'Mover-Ldap-Pw-3', groups: ['writers'] },
    late: { uid: 'late', password: 'Late-Ldap-Pw-4', groups: ['writers'] },
  };
  const FAIL_DELAY_S = 1;
  let slapd: Slapd;
  let registry: RunningRegistry;
  let home: ClientHome;
  showRegistryLogsOnFailure(() => registry && { name: 'perch', host: registry.host, url: registry.url, logs: registry.logs, stop: async () => {} });

  beforeAll(async () => {
    slapd = await startSlapd({ users: Object.values(USERS) });
    registry = await startRegistry({
      config: {
        http: {
          auth: {
            ldap: {
              credentialsFile: credentialsFile(),
              address: '127.0.0.1',
              port: slapd.port,
              insecure: true,
              baseDN: USERS_DN,
              userAttribute: 'uid',
              userGroupAttribute: 'memberOf',
              subtreeSearch: true,
              cacheTTL: '2s',
            },
            failDelay: FAIL_DELAY_S,
          },
          accessControl: {
            repositories: {
              '**': {
                policies: [
                  { groups: ['writers'], actions: ['read', 'create', 'update', 'delete'] },
                  { groups: ['readers'], actions: ['read'] },
                ],
                defaultPolicy: [],
              },
            },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await registry?.stop();
    await slapd?.stop();
  });
  beforeEach(() => {
    home = makeClientHome('perch-ldap-');
  });
  afterEach(() => home.remove());

  const run = (cmd: string, args: string[], options: { input?: string; allowFailure?: boolean; cwd?: string } = {}) =>
    runCommand(cmd, args, { env: home.env, timeoutMs: 90_000, ...options });

  it('crane: auth login with an LDAP password, push an image, pull it back whole', async () => {
    const { uid, password } = USERS.pusher;
    const image = writeSingleImageLayout(home.folder('crane-src'), 'v1', 'ldap-crane');
    await run('crane', ['auth', 'login', registry.host, '-u', uid, '--password-stdin'], { input: password });
    await run('crane', ['push', image.dir, `${registry.host}/ldap/crane:v1`]);
    expect((await run('crane', ['digest', `${registry.host}/ldap/crane:v1`])).stdout.trim()).toBe(image.manifest.digest);
    await run('crane', ['copy', `${registry.host}/ldap/crane:v1`, `${registry.host}/ldap/crane-copy:v1`]);
    const tarball = join(home.folder('crane-out'), 'image.tar');
    await run('crane', ['pull', `${registry.host}/ldap/crane-copy:v1`, tarball]);
    expect(readFileSync(tarball).length).toBeGreaterThan(0);
    expect((await run('crane', ['digest', `${registry.host}/ldap/crane-copy:v1`])).stdout.trim()).toBe(image.manifest.digest);
  });

  it('oras: login with an LDAP password, push a file, pull the same bytes', async () => {
    const { uid, password } = USERS.pusher;
    const work = home.folder('oras-work');
    const content = `ldap artifact ${Date.now()}\n`;
    writeFileSync(join(work, 'note.txt'), content);
    const wrong = await run('oras', ['login', registry.host, '--plain-http', '-u', uid, '--password-stdin'], { input: 'not-the-password', allowFailure: true });
    expect(wrong.code).not.toBe(0);
    await run('oras', ['login', registry.host, '--plain-http', '-u', uid, '--password-stdin'], { input: password });
    await run('oras', ['push', '--plain-http', `${registry.host}/ldap/oras:v1`, 'note.txt:text/plain'], { cwd: work });
    const out = home.folder('oras-out');
    await run('oras', ['pull', '--plain-http', `${registry.host}/ldap/oras:v1`, '-o', out]);
    expect(readFileSync(join(out, 'note.txt'), 'utf8')).toBe(content);
  });

  it('helm: registry login with an LDAP password, push a chart, pull it', async () => {
    const { uid, password } = USERS.pusher;
    const work = home.folder('helm-work');
    const chart = join(work, 'ldap-chart');
    mkdirSync(join(chart, 'templates'), { recursive: true });
    writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: ldap-chart\nversion: 0.1.0\ntype: application\n');
    await run('helm3', ['package', chart, '--destination', work]);
    await run('helm3', ['registry', 'login', registry.host, '--plain-http', '-u', uid, '--password-stdin'], { input: `${password}\n` });
    await run('helm3', ['push', join(work, 'ldap-chart-0.1.0.tgz'), `oci://${registry.host}/ldap/charts`, '--plain-http']);
    const pulled = home.folder('helm-pulled');
    await run('helm3', ['pull', `oci://${registry.host}/ldap/charts/ldap-chart`, '--version', '0.1.0', '--destination', pulled, '--plain-http']);
    expect(readdirSync(pulled)).toEqual(['ldap-chart-0.1.0.tgz']);
    expect(readFileSync(join(pulled, 'ldap-chart-0.1.0.tgz')).equals(readFileSync(join(work, 'ldap-chart-0.1.0.tgz')))).toBe(true);
  });

  it('a wrong LDAP password gets 401 UNAUTHORIZED after failDelay; the right one 200 at once', async () => {
    const wrong = await call(registry.url, 'GET', '/v2/', USERS.reader.uid, 'Wrong-Password-0');
    expect(wrong.status).toBe(401);
    expect(wrong.code).toBe('UNAUTHORIZED');
    expect(wrong.ms).toBeGreaterThanOrEqual(FAIL_DELAY_S * 1000 - 50);
    // The delay is the refusal's, not LDAP's: the right password is answered without it.
    const right = await call(registry.url, 'GET', '/v2/', USERS.reader.uid, USERS.reader.password);
    expect(right.status).toBe(200);
    expect(right.ms).toBeLessThan(FAIL_DELAY_S * 1000);
    const empty = await call(registry.url, 'GET', '/v2/', USERS.reader.uid, '');
    expect(empty.status).toBe(401);
    const injected = await call(registry.url, 'GET', '/v2/', 'read*', USERS.reader.password);
    expect(injected.status).toBe(401);
  });

  it('memberOf decides: readers pull but a push is 403 DENIED, writers push', async () => {
    expect((await push(registry.url, 'groups/app', 'v1', USERS.pusher.uid, USERS.pusher.password)).status).toBe(201);
    const read = await call(registry.url, 'GET', '/v2/groups/app/manifests/v1', USERS.reader.uid, USERS.reader.password);
    expect(read.status).toBe(200);
    const denied = await push(registry.url, 'groups/app', 'v2', USERS.reader.uid, USERS.reader.password);
    expect(denied.status).toBe(403);
    expect(denied.code).toBe('DENIED');
    const crane = home.folder('reader-src');
    const image = writeSingleImageLayout(crane, 'v1', 'ldap-reader');
    await run('crane', ['auth', 'login', registry.host, '-u', USERS.reader.uid, '--password-stdin'], { input: USERS.reader.password });
    const refused = await run('crane', ['push', image.dir, `${registry.host}/groups/reader:v1`], { allowFailure: true });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/DENIED/);
  });

  it('a user removed from writers in slapd keeps push for cacheTTL (2 s), then gets 403', async () => {
    const { uid, password } = USERS.mover;
    const filled = Date.now();
    expect((await push(registry.url, 'moves/app', 'v1', uid, password)).status).toBe(201);
    await slapd.removeFromGroup(uid, 'writers');
    expect(await slapd.memberOf(uid)).toEqual([]);
    // Still inside the 2 s the first login is remembered for.
    const soon = await push(registry.url, 'moves/app', 'v2', uid, password);
    const soonAt = Date.now() - filled;
    expect(soonAt, 'this check must run inside the cache time to mean anything').toBeLessThan(1800);
    expect(soon.status).toBe(201);
    // Then, at the latest a little after the 2 s, the directory's answer.
    let refusedAt = 0;
    for (let i = 0; i < 40; i++) {
      const r = await push(registry.url, 'moves/app', `t${i}`, uid, password);
      if (r.status === 403) {
        expect(r.code).toBe('DENIED');
        refusedAt = Date.now() - filled;
        break;
      }
      expect(r.status).toBe(201);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(refusedAt).toBeGreaterThanOrEqual(1900);
    expect(refusedAt).toBeLessThan(5000);
    console.log(`removed from writers: push allowed at ${soonAt} ms, refused from ${refusedAt} ms (cacheTTL 2000 ms)`);
  });

  it('slapd stopped: a login gets 503 UNAVAILABLE naming the LDAP server; back again, logins work', async () => {
    await slapd.stop();
    try {
      const r = await call(registry.url, 'GET', '/v2/', USERS.late.uid, USERS.late.password);
      expect(r.status).toBe(503);
      expect(r.code).toBe('UNAVAILABLE');
      expect(r.message).toContain(`ldap://127.0.0.1:${slapd.port}`);
      expect(r.message).toMatch(/unreachable/);
      expect(r.message).not.toContain(USERS.late.password);
      // oras reports it to its user as well.
      const oras = await run('oras', ['login', registry.host, '--plain-http', '-u', USERS.late.uid, '--password-stdin'], { input: USERS.late.password, allowFailure: true });
      expect(oras.code).not.toBe(0);
      expect(oras.stderr).toMatch(/503|UNAVAILABLE|unavailable/i);
    } finally {
      await slapd.restart();
    }
    const back = await call(registry.url, 'GET', '/v2/', USERS.late.uid, USERS.late.password);
    expect(back.status).toBe(200);
    const log = registry.logs.join('\n');
    for (const u of Object.values(USERS)) expect(log).not.toContain(u.password);
    expect(log).not.toContain(SEARCHER_PASSWORD);
  });
});

describe("zot's examples/config-ldap.json against slapd", () => {
  // The example's policies: "**" gives read/create/update to user charlie and to the groups
  // admins, developers and cn=ldap-group,ou=Groups,dc=example,dc=org; tmp/** to any logged-in
  // user; repos2/repo read to any logged-in user; adminPolicy everything to developers.
  const USERS = {
    charlie: { uid: 'charlie', password: 'Charlie-Pw-1' },
    dave: { uid: 'dave', password: 'Dave-Pw-2', groups: ['developers'] },
    erin: { uid: 'erin', password: 'Erin-Pw-3', groups: ['ldap-group'] },
    frank: { uid: 'frank', password: 'Frank-Pw-4' },
    gina: { uid: 'gina', password: 'Gina-Pw-5', groups: ['developers'], locked: true },
  };
  let slapd: Slapd;
  let registry: RunningRegistry;
  let base: string;
  showRegistryLogsOnFailure(() => registry && { name: 'perch', host: registry.host, url: registry.url, logs: registry.logs, stop: async () => {} });

  beforeAll(async () => {
    slapd = await startSlapd({ users: Object.values(USERS), tls: true });
    const config = JSON.parse(readFileSync(join(FIXTURES, 'config-ldap.json'), 'utf8'));
    config.http.auth.ldap.port = slapd.ldapsPort;
    config.http.tls = { cert: slapd.tlsFiles!.cert, key: slapd.tlsFiles!.key };
    delete config.http.address;
    delete config.http.port;
    delete config.storage;
    delete config.log;
    // The fixture's relative credentialsFile must resolve as in zot: against the working directory.
    expect(process.cwd()).toBe(resolve(__dirname, '..', '..'));
    registry = await startRegistry({ config });
    base = `https://${registry.host}`;
  });
  afterAll(async () => {
    await registry?.stop();
    await slapd?.stop();
  });

  const as = (u: { uid: string; password: string }) => {
    const ca = readFileSync(slapd.caCert!, 'utf8');
    return {
      push: (repo: string, tag: string) => push(base, repo, tag, u.uid, u.password, ca),
      get: (path: string) => call(base, 'GET', path, u.uid, u.password, { ca }),
      delete: (path: string) => call(base, 'DELETE', path, u.uid, u.password, { ca }),
    };
  };

  it('starts, serves TLS, and logs users in over LDAPS with the example credentials file', async () => {
    expect((await as(USERS.charlie).get('/v2/')).status).toBe(200);
    expect(slapd.logs.some((l) => l.includes(`BIND dn="${SEARCHER_DN}"`))).toBe(true);
    expect(slapd.logs.some((l) => / TLS established/.test(l))).toBe(true);
  });

  it('user charlie (named in the policy) pushes anywhere but may not delete', async () => {
    expect((await as(USERS.charlie).push('apps/charlie', 'v1')).status).toBe(201);
    const del = await as(USERS.charlie).delete('/v2/apps/charlie/manifests/v1');
    expect(del.status).toBe(403);
    expect(del.code).toBe('DENIED');
  });

  it('group by DN (erin in cn=ldap-group) pushes; group by CN (dave in developers) also deletes via adminPolicy', async () => {
    expect((await as(USERS.erin).push('apps/erin', 'v1')).status).toBe(201);
    expect((await as(USERS.erin).delete('/v2/apps/erin/manifests/v1')).status).toBe(403);
    expect((await as(USERS.dave).push('apps/dave', 'v1')).status).toBe(201);
    expect((await as(USERS.dave).delete('/v2/apps/erin/manifests/v1')).status).toBe(202);
  });

  it('a user in no group (frank) pushes only to tmp/**, reads repos2/repo, is refused elsewhere', async () => {
    const refused = await as(USERS.frank).push('apps/frank', 'v1');
    expect(refused.status).toBe(403);
    expect(refused.code).toBe('DENIED');
    expect((await as(USERS.frank).push('tmp/frank', 'v1')).status).toBe(201);
    // Read allowed: the answer is "no such manifest", not a refusal.
    expect((await as(USERS.frank).get('/v2/repos2/repo/manifests/none')).status).toBe(404);
    expect((await as(USERS.frank).get('/v2/apps/charlie/manifests/v1')).status).toBe(403);
  });

  it("the example's userFilter (!(nsaccountlock=TRUE)) keeps a locked developer out: 401 after failDelay 5", async () => {
    const r = await as(USERS.gina).get('/v2/');
    expect(r.status).toBe(401);
    expect(r.ms).toBeGreaterThanOrEqual(4950);
  }, 20_000);
});
