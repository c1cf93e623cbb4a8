/**
 * OidcTokenAuthenticator (auth/oidc/) against a real OpenID provider (helpers/oidc-provider.ts,
 * npm oidc-provider set up like a Keycloak realm): tokens the provider really issued, through
 * the real discovery and JWKS endpoints. What a user of http.auth.openid providers and
 * http.auth.bearer.oidc would check:
 *
 * - a user's access token and ID token map to preferred_username and the groups claim;
 * - tokens of other issuers are left to other methods; forged, alg "none", HS256, wrong
 *   audience and expired tokens are refused with a reason that says which;
 * - a rotated signing key is picked up on the first token that uses it;
 * - an unreachable issuer is "cannot check now" (503), never "wrong token" (401), and a
 *   registry started while the issuer was down works once it is back;
 * - the workload mapping (CEL subset) of zot's bearer.oidc, and a verified token is not
 *   verified again;
 * - an HTTPS issuer signed by a private CA is trusted through certificateAuthority or
 *   certificateAuthorityFile, and not without (503 naming the certificate problem).
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthUnavailable } from '../../registry-image/src/auth/authenticator';
import { createOidcTokenAuthenticator, type OidcTokenAuthenticator } from '../../registry-image/src/auth/oidc/oidc-token-authenticator';
import { TokenInvalid } from '../../registry-image/src/auth/tokens';
import type { AuthConfig } from '../../registry-image/src/config/auth-types';
import { issue, makeCa } from '../helpers/certificates';
import { freePort } from '../helpers/ports';
import { startOidcProvider, type RunningOidcProvider } from '../helpers/oidc-provider';
import { recordingLogger, tempDir } from './harness';

function providerConfig(p: RunningOidcProvider, extra: Partial<AuthConfig> = {}): AuthConfig {
  return {
    failDelay: 0,
    openid: {
      callbackAllowOrigins: [],
      providers: {
        keycloak: {
          id: 'keycloak',
          name: 'Keycloak',
          issuer: p.issuer,
          clientId: p.clientId,
          clientSecret: p.clientSecret,
          scopes: ['openid', 'profile', 'email', 'groups'],
          claimMapping: { username: 'preferred_username', groups: 'groups' },
          audiences: [p.clientId],
        },
      },
    },
    ...extra,
  };
}

async function refusal(promise: Promise<unknown>): Promise<TokenInvalid> {
  const err = await promise.then(
    (v) => {
      throw new Error(`expected a refusal, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TokenInvalid);
  return err as TokenInvalid;
}

describe('OpenID provider tokens (http.auth.openid.providers)', () => {
  let idp: RunningOidcProvider;
  let foreign: RunningOidcProvider;
  let auth: OidcTokenAuthenticator;
  const { log, lines } = recordingLogger();

  beforeAll(async () => {
    [idp, foreign] = await Promise.all([startOidcProvider(), startOidcProvider()]);
    auth = createOidcTokenAuthenticator(providerConfig(idp), log)!;
  });
  afterAll(async () => {
    await Promise.all([idp?.stop(), foreign?.stop()]);
  });

  it("maps alice's access token to preferred_username and her groups claim", async () => {
    const { accessToken } = await idp.signIn('alice', idp.users.alice.password);
    expect(decodeJwt(accessToken).aud).toBe('perch');
    expect(await auth.verify(accessToken)).toEqual({ username: 'alice', groups: ['developers'], method: 'openid' });
  });

  it("accepts bob's ID token too (aud is the client id) and reports his group", async () => {
    const { idToken } = await idp.signIn('bob', idp.users.bob.password);
    expect(await auth.verify(idToken!)).toEqual({ username: 'bob', groups: ['readers'], method: 'openid' });
  });

  it("leaves another issuer's token and non-JWTs to other methods (undefined)", async () => {
    const { accessToken } = await foreign.signIn('alice', foreign.users.alice.password);
    expect(await auth.verify(accessToken)).toBeUndefined();
    expect(await auth.verify('not-a-jwt')).toBeUndefined();
  });

  it('refuses a token for another audience, saying which audiences it takes', async () => {
    const { accessToken } = await idp.signIn('alice', idp.users.alice.password, { resource: idp.resources.other });
    expect(decodeJwt(accessToken).aud).toBe('other-service');
    const err = await refusal(auth.verify(accessToken));
    expect(err.reason).toContain('ERR_JWT_CLAIM_VALIDATION_FAILED');
    expect(err.reason).toContain('"perch"');
  });

  it("refuses a token claiming this issuer but signed by another key under the provider's kid", async () => {
    const real = await idp.clientCredentials({ resource: idp.resources.perch });
    const claims = decodeJwt(real.accessToken);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = await new SignJWT({ ...claims, preferred_username: 'admin' })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: decodeProtectedHeader(real.accessToken).kid! })
      .sign(privateKey);
    expect((await refusal(auth.verify(forged))).reason).toContain('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  it('refuses alg "none" and HS256 tokens claiming this issuer', async () => {
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: idp.issuer, aud: 'perch', sub: 'x', preferred_username: 'admin', iat: now, exp: now + 300 };
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
    expect((await refusal(auth.verify(none))).reason).toMatch(/ERR_JOSE_ALG_NOT_ALLOWED|ERR_JWS_INVALID/);
    // HS256 keyed with the provider's public JWKS, the classic algorithm-confusion forgery.
    const jwks = await (await fetch(`${idp.issuer}/jwks`)).text();
    const hs = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(Buffer.from(jwks));
    expect((await refusal(auth.verify(hs))).reason).toContain('ERR_JOSE_ALG_NOT_ALLOWED');
  });

  it('refuses an expired token, also one it had verified and remembered', async () => {
    let clock = Date.now();
    const timed = createOidcTokenAuthenticator(providerConfig(idp), log, { now: () => clock })!;
    const { accessToken, expiresIn } = await idp.signIn('alice', idp.users.alice.password);
    expect(await timed.verify(accessToken)).toMatchObject({ username: 'alice' });
    clock += (expiresIn + 11) * 1000; // past exp and the 10 s leeway
    expect((await refusal(timed.verify(accessToken))).reason).toContain('ERR_JWT_EXPIRED');
    const fresh = await idp.signIn('alice', idp.users.alice.password);
    expect((await refusal(timed.verify(fresh.accessToken))).reason).toContain('ERR_JWT_EXPIRED');
  });

  it('verifies a token once: later uses are answered from memory', async () => {
    const { accessToken } = await idp.signIn('alice', idp.users.alice.password);
    const t0 = performance.now();
    await auth.verify(accessToken);
    const first = performance.now() - t0;
    const t1 = performance.now();
    for (let i = 0; i < 1000; i++) await auth.verify(accessToken);
    const cached = (performance.now() - t1) / 1000;
    console.info(`first verification ${first.toFixed(2)} ms, remembered ${(cached * 1000).toFixed(1)} µs`);
    expect(cached).toBeLessThan(first);
  });

  it('finds a rotated signing key on the first token signed with it; old tokens stay valid while the old key is published', async () => {
    const before = await idp.signIn('bob', idp.users.bob.password);
    expect(await auth.verify(before.accessToken)).toMatchObject({ username: 'bob' });
    const kid = idp.rotateKey({ keepOld: true });
    const after = await idp.signIn('alice', idp.users.alice.password);
    expect(decodeProtectedHeader(after.accessToken).kid).toBe(kid);
    const t0 = performance.now();
    expect(await auth.verify(after.accessToken)).toMatchObject({ username: 'alice', groups: ['developers'] });
    console.info(`first token with the new key verified in ${(performance.now() - t0).toFixed(0)} ms (JWKS fetched again, within the cooldown)`);
    const another = await idp.signIn('bob', idp.users.bob.password);
    expect(await auth.verify(another.accessToken)).toMatchObject({ username: 'bob' });
  });

  it('keeps checking tokens with known keys while the issuer is down, and answers 503-style for one it cannot check', async () => {
    const issuer = await startOidcProvider();
    const a = createOidcTokenAuthenticator(providerConfig(issuer), log, { cooldownMs: 200 })!;
    const known = await issuer.signIn('alice', issuer.users.alice.password);
    expect(await a.verify(known.accessToken)).toMatchObject({ username: 'alice' });
    const unseen = await issuer.signIn('bob', issuer.users.bob.password);
    issuer.rotateKey({ keepOld: false });
    const newKey = await issuer.signIn('alice', issuer.users.alice.password);
    await issuer.stop();
    // Known key: checked from the cached key set.
    expect(await a.verify(unseen.accessToken)).toMatchObject({ username: 'bob' });
    // A key perch has not seen: it must ask the issuer, which is gone.
    const err = await a.verify(newKey.accessToken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthUnavailable);
    expect((err as AuthUnavailable).reason).toContain(issuer.issuer);
    expect((err as AuthUnavailable).reason).toContain('ECONNREFUSED');
  });

  it('starts while the issuer is down (warns, no throw), answers unavailable, and works once the issuer is up', async () => {
    const port = await freePort();
    const lateIssuer = `http://127.0.0.1:${port}`;
    const config = providerConfig({ issuer: lateIssuer, clientId: 'perch', clientSecret: 'x' } as RunningOidcProvider);
    const late = createOidcTokenAuthenticator(config, log, { retryMs: 100 })!;
    const now = Math.floor(Date.now() / 1000);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const early = await new SignJWT({ iss: lateIssuer, aud: 'perch', iat: now, exp: now + 60 }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
    const err = await late.verify(early).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthUnavailable);
    expect((err as AuthUnavailable).reason).toContain(`the OpenID issuer ${lateIssuer} cannot be reached`);
    expect(lines.some((l) => l.includes('OpenID issuer discovery failed') && l.includes(lateIssuer))).toBe(true);

    const issuer = await startOidcProvider({ port });
    try {
      await new Promise((r) => setTimeout(r, 150));
      const { accessToken } = await issuer.signIn('alice', issuer.users.alice.password);
      expect(await late.verify(accessToken)).toEqual({ username: 'alice', groups: ['developers'], method: 'openid' });
    } finally {
      await issuer.stop();
    }
  });

  it('refuses discovery that names another issuer, with the fix in the message', async () => {
    // The provider answers as http://127.0.0.1:PORT; configured as "localhost" it is a different issuer.
    const wrong = providerConfig({ ...idp, issuer: idp.issuer.replace('127.0.0.1', 'localhost') });
    const a = createOidcTokenAuthenticator(wrong, log)!;
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ iss: wrong.openid!.providers.keycloak!.issuer, aud: 'perch', iat: now, exp: now + 60 })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    const err = (await a.verify(token).catch((e: unknown) => e)) as AuthUnavailable;
    expect(err).toBeInstanceOf(AuthUnavailable);
    expect(err.reason).toContain(`names the issuer "${idp.issuer}"`);
    expect(err.reason).toContain('configure the issuer exactly as the provider spells it');
  });

  it('never logs a token', () => {
    const joined = lines.join('\n');
    expect(joined).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}/);
  });
});

describe('workload tokens (http.auth.bearer.oidc, zot config-bearer-oidc-workload.json)', () => {
  let idp: RunningOidcProvider;
  const { log } = recordingLogger();
  const bearer = (p: RunningOidcProvider, username?: string, groups?: string): AuthConfig => ({
    failDelay: 0,
    bearer: {
      realm: 'zot',
      service: 'zot-service',
      oidc: [
        {
          issuer: p.issuer,
          audiences: ['zot', 'https://zot.example.com'],
          claimMapping: { username: username ?? "claims.iss + '/' + claims.sub", ...(groups ? { groups } : {}) },
          skipIssuerVerification: false,
        },
      ],
    },
  });

  beforeAll(async () => {
    idp = await startOidcProvider();
  });
  afterAll(async () => {
    await idp?.stop();
  });

  it('maps a client-credentials token by claims.sub', async () => {
    const a = createOidcTokenAuthenticator(bearer(idp, 'claims.sub'), log)!;
    const { accessToken } = await idp.clientCredentials();
    expect(await a.verify(accessToken)).toEqual({ username: 'system:serviceaccount:flux-system:source-controller', groups: [], method: 'bearer-oidc' });
  });

  it("uses zot's default mapping claims.iss + '/' + claims.sub, and list-literal groups", async () => {
    const a = createOidcTokenAuthenticator(bearer(idp, undefined, "['ci', 'flux']"), log)!;
    const { accessToken } = await idp.clientCredentials();
    expect(await a.verify(accessToken)).toEqual({ username: `${idp.issuer}/system:serviceaccount:flux-system:source-controller`, groups: ['ci', 'flux'], method: 'bearer-oidc' });
  });

  it("refuses a person's token for the perch client (aud perch is not zot's audience)", async () => {
    const a = createOidcTokenAuthenticator(bearer(idp, 'claims.sub'), log)!;
    const { accessToken } = await idp.signIn('alice', idp.users.alice.password);
    expect((await refusal(a.verify(accessToken))).reason).toContain('"zot", "https://zot.example.com"');
  });

  it('refuses a token whose mapped claim is missing, naming it', async () => {
    const a = createOidcTokenAuthenticator(bearer(idp, 'claims.email'), log)!;
    const { accessToken } = await idp.clientCredentials();
    expect((await refusal(a.verify(accessToken))).reason).toContain('the token has no claims.email');
  });

  it('refuses at start a mapping outside the subset, naming the entry, the expression and the forms', () => {
    expect(() => createOidcTokenAuthenticator(bearer(idp, "claims.email.split('@')[0]"), log)).toThrow(
      /http\.auth\.bearer\.oidc\[0\]\.claimMapping\.username: claim mapping "claims\.email\.split\('@'\)\[0\]": function calls are not supported.*perch evaluates these CEL forms/,
    );
  });

  it('refuses at start a CA file it cannot read', () => {
    const config = bearer(idp, 'claims.sub');
    config.bearer!.oidc[0]!.certificateAuthorityFile = '/nonexistent/ca.pem';
    expect(() => createOidcTokenAuthenticator(config, log)).toThrow(/certificateAuthorityFile: \/nonexistent\/ca\.pem cannot be read \(ENOENT\)/);
  });
});

describe('an HTTPS issuer with a private CA (bearer.oidc certificateAuthority, certificateAuthorityFile)', () => {
  let idp: RunningOidcProvider;
  let caPem: string;
  let caFile: string;
  const { log } = recordingLogger();
  const config = (ca: { certificateAuthority?: string; certificateAuthorityFile?: string }): AuthConfig => ({
    failDelay: 0,
    bearer: { realm: 'https://registry.example/token', service: 'registry', oidc: [{ issuer: idp.issuer, audiences: ['zot'], claimMapping: { username: 'claims.sub' }, skipIssuerVerification: false, ...ca }] },
  });

  beforeAll(async () => {
    const dir = tempDir('perch-oidc-tls-');
    const ca = await makeCa(dir, 'perch test issuer CA');
    const server = await issue(ca, dir, 'issuer', { subject: '/CN=127.0.0.1', san: ['IP:127.0.0.1'], server: true });
    caPem = readFileSync(ca.certPath, 'utf8');
    caFile = join(dir, 'ca-copy.pem');
    writeFileSync(caFile, caPem);
    idp = await startOidcProvider({ tls: { key: readFileSync(server.keyPath, 'utf8'), cert: readFileSync(server.certPath, 'utf8') }, ca: caPem });
  });
  afterAll(async () => {
    await idp?.stop();
  });

  it('verifies tokens with the CA given inline or as a file', async () => {
    expect(idp.issuer).toMatch(/^https:/);
    const { accessToken } = await idp.clientCredentials();
    for (const ca of [{ certificateAuthority: caPem }, { certificateAuthorityFile: caFile }]) {
      const a = createOidcTokenAuthenticator(config(ca), log)!;
      expect(await a.verify(accessToken)).toMatchObject({ username: 'system:serviceaccount:flux-system:source-controller' });
    }
  });

  it('without the CA, the issuer cannot be trusted: unavailable, naming the certificate problem', async () => {
    const a = createOidcTokenAuthenticator(config({}), log)!;
    const { accessToken } = await idp.clientCredentials();
    const err = (await a.verify(accessToken).catch((e: unknown) => e)) as AuthUnavailable;
    expect(err).toBeInstanceOf(AuthUnavailable);
    expect(err.reason).toContain(idp.issuer);
    expect(err.reason).toMatch(/(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY): its TLS certificate is not trusted; give the CA that signed it as certificateAuthority or certificateAuthorityFile/);
  });
});
