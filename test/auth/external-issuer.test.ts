/**
 * Tokens from an external issuer, end to end: a second perch's token service is the issuer.
 *
 *   perch A   htpasswd users, perch.auth.challenge "bearer", an ES256 token key made with
 *             openssl (`openssl ecparam -name prime256v1 -genkey -noout`); its public half
 *             exported as a certificate (`openssl req -new -x509 -key ...`)
 *   perch B   zot's examples/config-bearer-auth.json (test/fixtures/zot-configs/), changed only
 *             in paths and port: http.auth.bearer { realm: A's /v2/token, service: B's
 *             host:port, cert: A's certificate }. B has no users and no token key of its own.
 *
 * Clients reach B as localhost:<port> and A's realm is http://localhost:<port>/v2/token: crane
 * and oras refuse token realms on private addresses unless they match the registry's own
 * host (their SSRF guards; see beforeAll), so a realm on 127.0.0.1 would fail with them.
 *
 * Real clients (crane, oras) aim at B, get a Bearer challenge naming A's realm and B's service,
 * fetch a token from A with their login, and push to B; they pull it back. Then the refusals a
 * user would meet, over plain HTTP to B with tokens fetched from A by hand: a token whose
 * access lacks push (A's policy gave the user only pull) is 401 insufficient_scope with the
 * scope to fetch; a token signed by another key, an expired one, and one A issued for another
 * service (aud) are 401 invalid_token.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeClientHome, type ClientHome } from '../helpers/client-home';
import { freePort } from '../helpers/ports';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { runCommand } from '../helpers/run-command';
import { tempDir } from '../helpers/temp-dir';
import { writeHtpasswd } from './harness';

const PASSWORDS = { alice: 'Alice-Pushes-7', reader: 'Only-Reads-3' };
const FIXTURE = join(__dirname, '..', 'fixtures', 'zot-configs', 'config-bearer-auth.json');

let dir: string;
let a: RunningRegistry;
let b: RunningRegistry;
let home: ClientHome;
/** A's token endpoint, as B's config names it. */
let realm: string;
/** B as clients name it, and its bearer.service: localhost:<port>. */
let service: string;

async function openssl(args: string[]): Promise<void> {
  await runCommand('openssl', args, { timeoutMs: 30_000 });
}

beforeAll(async () => {
  dir = tempDir('perch-issuer-e2e-');
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', join(dir, 'a-token.key')]);
  await openssl(['req', '-new', '-x509', '-key', join(dir, 'a-token.key'), '-subj', '/CN=perch A token issuer', '-days', '3', '-out', join(dir, 'a-token.crt')]);
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', join(dir, 'stranger.key')]);
  writeHtpasswd(join(dir, 'htpasswd'), PASSWORDS, 10);
  a = await startRegistry({
    config: {
      http: {
        auth: { htpasswd: { path: join(dir, 'htpasswd') } },
        accessControl: {
          repositories: { '**': { policies: [{ users: ['alice'], actions: ['read', 'create', 'update'] }], defaultPolicy: ['read'] } },
        },
      },
      perch: { auth: { challenge: 'bearer', tokenKeyFile: join(dir, 'a-token.key') } },
    },
  });
  const port = await freePort();
  const config = JSON.parse(readFileSync(FIXTURE, 'utf8'));
  config.storage.rootDirectory = tempDir('perch-issuer-b-data-');
  config.http.port = String(port);
  // Names, not 127.0.0.1: both clients guard against token realms on private addresses (SSRF).
  // crane (go-containerregistry 0.22) refuses a private IP literal unless it is the registry's
  // own host:port; oras (oras-go 2.7) refuses any realm resolving to one unless its host name
  // is the registry's. Registry and realm both on "localhost" pass both checks.
  realm = `http://localhost:${a.port}/v2/token`;
  config.http.auth.bearer.realm = realm;
  service = `localhost:${port}`;
  config.http.auth.bearer.service = service;
  config.http.auth.bearer.cert = join(dir, 'a-token.crt');
  b = await startRegistry({ config, port });
}, 60_000);
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

beforeEach(() => {
  home = makeClientHome('perch-issuer-client-');
});
afterEach(() => home.remove());

const basicHeader = (user: keyof typeof PASSWORDS) => `Basic ${Buffer.from(`${user}:${PASSWORDS[user]}`).toString('base64')}`;

