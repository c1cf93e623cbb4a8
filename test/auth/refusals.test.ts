/**
 * Every way a request is refused, over real HTTP: status, OCI error code and challenge header,
 * with Basic challenges and with Bearer tokens. Access control is test/auth/harness.ts
 * TEAM_ACCESS (alice writes team/**, bob reads it, carol also deletes, public/** is readable
 * anonymously, admin may do everything).
 */
import { SignJWT, decodeJwt } from 'jose';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from '../../registry-image/src/auth';
import type { Auth } from '../../registry-image/src/auth/types';
import { PASSWORDS, SENT_SECRETS, TEAM_ACCESS, basic, bearer, makeConfig, recordingLogger, startAuthServer, tempDir, writeHtpasswd, type AuthServer } from './harness';

const TTL = 300;

interface Row {
  name: string;
  method: string;
  path: string;
  headers: () => Record<string, string>;
  status: number;
  code?: string;
  /** exact WWW-Authenticate, or null for none */
  challenge: (server: AuthServer) => string | null;
}

function expectRow(reply: { status: number; headers: Record<string, unknown>; json(): any }, row: Row, server: AuthServer) {
  expect(reply.status).toBe(row.status);
  if (row.code) expect(reply.json().errors[0].code).toBe(row.code);
  expect(reply.headers['www-authenticate'] ?? null).toBe(row.challenge(server));
}

/** Every log line of every Auth in this file. */
const logSinks: string[][] = [];

afterAll(() => {
  // Nothing secret may reach a log line: no password, no Authorization value, no token.
  const text = logSinks.flat().join('\n');
  expect(text).toContain('login refused'); // the checks below looked at real log lines
  expect(SENT_SECRETS.size).toBeGreaterThan(10);
  for (const password of Object.values(PASSWORDS)) expect(text).not.toContain(password);
  for (const secret of SENT_SECRETS) expect(text).not.toContain(secret);
});

