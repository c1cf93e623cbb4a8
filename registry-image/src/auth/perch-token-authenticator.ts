/**
 * perch's own tokens (tokens.ts, issued by /v2/token) as a TokenAuthenticator
 * (authenticator.ts). A token whose unverified `iss` is not perch's is another method's; one
 * that is gets the full check, and its login must still be valid: a token issued after an
 * htpasswd login dies with a changed password, one issued after an API-key login with the
 * key (Login.stillValid). The groups its login reported ride in the token.
 */
import { AuthUnavailable, type TokenAuthenticator, type TokenPrincipal } from './authenticator';
import type { Login } from './login';
import { unverifiedIssuer } from './token-issuer';
import { ISSUER, TokenInvalid, type TokenSigner } from './tokens';

/** jose's reasons for a token signed by another key, or with another algorithm. */
const NOT_OUR_KEY = new Set(['ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'ERR_JOSE_ALG_NOT_ALLOWED']);

export class PerchTokenAuthenticator implements TokenAuthenticator {
  readonly method = 'perch-token';

  constructor(
    private readonly signer: TokenSigner,
    /** Why tokens cannot be checked now, if they cannot. */
    private readonly keyUnavailable: () => string | undefined,
    private readonly login: Login | undefined,
    /**
     * Another method also accepts tokens with iss "perch" (http.auth.bearer.cert naming a second
     * perch's key): a token this key cannot verify, or any token while there is no key, is then
     * that method's to judge, not refused here.
     */
    private readonly shareIssuer = false,
  ) {}

  async verify(token: string): Promise<TokenPrincipal | undefined> {
    const issuer = unverifiedIssuer(token);
    if (issuer === null) throw new TokenInvalid('not a JWT');
    if (issuer !== ISSUER) return undefined;
    const problem = this.keyUnavailable();
    if (problem) {
      if (this.shareIssuer) return undefined;
      throw new AuthUnavailable(`perch's bearer tokens cannot be checked: ${problem}`);
    }
    let verified;
    try {
      verified = await this.signer.verifyAccess(token);
    } catch (err) {
      if (this.shareIssuer && err instanceof TokenInvalid && NOT_OUR_KEY.has(err.reason)) return undefined;
      throw err;
    }
    const user = verified.sub === '' ? null : verified.sub;
    // Bound to the login: a removed user, a changed password or a revoked key ends the token
    // within one poll instead of at its expiry.
    if (user !== null && !this.login?.stillValid(verified.mth ?? 'htpasswd', user, verified.pwv)) {
      throw new TokenInvalid('user removed, password changed or key revoked since the token was issued');
    }
    return { username: user, groups: verified.grp ?? [], method: verified.mth ?? 'htpasswd', access: verified.access };
  }
}
