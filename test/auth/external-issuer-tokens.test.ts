/**
 * IssuerTokenAuthenticator (auth/issuer-token-authenticator.ts) in the test process: tokens a
 * separate issuer signed, checked against http.auth.bearer.cert.
 *
 * Keys are made with openssl, in each form zot takes for `cert` (certificate, SPKI public key,
 * PKCS#1 RSA public key, one-key JWKS); tokens are signed with jose from the private half, and
 * with perch's own TokenSigner (a second perch as the issuer). Shown: what a good token gives
 * (sub, access, zot's per-entry exp), each refusal with its reason (other key, expired, not yet
 * valid, other audience, no exp, alg none, HS256 keyed with the public key, refresh token,
 * malformed access), and key rotation through the polled file.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { IssuerTokenAuthenticator, parseIssuerKey } from '../../registry-image/src/auth/issuer-token-authenticator';
import { parseTokenKey } from '../../registry-image/src/auth/token-key';
import { TokenInvalid, TokenSigner } from '../../registry-image/src/auth/tokens';
import type { BearerConfig } from '../../registry-image/src/config/auth-types';
import { runCommand } from '../helpers/run-command';
import { tempDir } from '../helpers/temp-dir';
import { recordingLogger } from './harness';

const SERVICE = 'registry-b.test:5000';
const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

let dir: string;
const keys: Record<string, { privateKey: KeyObject; files: Record<string, string> }> = {};

async function openssl(args: string[]): Promise<void> {
  await runCommand('openssl', args, { timeoutMs: 30_000 });
}

/** A private key plus the public forms bearer.cert may hold: crt (certificate), pub (SPKI), and for RSA pkcs1. */
async function makeKey(name: string, genArgs: string[]): Promise<void> {
  const key = join(dir, `${name}.key`);
  await openssl(['genpkey', ...genArgs, '-out', key]);
  const files: Record<string, string> = { key };
  files.crt = join(dir, `${name}.crt`);
  await openssl(['req', '-new', '-x509', '-key', key, '-subj', `/CN=${name} token issuer`, '-days', '3', '-out', files.crt]);
  files.pub = join(dir, `${name}.pub`);
  await openssl(['pkey', '-in', key, '-pubout', '-out', files.pub]);
  if (name.startsWith('rsa')) {
    files.pkcs1 = join(dir, `${name}.pkcs1.pem`);
    await openssl(['rsa', '-in', key, '-RSAPublicKey_out', '-out', files.pkcs1]);
  }
  const privateKey = createPrivateKey(readFileSync(key));
  files.jwks = join(dir, `${name}.jwks.json`);
  writeFileSync(files.jwks, JSON.stringify({ keys: [{ ...createPublicKey(privateKey).export({ format: 'jwk' }), kid: name }] }));
  keys[name] = { privateKey, files };
}