describe('Basic challenge', () => {
  let auth: Auth;
  let server: AuthServer;
  beforeAll(async () => {
    const dir = tempDir();
    writeHtpasswd(join(dir, 'htpasswd'), PASSWORDS);
    const { log, lines } = recordingLogger();
    logSinks.push(lines);
    auth = await createAuth(makeConfig({ htpasswd: join(dir, 'htpasswd'), accessControl: TEAM_ACCESS }), log, { pollIntervalMs: 50 });
    server = await startAuthServer(auth);
  });
  afterAll(async () => {
    await server.close();
    auth.close();
  });

  const BASIC = () => 'Basic realm="perch"';
  const NONE = () => null;
  const rows: Row[] = [
    { name: 'anonymous write', method: 'PUT', path: '/v2/team/app/manifests/v1', headers: () => ({}), status: 401, code: 'UNAUTHORIZED', challenge: BASIC },
    { name: 'anonymous read of a private repository', method: 'GET', path: '/v2/team/app/manifests/v1', headers: () => ({}), status: 401, code: 'UNAUTHORIZED', challenge: BASIC },
    { name: 'anonymous write to an anonymously readable repository', method: 'PUT', path: '/v2/public/tools/manifests/v1', headers: () => ({}), status: 401, code: 'UNAUTHORIZED', challenge: BASIC },
    { name: 'wrong password', method: 'GET', path: '/v2/team/app/manifests/v1', headers: () => basic('alice', 'not-her-password'), status: 401, code: 'UNAUTHORIZED', challenge: BASIC },
    { name: 'unknown user', method: 'GET', path: '/v2/team/app/manifests/v1', headers: () => basic('mallory', 'Wh4tever-q'), status: 401, code: 'UNAUTHORIZED', challenge: BASIC },
    { name: 'read-only user pushing', method: 'PUT', path: '/v2/team/app/manifests/v1', headers: () => basic('bob', PASSWORDS.bob), status: 403, code: 'DENIED', challenge: NONE },
    { name: 'read-only user starting an upload', method: 'POST', path: '/v2/team/app/blobs/uploads/', headers: () => basic('bob', PASSWORDS.bob), status: 403, code: 'DENIED', challenge: NONE },
    { name: 'deleting without delete', method: 'DELETE', path: '/v2/team/app/manifests/v1', headers: () => basic('alice', PASSWORDS.alice), status: 403, code: 'DENIED', challenge: NONE },
    { name: 'user outside any matching policy', method: 'GET', path: '/v2/secret/vault/manifests/v1', headers: () => basic('alice', PASSWORDS.alice), status: 403, code: 'DENIED', challenge: NONE },
    { name: 'anonymous API base while logins add something', method: 'GET', path: '/v2/', headers: () => ({}), status: 401, code: 'UNAUTHORIZED', challenge: BASIC },
    { name: 'an unsupported authorization scheme', method: 'GET', path: '/v2/', headers: () => ({ Authorization: 'Digest username="alice"' }), status: 401, code: 'UNAUTHORIZED', challenge: BASIC },
    { name: 'Basic that is not base64', method: 'GET', path: '/v2/', headers: () => ({ Authorization: 'Basic !!!' }), status: 401, code: 'UNAUTHORIZED', challenge: BASIC },
  ];

  it.each(rows)('refuses: $name -> $status', async (row) => {
    expectRow(await server.request(row.method, row.path, { headers: row.headers() }), row, server);
  });

  it('answers an unknown user exactly as a wrong password', async () => {
    const wrong = await server.request('GET', '/v2/team/app/manifests/v1', { headers: basic('alice', 'N0pe-zz-1') });
    const unknown = await server.request('GET', '/v2/team/app/manifests/v1', { headers: basic('nobody', 'N0pe-zz-1') });
    expect(unknown.status).toBe(wrong.status);
    expect(unknown.body).toBe(wrong.body);
    expect(unknown.headers['www-authenticate']).toBe(wrong.headers['www-authenticate']);
  });

  it.each([
    ['alice pushes a new tag', 'PUT', '/v2/team/app/manifests/v2', 'alice', 201],
    ['alice moves an existing tag (update)', 'PUT', '/v2/team/app/manifests/stable', 'alice', 201],
    ['bob reads', 'GET', '/v2/team/app/manifests/v1', 'bob', 200],
    ['carol deletes', 'DELETE', '/v2/team/app/manifests/v1', 'carol', 201],
    ['admin reads a repository no key matches', 'GET', '/v2/secret/vault/manifests/v1', 'admin', 200],
    ['alice reads public (defaultPolicy)', 'GET', '/v2/public/tools/manifests/v1', 'alice', 200],
  ] as const)('allows: %s', async (_name, method, path, user, status) => {
    const reply = await server.request(method, path, { headers: basic(user, PASSWORDS[user]) });
    expect(reply.status).toBe(status);
    expect(reply.json().user).toBe(user);
  });

  it('lets anonymous callers read what anonymousPolicy allows, and send "Basic Og==" (empty credentials) as anonymous', async () => {
    expect((await server.request('GET', '/v2/public/tools/manifests/v1')).status).toBe(200);
    expect((await server.request('GET', '/v2/public/tools/manifests/v1', { headers: { Authorization: 'Basic Og==' } })).status).toBe(200);
  });

  it('refuses a request with two Authorization headers (one could be smuggled past a proxy)', async () => {
    const port = Number(server.host.split(':')[1]);
    const head = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `GET /v2/ HTTP/1.1\r\nHost: ${server.host}\r\nAuthorization: ${basic('alice', PASSWORDS.alice).Authorization}\r\n` +
            `Authorization: ${basic('admin', PASSWORDS.admin).Authorization}\r\nConnection: close\r\n\r\n`,
        );
      });
      socket.on('data', (d) => (text += d.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(head).toMatch(/^HTTP\/1\.1 401 /);
    expect(head).toContain('WWW-Authenticate: Basic realm="perch"');
  });

  it.each([
    ['anonymous', {}, ['public/tools']],
    ['bob', basic('bob', PASSWORDS.bob), ['public/tools', 'team/app', 'team/other']],
    ['alice', basic('alice', PASSWORDS.alice), ['public/tools', 'team/app', 'team/other']],
    ['admin', basic('admin', PASSWORDS.admin), ['public/tools', 'team/app', 'team/other', 'secret/vault']],
  ] as const)('filters the catalog for %s', async (_who, headers, expected) => {
    const reply = await server.request('GET', '/v2/_catalog', { headers: { ...headers } });
    expect(reply.status).toBe(200);
    expect(reply.json().repositories).toEqual(expected);
  });
});

