/**
 * No password, token, Authorization value or token-signing key in any log line or error answer.
 *
 * The bundled server runs at log level debug with Bearer challenges and the UI on, and this file
 * drives a varied workload whose every secret it knows: htpasswd passwords (right and wrong,
 * typed into the wrong field, sent with no scheme at all), Basic and Bearer Authorization
 * values, access and refresh tokens from /v2/token (GET and both POST grants), tampered tokens,
 * the UI's sign-in, a password rotation and three token-key rotations (a new secret, one that is
 * too short, and an EC private key). Then every line the process wrote (stdout and stderr, to
 * its exit) and every error answer (body and headers) is scanned for each secret: as sent, in
 * any letter case, and in base64 and base64url (alone and as Basic's `user:password`).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushTiny, tinyImage } from '../ops/harness';
import type { RunningRegistry } from '../helpers/registry';
import { REPLIES, basic, bearer, call, htpasswdLines, logLine, startSecured, type Reply } from './harness';

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

/** Every secret the workload used, by what it is; each is searched for in several encodings. */
class Secrets {
  readonly forms = new Map<string, string>();

  add(what: string, secret: string): void {
    if (secret.length < 8) throw new Error(`${what}: a secret this short could match by chance`);
    for (const form of [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url')]) this.forms.set(form.toLowerCase(), what);
  }

  password(user: string, password: string): void {
    this.add(`${user}'s password`, password);
    this.add(`Basic value for ${user}`, `${user}:${password}`);
  }

  token(what: string, token: string): void {
    this.add(what, token);
    this.add(`${what} (signature)`, token.split('.')[2]);
  }

  /** Findings: which secret appears where. */
  scan(texts: Array<{ where: string; text: string }>): string[] {
    const found: string[] = [];
    for (const { where, text } of texts) {
      const lower = text.toLowerCase();
      for (const [form, what] of this.forms) if (lower.includes(form)) found.push(`${what} in ${where}: ${text.slice(0, 300)}`);
    }
    return found;
  }
}

describe('secrets in log lines and error answers', () => {
  const secrets = new Secrets();
  const users = { alice: `alice-${randomBytes(9).toString('base64url')}`, bob: `bob-${randomBytes(9).toString('base64url')}` };
  const hsKey = randomBytes(32).toString('base64url');
  let registry: RunningRegistry;
  let htpasswd: string;
  let tokenKeyFile: string;
  let logs: string[] = [];

  beforeAll(async () => {
    secrets.password('alice', users.alice);
    secrets.password('bob', users.bob);
    secrets.add('token key (HS256 secret)', hsKey);
    ({ registry, htpasswd, tokenKeyFile } = await startSecured({ users, tokenKey: `${hsKey}\n`, challenge: 'bearer', ui: true, logLevel: 'debug' }));
  });
  afterAll(() => registry?.stop());

  const url = (path: string) => `${registry.url}${path}`;

  async function tokenGet(user: string, password: string, scope: string, offline = false): Promise<Reply> {
    return call(url(`/v2/token?service=${registry.host}&scope=${encodeURIComponent(scope)}${offline ? '&offline_token=true&client_id=docker' : ''}`), { headers: basic(user, password) });
  }

  async function tokenPost(fields: Record<string, string>): Promise<Reply> {
    return call(url('/v2/token'), { method: 'POST', headers: FORM, body: new URLSearchParams(fields).toString() });
  }

  it('runs a workload that touches every secret, at log level debug', async () => {
    // Basic, as crane and curl send it, for a push and reads.
    await pushTiny(registry.url, 'team/app', 'v1', tinyImage('secrets'), { headers: basic('alice', users.alice) });
    expect((await call(url('/v2/_catalog'), { headers: basic('bob', users.bob) })).status).toBe(200);

    // Failed logins, in every shape a mistake takes.
    const wrong = `wrong-${randomBytes(9).toString('base64url')}`;
    secrets.password('alice', wrong);
    secrets.password('mallory', wrong);
    secrets.password(users.alice, 'not-the-password'); // a password typed into the user field
    secrets.add('password with spaces', 'correct horse battery staple');
    const mistakes: Array<Record<string, string | string[]>> = [
      basic('alice', wrong),
      basic('mallory', wrong),
      basic(users.alice, 'not-the-password'),
      basic('', users.bob),
      { Authorization: users.alice }, // no scheme: the password itself
      { Authorization: 'correct horse battery staple' },
      { Authorization: `Bearer ${users.bob}` },
      { Authorization: `Basic ${Buffer.from(users.bob).toString('base64')}` }, // no ":"
      { Authorization: `Token ${users.bob}` },
      { Authorization: [basic('alice', users.alice).Authorization, basic('bob', users.bob).Authorization] }, // two headers
    ];
    for (const headers of mistakes) {
      const reply = await call(url('/v2/team/app/tags/list'), { headers });
      expect(reply.status, JSON.stringify(headers)).toBe(401);
    }

    // Tokens: GET with an offline token, both POST grants, wrong passwords, refresh.
    const got = await tokenGet('alice', users.alice, 'repository:team/app:pull,push', true);
    expect(got.status).toBe(200);
    secrets.token('access token (GET)', got.json().token);
    secrets.token('refresh token (GET offline)', got.json().refresh_token);
    expect((await tokenGet('alice', wrong, 'repository:team/app:pull')).status).toBe(401);
    const posted = await tokenPost({ grant_type: 'password', username: 'bob', password: users.bob, scope: 'repository:team/app:pull', service: registry.host, client_id: 'helm' });
    expect(posted.status).toBe(200);
    secrets.token('access token (POST password)', posted.json().token);
    secrets.token('refresh token (POST password)', posted.json().refresh_token);
    expect((await tokenPost({ grant_type: 'password', username: 'bob', password: wrong })).status).toBe(401);
    const refreshed = await tokenPost({ grant_type: 'refresh_token', refresh_token: posted.json().refresh_token, scope: 'repository:team/app:pull' });
    expect(refreshed.status).toBe(200);
    secrets.token('access token (POST refresh)', refreshed.json().token);
    const tampered = `${posted.json().refresh_token.slice(0, -4)}AAAA`;
    secrets.token('tampered refresh token', tampered);
    expect((await tokenPost({ grant_type: 'refresh_token', refresh_token: tampered })).status).toBe(401);
    expect((await tokenPost({ grant_type: 'refresh_token', refresh_token: got.json().token })).status).toBe(401); // an access token
    expect((await tokenPost({ grant_type: users.bob })).status).toBe(400); // a password where the grant goes

    // Bearer: accepted, lacking scope, tampered, sent without its scheme, to the wrong place.
    const access = got.json().token as string;
    expect((await call(url('/v2/team/app/tags/list'), { headers: bearer(access) })).status).toBe(200);
    expect((await call(url('/v2/team/other/tags/list'), { headers: bearer(access) })).status).toBe(401);
    const forged = `${access.slice(0, access.lastIndexOf('.'))}.${randomBytes(32).toString('base64url')}`;
    secrets.token('forged access token', forged);
    expect((await call(url('/v2/team/app/tags/list'), { headers: bearer(forged) })).status).toBe(401);
    expect((await call(url('/v2/team/app/tags/list'), { headers: { Authorization: access } })).status).toBe(401);
    expect((await call(url('/v2/token'), { headers: bearer(access) })).status).toBe(401);
    expect((await call(url(`/v2/team/app/tags/list?access_token=${access}`))).status).toBe(401);

    // Two Authorization headers on one raw request (zot refuses those; so does perch).
    const raw = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(registry.port, '127.0.0.1', () =>
        socket.write(`GET /v2/ HTTP/1.1\r\nHost: ${registry.host}\r\nAuthorization: Bearer ${access}\r\n${`Authorization: ${basic('bob', users.bob).Authorization}`}\r\nConnection: close\r\n\r\n`),
      );
      socket.on('data', (d) => (text += d.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 401 /);
    REPLIES.push({ url: 'raw /v2/ with two Authorization headers', method: 'GET', status: 401, headers: {}, body: raw, ms: 0, json: () => ({}) });

    // The UI's sign-in and data, right and wrong.
    expect((await call(url('/_ui/login'), { headers: basic('alice', users.alice) })).status).toBe(303);
    expect((await call(url('/_ui/login'), { headers: basic('alice', wrong) })).status).toBe(401);
    expect((await call(url('/_ui/api/repositories'), { headers: basic('bob', users.bob) })).status).toBe(200);
    expect((await call(url('/_ui/api/repositories/team/app/tags/list'), { headers: basic('bob', wrong) })).status).toBe(401);

    // A rotated password: the file is re-read; old password and old tokens end.
    const rotated = `alice-rotated-${randomBytes(9).toString('base64url')}`;
    secrets.password('alice', rotated);
    let mark = registry.logs.length;
    writeFileSync(htpasswd, htpasswdLines({ alice: rotated, bob: users.bob }));
    await logLine(registry, /"htpasswd file reloaded"/, mark);
    expect((await call(url('/v2/'), { headers: basic('alice', users.alice) })).status).toBe(401);
    expect((await call(url('/v2/'), { headers: basic('alice', rotated) })).status).toBe(200);
    expect((await call(url('/v2/team/app/tags/list'), { headers: bearer(access) })).status).toBe(401);
    expect((await tokenPost({ grant_type: 'refresh_token', refresh_token: got.json().refresh_token })).status).toBe(401);

    // Token key rotations: a new secret, a secret too short to use, then an EC private key.
    const nextKey = randomBytes(32).toString('base64url');
    secrets.add('rotated token key (HS256 secret)', nextKey);
    mark = registry.logs.length;
    writeFileSync(tokenKeyFile, `${nextKey}\n`);
    await logLine(registry, /"token key loaded"/, mark);
    const afterRotation = await tokenGet('bob', users.bob, 'repository:team/app:pull');
    secrets.token('access token (rotated key)', afterRotation.json().token);
    expect((await call(url('/v2/team/app/tags/list'), { headers: bearer(afterRotation.json().token) })).status).toBe(200);
    expect((await call(url('/v2/team/app/tags/list'), { headers: bearer(posted.json().token) })).status).toBe(401);

    const shortKey = `short-${randomBytes(6).toString('base64url')}`;
    secrets.add('refused token key (too short)', shortKey);
    mark = registry.logs.length;
    writeFileSync(tokenKeyFile, `${shortKey}\n`);
    await logLine(registry, /"token key refused"/, mark);

    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = ec.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    secrets.add('token key (EC private key PEM)', pem.trim());
    for (const line of pem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'))) secrets.add('token key (a line of the EC PEM)', line);
    secrets.add('token key (EC private scalar d)', String(ec.privateKey.export({ format: 'jwk' }).d));
    mark = registry.logs.length;
    writeFileSync(tokenKeyFile, pem);
    await logLine(registry, /"token key loaded".*"alg":"ES256"/, mark);
    const es = await tokenGet('bob', users.bob, 'repository:team/app:pull');
    secrets.token('access token (ES256)', es.json().token);
    expect((await call(url('/v2/team/app/tags/list'), { headers: bearer(es.json().token) })).status).toBe(200);
  });

  it('the scan has something to look at: every kind of line the workload causes was logged', async () => {
    expect(await registry.stop()).toBe(0);
    logs = registry.logs;
    const text = logs.join('\n');
    for (const message of [
      '"level":"debug"',
      '"message":"token issued"',
      '"message":"login refused"',
      '"message":"authorization header refused"',
      '"message":"bearer token refused"',
      '"message":"refresh token refused"',
      '"message":"htpasswd file reloaded"',
      '"message":"token key loaded"',
      '"message":"token key refused"',
      '"message":"shutting down"',
    ]) {
      expect(text, message).toContain(message);
    }
    expect(REPLIES.filter((r) => r.status >= 400).length).toBeGreaterThan(25);
    expect(secrets.forms.size).toBeGreaterThan(60);
  });

  it('no secret appears in any log line', () => {
    expect(secrets.scan(logs.map((line, i) => ({ where: `log line ${i + 1}`, text: line })))).toEqual([]);
  });

  it('no secret appears in any error answer, body or headers', () => {
    const answers = REPLIES.filter((r) => r.status >= 400).map((r) => ({
      where: `${r.method} ${r.url.replace(registry.url, '')} -> ${r.status}`,
      text: `${JSON.stringify(r.headers)}\n${r.body}`,
    }));
    expect(secrets.scan(answers)).toEqual([]);
  });
});
