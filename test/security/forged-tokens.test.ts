/**
 * Forged and misused Bearer tokens against the bundled server, each a named case that must get
 * 401 with the OCI UNAUTHORIZED body and a Bearer challenge. The tokens are built here with
 * node:crypto, never with perch's signer: the test wrote the key file, so it can sign with the
 * registry's own key where a case needs a valid signature on bad claims (expired, not yet
 * valid, wrong audience, wrong issuer, another repository), and without it where the case is
 * a signature that must not verify (alg none, tampered payload, another key, HMAC keyed with
 * the public half of the registry's ES256 key pair).
 *
 * Each valid-signature case starts from a real token's claims and a control proves the
 * re-signing is faithful: the same claims, unchanged and signed the same way, are accepted.
 * http.externalUrl is set, which fixes the service, so the audience is checked (without it
 * the audience is whatever Host the client used, and perch does not check it: docs/auth.md).
 */
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushTiny, tinyImage } from '../ops/harness';
import type { RunningRegistry } from '../helpers/registry';
import { basic, bearer, call, startSecured, type Reply } from './harness';

const ALICE = { user: 'alice', password: 'alice-Passw0rd-1' };
const SERVICE = 'registry.example.test';
const ACCESS = {
  groups: {},
  repositories: { 'team/**': { policies: [{ users: ['alice'], actions: ['read', 'create', 'update'] }] } },
};

type Claims = Record<string, unknown>;
type Header = Record<string, unknown>;

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');
const part = (value: object) => b64url(JSON.stringify(value));

function decode(token: string): { header: Header; claims: Claims; signature: string } {
  const [h, p, s] = token.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), claims: JSON.parse(Buffer.from(p, 'base64url').toString()), signature: s };
}

function hs256(header: Header, claims: Claims, key: Buffer | string): string {
  const input = `${part(header)}.${part(claims)}`;
  return `${input}.${b64url(createHmac('sha256', key).update(input).digest())}`;
}

function es256(header: Header, claims: Claims, key: KeyObject): string {
  const input = `${part(header)}.${part(claims)}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }))}`;
}

const now = () => Math.floor(Date.now() / 1000);

async function tokenFor(registry: RunningRegistry, scope: string): Promise<string> {
  const reply = await call(`${registry.url}/v2/token?service=${SERVICE}&scope=${encodeURIComponent(scope)}`, { headers: basic(ALICE.user, ALICE.password) });
  expect(reply.status, reply.body).toBe(200);
  return reply.json().token;
}

function expectRefused(reply: Reply, error: 'invalid_token' | 'insufficient_scope'): void {
  expect(reply.status, reply.body).toBe(401);
  expect(reply.json().errors[0].code).toBe('UNAUTHORIZED');
  const challenge = String(reply.headers['www-authenticate']);
  expect(challenge).toMatch(new RegExp(`^Bearer realm="http://${SERVICE.replace(/\./g, '\\.')}/v2/token",service="${SERVICE.replace(/\./g, '\\.')}"`));
  expect(challenge).toContain(`error="${error}"`);
}

/** A manifest to read, so an accepted token answers 200 (not a 404 that could hide a refusal). */
async function pushApp(registry: RunningRegistry): Promise<void> {
  await pushTiny(registry.url, 'team/app', 'v1', tinyImage('forged-tokens'), { headers: basic(ALICE.user, ALICE.password) });
}

const READ = '/v2/team/app/manifests/v1';
const ACCEPT = { Accept: 'application/vnd.oci.image.manifest.v1+json' };