describe('Bearer challenge and tokens', () => {
  let auth: Auth;
  let server: AuthServer;
  let clock = Date.now();
  let keyFile: string;
  const tokens: Record<string, string> = {};

  async function token(user: keyof typeof PASSWORDS | null, ...scopes: string[]): Promise<string> {
    const query = scopes.map((s) => `scope=${encodeURIComponent(s)}`).join('&');
    const reply = await server.request('GET', `/v2/token?service=${server.host}&${query}`, { headers: user ? basic(user, PASSWORDS[user]) : {} });
    expect(reply.status).toBe(200);
    return reply.json().token;
  }

  beforeAll(async () => {
    const dir = tempDir();
    writeHtpasswd(join(dir, 'htpasswd'), PASSWORDS);
    keyFile = join(dir, 'token.key');
    const { log, lines } = recordingLogger();
    logSinks.push(lines);
    const config = makeConfig({ htpasswd: join(dir, 'htpasswd'), accessControl: TEAM_ACCESS, challenge: 'bearer', tokenKeyFile: keyFile, tokenTTLSeconds: TTL });
    auth = await createAuth(config, log, { pollIntervalMs: 50, now: () => clock });
    server = await startAuthServer(auth);
    tokens.alicePull = await token('alice', 'repository:team/app:pull');
    tokens.alicePushApp = await token('alice', 'repository:team/app:pull,push');
    tokens.bob = await token('bob', 'repository:team/app:pull,push');
    tokens.alice = await token('alice', 'repository:team/app:pull,push,delete');
    tokens.anonymous = await token(null, 'repository:team/app:pull,push', 'repository:public/tools:pull,push');
    const secret = new Uint8Array(randomBytes(32));
    tokens.otherKey = await new SignJWT({ access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer('perch')
      .setAudience(server.host)
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(secret);
    const [header, payload, signature] = tokens.alicePull.split('.');
    const claims = decodeJwt(tokens.alicePull);
    const widened = Buffer.from(JSON.stringify({ ...claims, access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push', 'delete'] }] })).toString('base64url');
    tokens.forged = `${header}.${widened}.${signature}`;
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    tokens.algNone = `${none}.${payload}.`;
  });
  afterAll(async () => {
    await server.close();
    auth.close();
  });

  const challenge =
    (params: { scope?: string; error?: string } = {}) =>
    (s: AuthServer) =>
      `Bearer realm="http://${s.host}/v2/token",service="${s.host}"${params.scope ? `,scope="${params.scope}"` : ''}${params.error ? `,error="${params.error}"` : ''}`;
  const INVALID = challenge({ error: 'invalid_token' });

  const rows: Array<Row & { token?: string }> = [
    { name: 'anonymous write', method: 'PUT', path: '/v2/team/app/manifests/v1', headers: () => ({}), status: 401, code: 'UNAUTHORIZED', challenge: challenge({ scope: 'repository:team/app:pull,push' }) },
    { name: 'anonymous read', method: 'GET', path: '/v2/team/app/manifests/v1', headers: () => ({}), status: 401, code: 'UNAUTHORIZED', challenge: challenge({ scope: 'repository:team/app:pull' }) },
    { name: 'anonymous delete', method: 'DELETE', path: '/v2/team/app/manifests/v1', headers: () => ({}), status: 401, code: 'UNAUTHORIZED', challenge: challenge({ scope: 'repository:team/app:delete' }) },
    { name: 'anonymous API base', method: 'GET', path: '/v2/', headers: () => ({}), status: 401, code: 'UNAUTHORIZED', challenge: challenge() },
    { name: 'forged token (payload widened)', method: 'DELETE', path: '/v2/team/app/manifests/v1', headers: () => bearer(tokens.forged), status: 401, code: 'UNAUTHORIZED', challenge: INVALID },
    { name: 'alg:none token', method: 'GET', path: '/v2/team/app/manifests/v1', headers: () => bearer(tokens.algNone), status: 401, code: 'UNAUTHORIZED', challenge: INVALID },
    { name: 'token signed with another key', method: 'GET', path: '/v2/team/app/manifests/v1', headers: () => bearer(tokens.otherKey), status: 401, code: 'UNAUTHORIZED', challenge: INVALID },
    { name: 'garbage token', method: 'GET', path: '/v2/', headers: () => bearer('not.a.jwt'), status: 401, code: 'UNAUTHORIZED', challenge: INVALID },
    { name: 'token for another repository', method: 'PUT', path: '/v2/team/other/manifests/v1', headers: () => bearer(tokens.alicePushApp), status: 401, code: 'UNAUTHORIZED', challenge: challenge({ scope: 'repository:team/other:pull,push', error: 'insufficient_scope' }) },
    { name: 'pull token used to push (user may push)', method: 'PUT', path: '/v2/team/app/manifests/v1', headers: () => bearer(tokens.alicePull), status: 401, code: 'UNAUTHORIZED', challenge: challenge({ scope: 'repository:team/app:pull,push', error: 'insufficient_scope' }) },
    { name: 'read-only user pushing', method: 'PUT', path: '/v2/team/app/manifests/v1', headers: () => bearer(tokens.bob), status: 403, code: 'DENIED', challenge: challenge({ scope: 'repository:team/app:pull,push', error: 'insufficient_scope' }) },
    { name: 'deleting without delete', method: 'DELETE', path: '/v2/team/app/manifests/v1', headers: () => bearer(tokens.alice), status: 403, code: 'DENIED', challenge: challenge({ scope: 'repository:team/app:delete', error: 'insufficient_scope' }) },
    { name: 'anonymous token pushing', method: 'PUT', path: '/v2/public/tools/manifests/v1', headers: () => bearer(tokens.anonymous), status: 401, code: 'UNAUTHORIZED', challenge: challenge({ scope: 'repository:public/tools:pull,push', error: 'insufficient_scope' }) },
    { name: 'wrong Basic password sent straight to the registry', method: 'GET', path: '/v2/team/app/manifests/v1', headers: () => basic('alice', 'Wr0ng-pass-x'), status: 401, code: 'UNAUTHORIZED', challenge: challenge() },
  ];

  it.each(rows)('refuses: $name -> $status', async (row) => {
    expectRow(await server.request(row.method, row.path, { headers: row.headers() }), row, server);
  });

  it('grants exactly what the policy allows for each requested repository', () => {
    expect(decodeJwt(tokens.bob).access).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    expect(decodeJwt(tokens.alice).access).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
    expect(decodeJwt(tokens.anonymous).access).toEqual([{ type: 'repository', name: 'public/tools', actions: ['pull'] }]);
  });

  it('accepts valid tokens for what they carry', async () => {
    expect((await server.request('PUT', '/v2/team/app/manifests/v1', { headers: bearer(tokens.alicePushApp) })).status).toBe(201);
    expect((await server.request('GET', '/v2/team/app/manifests/v1', { headers: bearer(tokens.bob) })).status).toBe(200);
    expect((await server.request('GET', '/v2/public/tools/manifests/v1', { headers: bearer(tokens.anonymous) })).status).toBe(200);
    expect((await server.request('GET', '/v2/', { headers: bearer(tokens.bob) })).status).toBe(200);
    // Basic straight to the registry works in Bearer mode too (crane does that after a 200 ping).
    expect((await server.request('GET', '/v2/team/app/manifests/v1', { headers: basic('bob', PASSWORDS.bob) })).status).toBe(200);
  });

  it('refuses an expired token with invalid_token, also one accepted (and remembered) before', async () => {
    const fresh = await token('bob', 'repository:team/app:pull');
    expect((await server.request('GET', '/v2/team/app/manifests/v1', { headers: bearer(fresh) })).status).toBe(200);
    clock += (TTL + 60) * 1000;
    try {
      const reply = await server.request('GET', '/v2/team/app/manifests/v1', { headers: bearer(fresh) });
      expectRow(reply, { name: 'expired', method: 'GET', path: '', headers: () => ({}), status: 401, code: 'UNAUTHORIZED', challenge: INVALID }, server);
    } finally {
      clock -= (TTL + 60) * 1000;
    }
  });

  it('filters the catalog by policy, whatever the token scope', async () => {
    const reply = await server.request('GET', '/v2/_catalog', { headers: bearer(tokens.bob) });
    expect(reply.json().repositories).toEqual(['public/tools', 'team/app', 'team/other']);
  });
});