/** A token from A's /v2/token for B's service, the way a client fetches one after B's challenge. */
async function tokenFromA(user: keyof typeof PASSWORDS, scope: string, forService = service): Promise<string> {
  const res = await fetch(`${a.url}/v2/token?service=${encodeURIComponent(forService)}&scope=${encodeURIComponent(scope)}`, { headers: { Authorization: basicHeader(user) } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

describe('B sends clients to A', () => {
  it('an anonymous GET /v2/ on B is 401 with a Bearer challenge naming A\'s realm and B\'s service', async () => {
    const res = await fetch(`${b.url}/v2/`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${realm}",service="${service}"`);
    const push = await fetch(`${b.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
    expect(push.status).toBe(401);
    expect(push.headers.get('www-authenticate')).toBe(`Bearer realm="${realm}",service="${service}",scope="repository:team/app:pull,push"`);
  });
});

describe('real clients push to B with tokens from A', () => {
  it('crane: auth login for B, push, then pull back the same digest', async () => {
    await runCommand('crane', ['auth', 'login', service, '-u', 'alice', '--password-stdin'], { env: home.env, input: PASSWORDS.alice });
    const tarball = join(home.folder('crane'), 'image.tar');
    // A one-layer image made by crane itself from a folder of files.
    const base = home.folder('crane-base');
    writeFileSync(join(base, 'hello.txt'), 'hello from crane via an external issuer\n');
    await runCommand('tar', ['-cf', join(home.dir, 'layer.tar'), '-C', base, 'hello.txt']);
    await runCommand('crane', ['append', '--new_layer', join(home.dir, 'layer.tar'), '--new_tag', `${service}/team/crane:v1`, '--output', tarball, '--platform', 'linux/amd64'], { env: home.env });
    const pushed = await runCommand('crane', ['push', tarball, `${service}/team/crane:v1`, '--insecure'], { env: home.env });
    const digest = pushed.stdout.trim().split('@')[1];
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const got = await runCommand('crane', ['digest', `${service}/team/crane:v1`, '--insecure'], { env: home.env });
    expect(got.stdout.trim()).toBe(digest);
  });

  it('oras: push and pull with -u/-p; the reader\'s push is refused', async () => {
    const work = home.folder('oras');
    writeFileSync(join(work, 'notes.txt'), 'pushed with a token from perch A\n');
    await runCommand('oras', ['push', '--plain-http', '-u', 'alice', '-p', PASSWORDS.alice, `${service}/team/oras:v1`, 'notes.txt'], { env: home.env, cwd: work });
    const out = home.folder('oras-out');
    await runCommand('oras', ['pull', '--plain-http', '-u', 'reader', '-p', PASSWORDS.reader, '-o', out, `${service}/team/oras:v1`], { env: home.env });
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('pushed with a token from perch A\n');
    const refused = await runCommand('oras', ['push', '--plain-http', '-u', 'reader', '-p', PASSWORDS.reader, `${service}/team/oras:v2`, 'notes.txt'], { env: home.env, cwd: work, allowFailure: true });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/401|unauthorized|insufficient_scope/i);
  });
});

describe('tokens B refuses', () => {
  it('a token without push (A gave the reader only pull) is 401 insufficient_scope, naming the scope to fetch', async () => {
    const token = await tokenFromA('reader', 'repository:team/app:pull,push');
    // Pull is in the token: the read reaches the registry, which has no team/app yet.
    const read = await fetch(`${b.url}/v2/team/app/tags/list`, { headers: { Authorization: `Bearer ${token}` } });
    expect(read.status).toBe(404);
    expect(((await read.json()) as { errors: Array<{ code: string }> }).errors[0].code).toBe('NAME_UNKNOWN');
    const push = await fetch(`${b.url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    expect(push.status).toBe(401);
    expect(push.headers.get('www-authenticate')).toBe(`Bearer realm="${realm}",service="${service}",scope="repository:team/app:pull,push",error="insufficient_scope"`);
  });

  it('the same scope for alice pushes', async () => {
    const token = await tokenFromA('alice', 'repository:team/app:pull,push');
    const push = await fetch(`${b.url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    expect(push.status).toBe(202);
  });

  it('a token signed by another key is 401 invalid_token, and B logs why', async () => {
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ iss: 'perch', sub: 'alice', aud: service, iat: now, nbf: now, exp: now + 300, access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }] })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .sign(createPrivateKey(readFileSync(join(dir, 'stranger.key'))));
    const res = await fetch(`${b.url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: { Authorization: `Bearer ${forged}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${realm}",service="${service}",error="invalid_token"`);
    expect(b.logs.join('\n')).toMatch(/"message":"bearer token refused".*signature does not verify with the issuer key/);
    expect(b.logs.join('\n')).not.toContain(forged.split('.')[2]);
  });

  it('an expired token (signed with A\'s key) is 401 invalid_token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ iss: 'perch', sub: 'alice', aud: service, iat: now - 600, nbf: now - 600, exp: now - 60, access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }] })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .sign(createPrivateKey(readFileSync(join(dir, 'a-token.key'))));
    const res = await fetch(`${b.url}/v2/team/app/tags/list`, { headers: { Authorization: `Bearer ${expired}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('a token A issued for another service (aud) is 401 invalid_token', async () => {
    const token = await tokenFromA('alice', 'repository:team/app:pull,push', 'registry-c.example:5000');
    const res = await fetch(`${b.url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect(b.logs.join('\n')).toMatch(/it is for audience \\"registry-c.example:5000\\", not this registry's service/);
  });
});