describe('an HS256 registry (a random secret in the key file)', () => {
  const secret = randomBytes(32).toString('base64url');
  let registry: RunningRegistry;
  let genuine: ReturnType<typeof decode>;
  let pullToken: string;

  beforeAll(async () => {
    ({ registry } = await startSecured({
      users: { [ALICE.user]: ALICE.password },
      tokenKey: `${secret}\n`,
      challenge: 'bearer',
      http: { externalUrl: `http://${SERVICE}`, accessControl: ACCESS },
    }));
    await pushApp(registry);
    pullToken = await tokenFor(registry, 'repository:team/app:pull');
    genuine = decode(pullToken);
  });
  afterAll(() => registry?.stop());

  /** The key as perch reads the file: its bytes without trailing whitespace. */
  const key = () => Buffer.from(secret);
  const read = (token: string) => call(`${registry.url}${READ}`, { headers: { ...bearer(token), ...ACCEPT } });

  it('control: the real token, and its claims re-signed here with the same key, are accepted', async () => {
    expect(genuine.header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect((await read(pullToken)).status).toBe(200);
    expect(hs256(genuine.header, genuine.claims, key())).toBe(pullToken);
  });

  const forgeries: Array<[string, () => string]> = [
    ['alg "none" with no signature', () => `${part({ alg: 'none', typ: 'JWT' })}.${part(genuine.claims)}.`],
    ['alg "none" keeping the real signature', () => `${part({ alg: 'none', typ: 'JWT' })}.${part(genuine.claims)}.${genuine.signature}`],
    ['alg "None" (another spelling)', () => `${part({ alg: 'None', typ: 'JWT' })}.${part(genuine.claims)}.`],
    ['tampered payload: another user, real signature kept', () => `${part(genuine.header)}.${part({ ...genuine.claims, sub: 'admin' })}.${genuine.signature}`],
    ['tampered payload: a later expiry, real signature kept', () => `${part(genuine.header)}.${part({ ...genuine.claims, exp: now() + 86_400 })}.${genuine.signature}`],
    ['signed with another HS256 secret', () => hs256(genuine.header, genuine.claims, randomBytes(32))],
    ['ES256, signed with an EC key the registry never had', () => es256({ alg: 'ES256', typ: 'JWT' }, genuine.claims, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey)],
    ['expired a minute ago', () => hs256(genuine.header, { ...genuine.claims, iat: now() - 600, nbf: now() - 600, exp: now() - 60 }, key())],
    ['not valid for another ten minutes', () => hs256(genuine.header, { ...genuine.claims, iat: now() + 600, nbf: now() + 600, exp: now() + 900 }, key())],
    ['for another service (audience)', () => hs256(genuine.header, { ...genuine.claims, aud: 'other-registry.example.test' }, key())],
    ['without an audience', () => hs256(genuine.header, Object.fromEntries(Object.entries(genuine.claims).filter(([k]) => k !== 'aud')), key())],
    ['from another issuer', () => hs256(genuine.header, { ...genuine.claims, iss: 'someone-else' }, key())],
    ['without an expiry', () => hs256(genuine.header, Object.fromEntries(Object.entries(genuine.claims).filter(([k]) => k !== 'exp')), key())],
    ['a refresh token (typ refresh+jwt) used as an access token', () => hs256({ alg: 'HS256', typ: 'refresh+jwt' }, genuine.claims, key())],
    ['access claim of the wrong shape', () => hs256(genuine.header, { ...genuine.claims, access: 'repository:team/app:pull' }, key())],
    ['not a JWT at all', () => 'not-a-token'],
  ];

  it.each(forgeries)('refuses a token %s: 401 UNAUTHORIZED, error="invalid_token"', async (_name, forge) => {
    expectRefused(await read(forge()), 'invalid_token');
  });

  it('refuses a valid token used on another repository: 401 UNAUTHORIZED, error="insufficient_scope" naming the scope', async () => {
    // Valid in every way, and alice may read team/other: only the token lacks it.
    const other = hs256(genuine.header, { ...genuine.claims, jti: 'fresh' }, key());
    const reply = await call(`${registry.url}/v2/team/other/tags/list`, { headers: bearer(other) });
    expectRefused(reply, 'insufficient_scope');
    expect(reply.headers['www-authenticate']).toContain('scope="repository:team/other:pull"');
    // The same token where it does apply: accepted.
    expect((await read(other)).status).toBe(200);
  });

  it('refuses a pull token whose payload was widened to push: 401, error="invalid_token"', async () => {
    const widened = { ...genuine.claims, access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }] };
    const reply = await call(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: bearer(`${part(genuine.header)}.${part(widened)}.${genuine.signature}`) });
    expectRefused(reply, 'invalid_token');
  });
});

describe('an ES256 registry (an EC P-256 private key in the key file)', () => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  let registry: RunningRegistry;
  let genuine: ReturnType<typeof decode>;

  beforeAll(async () => {
    ({ registry } = await startSecured({
      users: { [ALICE.user]: ALICE.password },
      tokenKey: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      challenge: 'bearer',
      http: { externalUrl: `http://${SERVICE}`, accessControl: ACCESS },
    }));
    await pushApp(registry);
    genuine = decode(await tokenFor(registry, 'repository:team/app:pull'));
  });
  afterAll(() => registry?.stop());

  const read = (token: string) => call(`${registry.url}${READ}`, { headers: { ...bearer(token), ...ACCEPT } });
  const publicKey = () => createPublicKey(pair.privateKey);

  it('control: claims re-signed here with the registry\'s private key are accepted', async () => {
    expect(genuine.header).toEqual({ alg: 'ES256', typ: 'JWT' });
    expect((await read(es256(genuine.header, genuine.claims, pair.privateKey))).status).toBe(200);
  });

  const confusions: Array<[string, () => string]> = [
    ['HS256 keyed with the public key as PEM (SPKI)', () => hs256({ alg: 'HS256', typ: 'JWT' }, genuine.claims, publicKey().export({ format: 'pem', type: 'spki' }).toString())],
    ['HS256 keyed with the public key as PEM (SPKI), without its final newline', () => hs256({ alg: 'HS256', typ: 'JWT' }, genuine.claims, publicKey().export({ format: 'pem', type: 'spki' }).toString().trimEnd())],
    ['HS256 keyed with the public key as DER (SPKI)', () => hs256({ alg: 'HS256', typ: 'JWT' }, genuine.claims, publicKey().export({ format: 'der', type: 'spki' }))],
    ['HS256 keyed with the public key as JWK JSON', () => hs256({ alg: 'HS256', typ: 'JWT' }, genuine.claims, JSON.stringify(publicKey().export({ format: 'jwk' })))],
    ['alg "none"', () => `${part({ alg: 'none', typ: 'JWT' })}.${part(genuine.claims)}.`],
    ['ES256 signed with another EC key', () => es256(genuine.header, genuine.claims, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey)],
    ['ES384 signed with the registry\'s own key', () => es256({ alg: 'ES384', typ: 'JWT' }, genuine.claims, pair.privateKey)],
  ];

  it.each(confusions)('refuses a token %s: 401 UNAUTHORIZED, error="invalid_token"', async (_name, forge) => {
    expectRefused(await read(forge()), 'invalid_token');
  });
});