beforeAll(async () => {
  dir = tempDir('perch-issuer-');
  await Promise.all([
    makeKey('ec', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']),
    makeKey('ec384', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384']),
    makeKey('rsa', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']),
    makeKey('ed', ['-algorithm', 'ED25519']),
    makeKey('other', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']),
  ]);
}, 60_000);

const PUSH_APP = [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }];

function sign(keyName: string, alg: string, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const s = Math.floor(T0 / 1000);
  return new SignJWT({ iss: 'auth.example', sub: 'alice', aud: SERVICE, iat: s, nbf: s, exp: s + 300, access: PUSH_APP, ...claims })
    .setProtectedHeader({ alg, typ: 'JWT', ...header })
    .sign(keys[keyName].privateKey);
}

async function authenticator(cert: string, options: { service?: string; now?: () => number } = {}) {
  const { log, lines } = recordingLogger();
  const config: BearerConfig = { realm: 'https://auth.example/token', service: options.service ?? SERVICE, cert, oidc: [] };
  const auth = new IssuerTokenAuthenticator(config, log, { pollIntervalMs: 20, now: options.now ?? (() => T0) });
  await auth.start();
  return { auth, lines };
}

async function refusal(auth: IssuerTokenAuthenticator, token: string): Promise<string> {
  try {
    await auth.verify(token);
  } catch (err) {
    if (err instanceof TokenInvalid) return err.reason;
    throw err;
  }
  throw new Error('the token was accepted');
}

describe('the issuer key file (bearer.cert), in every form zot takes', () => {
  const forms: Array<[string, string, string]> = [
    ['ec', 'crt', 'ES256'],
    ['ec', 'pub', 'ES256'],
    ['ec', 'jwks', 'ES256'],
    ['ec384', 'crt', 'ES384'],
    ['rsa', 'crt', 'RS256'],
    ['rsa', 'pub', 'PS256'],
    ['rsa', 'pkcs1', 'RS512'],
    ['rsa', 'jwks', 'RS256'],
    ['ed', 'crt', 'EdDSA'],
  ];
  for (const [key, form, alg] of forms) {
    it(`${key} key as ${form}: an ${alg} token is accepted`, async () => {
      const { auth, lines } = await authenticator(keys[key].files[form]);
      expect(await auth.verify(await sign(key, alg, {}))).toEqual({ username: 'alice', groups: [], method: 'bearer', access: PUSH_APP, grantsDecide: true });
      expect(lines.join('\n')).toMatch(/"message":"bearer issuer key loaded"/);
      auth.close();
    });
  }

  it('a private key is refused, at start, saying to give the public half', async () => {
    await expect(authenticator(keys.ec.files.key)).rejects.toThrow(/holds a private key; give only the issuer's public half/);
    const privateJwks = Buffer.from(JSON.stringify({ keys: [keys.ec.privateKey.export({ format: 'jwk' })] }));
    expect(() => parseIssuerKey(privateJwks, 'k.json')).toThrow(/holds a private JWK; give only its public part/);
  });

  it('a missing file stops the start, naming the path; so do garbage and a JWKS of two keys', async () => {
    await expect(authenticator(join(dir, 'nope.crt'))).rejects.toThrow(`http.auth.bearer.cert ${join(dir, 'nope.crt')} cannot be read (ENOENT)`);
    writeFileSync(join(dir, 'garbage.crt'), 'hello\n');
    await expect(authenticator(join(dir, 'garbage.crt'))).rejects.toThrow(/holds no PEM block/);
    writeFileSync(join(dir, 'two.json'), JSON.stringify({ keys: [{ kty: 'EC' }, { kty: 'EC' }] }));
    await expect(authenticator(join(dir, 'two.json'))).rejects.toThrow(/not a JWKS with exactly one key/);
  });
});

describe('token checks', () => {
  let auth: IssuerTokenAuthenticator;
  let now = T0;
  beforeAll(async () => {
    ({ auth } = await authenticator(keys.ec.files.crt, { now: () => now }));
  });

  it('sub is the user, access the grants; an entry with its own exp (zot\'s extension) counts until then', async () => {
    const s = Math.floor(T0 / 1000);
    const token = await sign('ec', 'ES256', {
      access: [
        { type: 'repository', name: 'team/app', actions: ['pull'] },
        { type: 'repository', name: 'team/hotfix', actions: ['push'], exp: s + 60 },
      ],
    });
    now = T0;
    expect((await auth.verify(token)).access).toEqual([
      { type: 'repository', name: 'team/app', actions: ['pull'] },
      { type: 'repository', name: 'team/hotfix', actions: ['push'] },
    ]);
    now = T0 + 61_000;
    expect((await auth.verify(token)).access).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    now = T0;
  });

  it('no sub: no user name (an anonymous token); no access claim: no grants', async () => {
    expect(await auth.verify(await sign('ec', 'ES256', { sub: undefined, access: undefined }))).toEqual({ username: null, groups: [], method: 'bearer', access: [], grantsDecide: true });
  });

  it('refusals name the reason', async () => {
    const s = Math.floor(T0 / 1000);
    expect(await refusal(auth, await sign('other', 'ES256', {}))).toMatch(/signature does not verify with the issuer key/);
    expect(await refusal(auth, await sign('ec', 'ES256', { exp: s - 11 }))).toBe('expired');
    expect(await refusal(auth, await sign('ec', 'ES256', { nbf: s + 60 }))).toBe('not valid yet (nbf)');
    expect(await refusal(auth, await sign('ec', 'ES256', { aud: 'registry-a.test' }))).toBe(`it is for audience "registry-a.test", not this registry's service "${SERVICE}" (http.auth.bearer.service)`);
    expect(await refusal(auth, await sign('ec', 'ES256', { exp: undefined }))).toBe('it has no expiry (exp)');
    expect(await refusal(auth, await sign('ec', 'ES256', { iat: s + 3600, nbf: undefined }))).toMatch(/issued in the future/);
    expect(await refusal(auth, await sign('ec', 'ES256', {}, { typ: 'refresh+jwt' }))).toBe('a refresh token is not an access token');
    expect(await refusal(auth, await sign('ec', 'ES256', { access: [{ type: 'repository', name: 'x', actions: 'push' }] }))).toMatch(/access claim is not a list/);
    expect(await refusal(auth, 'not-a-jwt')).toBe('not a signed JWT');
  });

  it('10 s of clock leeway either side', async () => {
    const s = Math.floor(T0 / 1000);
    expect(await auth.verify(await sign('ec', 'ES256', { exp: s - 9 }))).toMatchObject({ username: 'alice' });
    expect(await auth.verify(await sign('ec', 'ES256', { nbf: s + 9 }))).toMatchObject({ username: 'alice' });
  });

  it('alg none and HS256 keyed with the public key (algorithm confusion) are refused', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const s = Math.floor(T0 / 1000);
    const body = Buffer.from(JSON.stringify({ sub: 'admin', aud: SERVICE, exp: s + 300, access: PUSH_APP })).toString('base64url');
    expect(await refusal(auth, `${header}.${body}.`)).toMatch(/signed with "none", but the issuer key \(EC P-256 public key from a certificate/);
    const publicPem = readFileSync(keys.ec.files.pub);
    const confused = await new SignJWT({ sub: 'admin', aud: SERVICE, exp: s + 300, access: PUSH_APP }).setProtectedHeader({ alg: 'HS256' }).sign(new Uint8Array(publicPem));
    expect(await refusal(auth, confused)).toMatch(/signed with "HS256", but .* verifies only ES256/);
  });

  it('a remembered token is still refused once it expires', async () => {
    const token = await sign('ec', 'ES256', {});
    now = T0;
    await auth.verify(token);
    now = T0 + 311_000;
    expect(await refusal(auth, token)).toBe('expired');
    now = T0;
  });
});

describe('a second perch as the issuer', () => {
  it('an access token from perch\'s TokenSigner (ES256 key file) verifies against that key\'s certificate', async () => {
    const perchKey = parseTokenKey(readFileSync(keys.ec.files.key), keys.ec.files.key);
    const signer = new TokenSigner(() => perchKey, () => T0);
    const issued = await signer.issueAccess('alice', SERVICE, PUSH_APP, 300);
    const { auth } = await authenticator(keys.ec.files.crt);
    expect(await auth.verify(issued.token)).toEqual({ username: 'alice', groups: [], method: 'bearer', access: PUSH_APP, grantsDecide: true });
    // A perch refresh token of the same key is not access.
    const refresh = await signer.issueRefresh('alice', SERVICE, { pwv: 'pwv' }, 3600);
    expect(await refusal(auth, refresh.token)).toBe('a refresh token is not an access token');
  });
});

describe('key rotation (the file is polled)', () => {
  it('a new key takes over within a poll; a broken file keeps the last key and makes the method unready until fixed', async () => {
    const path = join(dir, 'rotating.crt');
    writeFileSync(path, readFileSync(keys.ec.files.crt));
    const { auth, lines } = await authenticator(path);
    const oldToken = await sign('ec', 'ES256', {});
    const newToken = await sign('other', 'ES256', {});
    expect(await auth.verify(oldToken)).toMatchObject({ username: 'alice' });
    expect(await refusal(auth, newToken)).toMatch(/signature/);

    // Kubernetes-style: a new file renamed over the old one.
    writeFileSync(`${path}.new`, readFileSync(keys.other.files.crt));
    renameSync(`${path}.new`, path);
    await expect.poll(async () => (await auth.verify(newToken).catch((e: TokenInvalid) => e.reason)) as unknown, { timeout: 2000, interval: 20 }).toMatchObject({ username: 'alice' });
    expect(await refusal(auth, oldToken)).toMatch(/signature does not verify/);
    expect(auth.readiness()).toEqual({ ok: true });

    writeFileSync(path, readFileSync(keys.other.files.key)); // a mistake: the private key
    await expect.poll(() => auth.readiness().ok, { timeout: 2000, interval: 20 }).toBe(false);
    expect(auth.readiness().reason).toMatch(/holds a private key/);
    expect(await auth.verify(newToken)).toMatchObject({ username: 'alice' }); // still the last good key
    expect(lines.join('\n')).toMatch(/"message":"bearer issuer key refused".*"keeping":"the key loaded before"/);

    writeFileSync(path, readFileSync(keys.other.files.pub));
    await expect.poll(() => auth.readiness().ok, { timeout: 2000, interval: 20 }).toBe(true);
    auth.close();
  });
});
