/**
 * The token service at /v2/token (GET with Basic, POST password and refresh_token grants),
 * the tokens it signs, and the key file they are signed with.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from '../../registry-image/src/auth';
import type { Auth } from '../../registry-image/src/auth/types';
import { silentLogger } from '../../registry-image/src/log';
import { PASSWORDS, TEAM_ACCESS, basic, bearer, makeConfig, startAuthServer, tempDir, writeHtpasswd, type AuthServer, type ConfigOptions } from './harness';

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const form = (fields: Record<string, string | string[]>) => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const value of [v].flat()) params.append(k, value);
  return params.toString();
};

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(options: Partial<ConfigOptions> = {}, users: Record<string, string> = PASSWORDS) {
  const dir = tempDir();
  const htpasswd = join(dir, 'htpasswd');
  writeHtpasswd(htpasswd, users);
  const config = makeConfig({ htpasswd, accessControl: TEAM_ACCESS, challenge: 'bearer', tokenKeyFile: join(dir, 'token.key'), ...options });
  const auth = await createAuth(config, silentLogger, { pollIntervalMs: 50 });
  const server = await startAuthServer(auth);
  cleanups.push(() => server.close(), () => auth.close());
  return { auth, server, dir, htpasswd, config };
}

describe('GET /v2/token (docker, crane, skopeo, oras)', () => {
  let server: AuthServer;
  let auth: Auth;
  beforeAll(async () => {
    const dir = tempDir();
    writeHtpasswd(join(dir, 'htpasswd'), PASSWORDS);
    auth = await createAuth(makeConfig({ htpasswd: join(dir, 'htpasswd'), accessControl: TEAM_ACCESS, challenge: 'bearer', tokenTTLSeconds: 600 }), silentLogger, { pollIntervalMs: 50 });
    server = await startAuthServer(auth);
  });
  afterAll(async () => {
    await server.close();
    auth.close();
  });

  it('issues a token carrying exactly the granted actions per repository, with every claim', async () => {
    const before = Math.floor(Date.now() / 1000);
    const reply = await server.request('GET', `/v2/token?service=${server.host}&scope=repository:team/app:pull,push,delete&scope=repository:public/tools:pull&scope=repository:secret/vault:pull&client_id=test`, {
      headers: basic('alice', PASSWORDS.alice),
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['cache-control']).toBe('no-store');
    const body = reply.json();
    expect(body.token).toBe(body.access_token);
    expect(body.expires_in).toBe(600);
    expect(Date.parse(body.issued_at) / 1000).toBeGreaterThanOrEqual(before);
    expect(body.refresh_token).toBeUndefined();
    const claims = decodeJwt(body.token);
    expect(claims.access).toEqual([
      { type: 'repository', name: 'team/app', actions: ['pull', 'push'] },
      { type: 'repository', name: 'public/tools', actions: ['pull'] },
    ]);
    expect(claims).toMatchObject({ iss: 'perch', aud: server.host, sub: 'alice' });
    expect(claims.exp! - claims.iat!).toBe(600);
    expect(claims.nbf).toBe(claims.iat);
    expect(typeof claims.jti).toBe('string');
    expect(decodeProtectedHeader(body.token)).toMatchObject({ alg: 'HS256', typ: 'JWT' });
  });

  it('takes several scopes in one parameter (space separated), merges repeats and grants the catalog', async () => {
    const scope = encodeURIComponent('repository:team/app:pull repository:team/app:push registry:catalog:*');
    const reply = await server.request('GET', `/v2/token?scope=${scope}`, { headers: basic('bob', PASSWORDS.bob) });
    expect(decodeJwt(reply.json().token).access).toEqual([
      { type: 'repository', name: 'team/app', actions: ['pull'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
  });

  it('expands "*" to every action the policy allows', async () => {
    const reply = await server.request('GET', `/v2/token?scope=repository:team/app:*`, { headers: basic('carol', PASSWORDS.carol) });
    expect(decodeJwt(reply.json().token).access).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull', 'push', 'delete'] }]);
  });

  it('gives anonymous callers a token with only the anonymous grants', async () => {
    const reply = await server.request('GET', `/v2/token?scope=repository:team/app:pull,push&scope=repository:public/tools:pull,push`);
    expect(reply.status).toBe(200);
    const claims = decodeJwt(reply.json().token);
    expect(claims.sub).toBe('');
    expect(claims.access).toEqual([{ type: 'repository', name: 'public/tools', actions: ['pull'] }]);
  });

  it('adds a refresh token when asked for an offline token (docker login)', async () => {
    const reply = await server.request('GET', `/v2/token?offline_token=true&client_id=docker&scope=repository:team/app:pull`, { headers: basic('alice', PASSWORDS.alice) });
    expect(typeof reply.json().refresh_token).toBe('string');
  });

  it('refuses wrong credentials with 401 and a Basic challenge, the same for an unknown user', async () => {
    const wrong = await server.request('GET', '/v2/token?scope=repository:team/app:pull', { headers: basic('alice', 'Wr0ng-pass-x') });
    const unknown = await server.request('GET', '/v2/token?scope=repository:team/app:pull', { headers: basic('zed', 'Wr0ng-pass-x') });
    expect(wrong.status).toBe(401);
    expect(wrong.json().errors[0].code).toBe('UNAUTHORIZED');
    expect(wrong.headers['www-authenticate']).toBe('Basic realm="perch"');
    expect(unknown.status).toBe(401);
    expect(unknown.body).toBe(wrong.body);
  });

  it('ignores scopes it does not know and repository names that are not valid', async () => {
    const reply = await server.request('GET', `/v2/token?scope=repository:Team/App:pull&scope=weird&scope=plugin:x:y`, { headers: basic('admin', PASSWORDS.admin) });
    expect(decodeJwt(reply.json().token).access).toEqual([]);
  });
});

describe('POST /v2/token (OAuth2 grants: helm, oras, docker with identity tokens)', () => {
  it('password grant returns a refresh token; both tokens work; refresh gives a new access token', async () => {
    const { server } = await setup();
    const reply = await server.request('POST', '/v2/token', {
      headers: FORM,
      body: form({ grant_type: 'password', username: 'alice', password: PASSWORDS.alice, scope: 'repository:team/app:pull,push', service: server.host, client_id: 'helm' }),
    });
    expect(reply.status).toBe(200);
    const body = reply.json();
    expect(body.token).toBe(body.access_token);
    expect(typeof body.refresh_token).toBe('string');
    expect((await server.request('PUT', '/v2/team/app/manifests/v1', { headers: bearer(body.token) })).status).toBe(201);

    const refreshed = await server.request('POST', '/v2/token', {
      headers: FORM,
      body: form({ grant_type: 'refresh_token', refresh_token: body.refresh_token, scope: 'repository:team/other:pull', service: server.host, client_id: 'helm' }),
    });
    expect(refreshed.status).toBe(200);
    const claims = decodeJwt(refreshed.json().token);
    expect(claims.sub).toBe('alice');
    expect(claims.access).toEqual([{ type: 'repository', name: 'team/other', actions: ['pull'] }]);

    // Neither kind of token stands in for the other.
    expect((await server.request('GET', '/v2/team/app/manifests/v1', { headers: bearer(body.refresh_token) })).status).toBe(401);
    const swapped = await server.request('POST', '/v2/token', { headers: FORM, body: form({ grant_type: 'refresh_token', refresh_token: body.token }) });
    expect(swapped.status).toBe(401);
  });

  it.each([
    [{ grant_type: 'password', username: 'alice' }, 400, 'invalid_request'],
    [{ grant_type: 'client_credentials' }, 400, 'unsupported_grant_type'],
    [{ username: 'alice', password: 'x' }, 400, 'unsupported_grant_type'],
    [{ grant_type: 'refresh_token' }, 400, 'invalid_request'],
  ] as const)('answers a malformed request %j with %i %s', async (fields, status, error) => {
    const { server } = await setup();
    const reply = await server.request('POST', '/v2/token', { headers: FORM, body: form(fields as Record<string, string>) });
    expect(reply.status).toBe(status);
    expect(reply.json().error).toBe(error);
  });

  it('refuses a body that is not a form', async () => {
    const { server } = await setup();
    const reply = await server.request('POST', '/v2/token', { headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(reply.status).toBe(400);
    expect(reply.json().error).toBe('invalid_request');
  });

  it('refuses a wrong password with 401', async () => {
    const { server } = await setup();
    const reply = await server.request('POST', '/v2/token', { headers: FORM, body: form({ grant_type: 'password', username: 'alice', password: 'Wr0ng-pass-x' }) });
    expect(reply.status).toBe(401);
    expect(reply.json().errors[0].code).toBe('UNAUTHORIZED');
  });

  it('ends refresh and access tokens when the password changes, within one poll', async () => {
    const { server, htpasswd } = await setup();
    const login = (await server.request('POST', '/v2/token', {
      headers: FORM,
      body: form({ grant_type: 'password', username: 'alice', password: PASSWORDS.alice, scope: 'repository:team/app:pull' }),
    })).json();
    expect((await server.request('GET', '/v2/team/app/manifests/v1', { headers: bearer(login.token) })).status).toBe(200);

    writeHtpasswd(htpasswd, { ...PASSWORDS, alice: 'rotated-Passw0rd' });
    await new Promise((r) => setTimeout(r, 300));
    const refused = await server.request('GET', '/v2/team/app/manifests/v1', { headers: bearer(login.token) });
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toContain('error="invalid_token"');
    const refresh = await server.request('POST', '/v2/token', { headers: FORM, body: form({ grant_type: 'refresh_token', refresh_token: login.refresh_token }) });
    expect(refresh.status).toBe(401);
  });
});

describe('the token key file', () => {
  it('is created once with mode 0600 and survives a restart: old tokens stay valid', async () => {
    const first = await setup();
    const keyFile = first.config.perch.auth.tokenKeyFile;
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const keyBefore = readFileSync(keyFile, 'utf8');
    const token = (await first.server.request('GET', '/v2/token?scope=repository:team/app:pull', { headers: basic('bob', PASSWORDS.bob) })).json().token;

    // A second registry (a restart, or another replica) with the same key file.
    const second = await createAuth(first.config, silentLogger, { pollIntervalMs: 50 });
    const server2 = await startAuthServer(second);
    cleanups.push(() => server2.close(), () => second.close());
    expect(readFileSync(keyFile, 'utf8')).toBe(keyBefore);
    expect((await server2.request('GET', '/v2/team/app/manifests/v1', { headers: bearer(token) })).status).toBe(200);
  });

  it('may be an EC P-256 private key: tokens are then ES256', async () => {
    const dir = tempDir();
    const keyFile = join(dir, 'ec.pem');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const { server } = await setup({ tokenKeyFile: keyFile });
    const token = (await server.request('GET', '/v2/token?scope=repository:team/app:pull', { headers: basic('bob', PASSWORDS.bob) })).json().token;
    expect(decodeProtectedHeader(token).alg).toBe('ES256');
    expect((await server.request('GET', '/v2/team/app/manifests/v1', { headers: bearer(token) })).status).toBe(200);
  });

  it('that is too short makes a Bearer registry unready and the token service answer 503', async () => {
    const dir = tempDir();
    const keyFile = join(dir, 'short.key');
    writeFileSync(keyFile, 'too-short\n');
    const { auth, server } = await setup({ tokenKeyFile: keyFile });
    expect(auth.readiness()).toEqual({ ok: false, reason: expect.stringMatching(/short\.key holds 9 bytes; HS256 needs at least 32/) });
    const reply = await server.request('GET', '/v2/token', { headers: basic('bob', PASSWORDS.bob) });
    expect(reply.status).toBe(503);
    expect(reply.json().errors[0].message).toMatch(/at least 32/);
  });

  it('that cannot be created is reported with the fix; a Basic registry stays ready', async () => {
    const keyFile = join(tempDir(), 'missing-folder', 'token.key');
    const bearerSetup = await setup({ tokenKeyFile: keyFile });
    expect(bearerSetup.auth.readiness()).toEqual({ ok: false, reason: expect.stringMatching(/cannot be created \(its folder does not exist\).*perch\.auth\.tokenKeyFile/) });
    const basicSetup = await setup({ tokenKeyFile: keyFile, challenge: 'basic' });
    expect(basicSetup.auth.readiness()).toEqual({ ok: true });
    expect((await basicSetup.server.request('GET', '/v2/team/app/manifests/v1', { headers: basic('bob', PASSWORDS.bob) })).status).toBe(200);
    expect((await basicSetup.server.request('GET', '/v2/token', { headers: basic('bob', PASSWORDS.bob) })).status).toBe(503);
  });
});

describe('http.externalUrl', () => {
  it('names the realm and service, and tokens must be for that service', async () => {
    const { server } = await setup({ externalUrl: 'https://registry.example.com' });
    const challenge = (await server.request('GET', '/v2/')).headers['www-authenticate'];
    expect(challenge).toBe('Bearer realm="https://registry.example.com/v2/token",service="registry.example.com"');
    const token = (await server.request('GET', '/v2/token?scope=repository:team/app:pull', { headers: basic('bob', PASSWORDS.bob) })).json().token;
    expect(decodeJwt(token).aud).toBe('registry.example.com');
    expect((await server.request('GET', '/v2/team/app/manifests/v1', { headers: bearer(token) })).status).toBe(200);
  });
});

describe('behind a TLS-ending proxy (an Ingress)', () => {
  it('names an https realm when X-Forwarded-Proto says https', async () => {
    const { server } = await setup({});
    const challenge = (await server.request('GET', '/v2/', { headers: { Host: 'registry.example.com', 'X-Forwarded-Proto': 'https' } })).headers['www-authenticate'];
    expect(challenge).toBe('Bearer realm="https://registry.example.com/v2/token",service="registry.example.com"');
    const direct = (await server.request('GET', '/v2/', { headers: { Host: 'registry.example.com' } })).headers['www-authenticate'];
    expect(direct).toBe('Bearer realm="http://registry.example.com/v2/token",service="registry.example.com"');
  });
});

describe('without a login method', () => {
  it('lets everyone do everything and has no token service (zot without http.auth)', async () => {
    const config = makeConfig({});
    const auth = await createAuth(config, silentLogger);
    const server = await startAuthServer(auth);
    cleanups.push(() => server.close(), () => auth.close());
    expect((await server.request('GET', '/v2/')).status).toBe(200);
    expect((await server.request('PUT', '/v2/team/app/manifests/v1')).status).toBe(201);
    expect((await server.request('DELETE', '/v2/team/app/manifests/v1', { headers: basic('anyone', 'anything') })).status).toBe(201);
    expect((await server.request('GET', '/v2/_catalog')).json().repositories).toHaveLength(4);
    expect((await server.request('GET', '/v2/token')).status).toBe(404);
    expect(auth.readiness()).toEqual({ ok: true });
  });

  it('applies an anonymous-only access control, refusing with 403 since nobody can log in', async () => {
    const config = makeConfig({ accessControl: { groups: {}, repositories: { '**': { policies: [], defaultPolicy: [], anonymousPolicy: ['read'] } }, adminPolicy: { users: [], groups: [], actions: [] } } });
    const auth = await createAuth(config, silentLogger);
    const server = await startAuthServer(auth);
    cleanups.push(() => server.close(), () => auth.close());
    expect((await server.request('GET', '/v2/team/app/manifests/v1')).status).toBe(200);
    const push = await server.request('PUT', '/v2/team/app/manifests/v1');
    expect(push.status).toBe(403);
    expect(push.json().errors[0].code).toBe('DENIED');
    expect(push.headers['www-authenticate']).toBeUndefined();
  });
});

describe('htpasswd without access control (zot: logged-in users may do everything)', () => {
  it('refuses anonymous callers everywhere, including /v2/, and allows any user everything', async () => {
    const { server } = await setup({ accessControl: undefined, challenge: 'basic' });
    for (const [method, path] of [['GET', '/v2/'], ['GET', '/v2/_catalog'], ['GET', '/v2/team/app/manifests/v1'], ['PUT', '/v2/x/manifests/v1']] as const) {
      const reply = await server.request(method, path);
      expect(reply.status).toBe(401);
      expect(reply.headers['www-authenticate']).toBe('Basic realm="perch"');
    }
    expect((await server.request('DELETE', '/v2/secret/vault/manifests/v1', { headers: basic('bob', PASSWORDS.bob) })).status).toBe(201);
  });
});
