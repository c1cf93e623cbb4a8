/**
 * The pieces of the OpenID sign-in and the UI sessions, without a provider: the session cookie
 * (signature, expiry, the key file), the sign-in state cookie (bound to state and provider,
 * not usable as a session), and where callback_ui may send the browser.
 */
import type { IncomingMessage } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callbackTarget } from '../../registry-image/src/auth/oidc/login-callback-target';
import { newSignIn, pkceChallenge, readSignIn, stateCookie } from '../../registry-image/src/auth/oidc/login-state';
import { SessionKeys, SessionKeysRefused, Sessions } from '../../registry-image/src/auth/session';
import { TokenInvalid } from '../../registry-image/src/auth/tokens';
import { defaultConfig } from '../../registry-image/src/config/defaults';
import { tempDir } from '../helpers/temp-dir';

function request(cookie?: string, host = 'registry.test:5000'): IncomingMessage {
  return { headers: { host, ...(cookie ? { cookie } : {}) }, socket: {} } as unknown as IncomingMessage;
}

const valueOf = (setCookie: string) => setCookie.split(';')[0];

describe('sessions', () => {
  const config = defaultConfig(tempDir('perch-session-'));
  const principal = { username: 'alice@example.test', groups: ['developers'], method: 'openid' };

  it('a cookie reads back as its principal until it expires; then it is refused as expired', () => {
    let now = 1_000_000_000_000;
    const sessions = new Sessions(SessionKeys.load(undefined), config, { now: () => now });
    const set = sessions.cookieFor(request(), principal);
    expect(set).toMatch(/^perch_session=[^;]+; Path=\/; Max-Age=28800; HttpOnly; SameSite=Lax$/);
    expect(sessions.read(request(valueOf(set)))).toEqual(principal);
    expect(sessions.read(request())).toBeNull();
    now += 8 * 3600_000;
    expect(() => sessions.read(request(valueOf(set)))).toThrow(/expired/);
  });

  it('an altered value, another key, or a state cookie passed off as a session: TokenInvalid', () => {
    const keys = SessionKeys.load(undefined);
    const sessions = new Sessions(keys, config);
    const value = valueOf(sessions.cookieFor(request(), principal)).slice('perch_session='.length);
    const [body, mac] = value.split('.');
    const altered = Buffer.from(Buffer.from(body, 'base64url').toString().replace('alice', 'admin')).toString('base64url');
    expect(() => sessions.read(request(`perch_session=${altered}.${mac}`))).toThrow(TokenInvalid);
    const other = new Sessions(SessionKeys.load(undefined), config);
    expect(() => other.read(request(`perch_session=${value}`))).toThrow(/signature/);
    const state = valueOf(stateCookie(keys, request(), config, newSignIn('kc', 'http://r/zot/auth/callback/kc', '/'))).split('=')[1];
    expect(() => sessions.read(request(`perch_session=${state}`))).toThrow(/signature/);
  });

  it('Secure over TLS, behind an https externalUrl, or when secureSession says so', () => {
    const sessions = new Sessions(SessionKeys.load(undefined), config);
    const tls = { headers: {}, socket: { encrypted: true } } as unknown as IncomingMessage;
    expect(sessions.cookieFor(tls, principal)).toMatch(/; Secure$/);
    const proxied = new Sessions(SessionKeys.load(undefined), { ...config, http: { ...config.http, externalUrl: 'https://registry.example.com' } });
    expect(proxied.cookieFor(request(), principal)).toMatch(/; Secure$/);
    const off = new Sessions(SessionKeys.load(undefined), { ...config, http: { ...config.http, externalUrl: 'https://registry.example.com', auth: { failDelay: 0, secureSession: false } } });
    expect(off.cookieFor(request(), principal)).not.toContain('Secure');
  });

  it("reads zot's sessionKeysFile (hashKey); a missing, malformed or short one is refused by name", () => {
    const dir = tempDir('perch-session-keys-');
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ hashKey: 'h'.repeat(48), encryptKey: 'e'.repeat(32) }));
    const a = new Sessions(SessionKeys.load(good), config);
    const b = new Sessions(SessionKeys.load(good), config);
    expect(b.read(request(valueOf(a.cookieFor(request(), principal))))).toEqual(principal); // two replicas, one file
    const short = join(dir, 'short.json');
    writeFileSync(short, JSON.stringify({ hashKey: 'too-short' }));
    expect(() => SessionKeys.load(short)).toThrow(SessionKeysRefused);
    expect(() => SessionKeys.load(short)).toThrow(/under the 32/);
    expect(() => SessionKeys.load(join(dir, 'absent.json'))).toThrow(/ENOENT/);
    writeFileSync(join(dir, 'bad.json'), 'hashKey=x');
    expect(() => SessionKeys.load(join(dir, 'bad.json'))).toThrow(/not JSON/);
  });
});

describe('sign-in state', () => {
  const config = defaultConfig(tempDir('perch-state-'));
  const keys = SessionKeys.load(undefined);

  it('the PKCE challenge is the S256 of the verifier (RFC 7636 appendix B)', () => {
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('reads back only for its own state and provider, and not after ten minutes', () => {
    const signIn = newSignIn('kc', 'http://r/zot/auth/callback/kc', '/#/team');
    const now = Date.now();
    const cookie = valueOf(stateCookie(keys, request(), config, signIn, now));
    expect(readSignIn(keys, request(cookie), 'kc', signIn.state, now)).toEqual(signIn);
    expect(readSignIn(keys, request(cookie), 'other', signIn.state, now)).toBe('state does not match');
    expect(readSignIn(keys, request(cookie), 'kc', null, now)).toBe('no state in the callback');
    expect(typeof readSignIn(keys, request(cookie), 'kc', `${signIn.state.slice(0, 16)}X`, now)).toBe('string');
    expect(readSignIn(keys, request(cookie), 'kc', signIn.state, now + 10 * 60_000 + 1000)).toBe('sign-in took too long');
  });
});

describe('callback_ui', () => {
  const config = defaultConfig(tempDir('perch-callback-'));
  config.http.auth = { failDelay: 0, openid: { providers: {}, callbackAllowOrigins: ['https://ui.example.com'] } };
  const req = request(undefined, 'registry.test:5000');
  const cases: Array<[string | null, string]> = [
    [null, '/'],
    ['/', '/'],
    ['/#/team/app', '/#/team/app'],
    ['//evil.example/x', '/'],
    ['/\\evil.example', '/'],
    ['/%5Cevil.example', '/'],
    ['https://evil.example/', '/'],
    ['javascript:alert(1)', '/'],
    ['https://ui.example.com/after', 'https://ui.example.com/after'],
    ['http://registry.test:5000/x', 'http://registry.test:5000/x'],
    ['https://registry.test:5000/x', '/'],
    ['/ok\r\nSet-Cookie: x=y', '/'],
    ['relative/path', '/'],
  ];
  for (const [given, expected] of cases) {
    it(`${JSON.stringify(given)} -> ${JSON.stringify(expected)}`, () => {
      expect(callbackTarget(given, req, config)).toBe(expected);
    });
  }
});
