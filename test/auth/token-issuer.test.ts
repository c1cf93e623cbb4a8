/** unverifiedIssuer: the issuer a token names, read cheaply before any method checks it. */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { unverifiedIssuer } from '../../registry-image/src/auth/token-issuer';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('unverifiedIssuer', () => {
  it('reads iss from a signed JWT, as jose wrote it', async () => {
    const token = await new SignJWT({ groups: ['a'] }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://id.example/realms/r').sign(new Uint8Array(32));
    expect(unverifiedIssuer(token)).toBe('https://id.example/realms/r');
  });

  it('undefined when the payload has no string iss', () => {
    expect(unverifiedIssuer(`${b64({ alg: 'none' })}.${b64({ sub: 'x' })}.sig`)).toBeUndefined();
    expect(unverifiedIssuer(`${b64({ alg: 'none' })}.${b64({ iss: 42 })}.sig`)).toBeUndefined();
  });

  it('null for what is not a compact JWS with a JSON object payload', () => {
    for (const token of ['', 'opaque-token', 'a.b', 'a.b.c.d', `${b64({})}..sig`, `x.${b64('[1]')}.y`, `x.${b64('not json')}.y`, 'x.a+b/c.y', `x.${b64('null')}.y`]) {
      expect(unverifiedIssuer(token), token).toBeNull();
    }
  });
});
