/**
 * One place that checks a user name and password, for Basic requests and the token service
 * alike: the failure throttle, the password methods in order (htpasswd, LDAP, API keys:
 * authenticator.ts), and the log line.
 *
 * The first method that accepts the password decides who the caller is. A method that cannot
 * answer (its server is down) makes the login 503 rather than a wrong-password 401, unless a
 * later method accepts the password. The log names the user only when some method knows the
 * name: one that none knows may be a password typed into the wrong field.
 */
import type { IncomingMessage } from 'node:http';
import { RegistryError } from '../http/errors';
import type { Logger } from '../log';
import { AuthUnavailable, type PasswordAuthenticator, type Principal } from './authenticator';
import { clientAddress } from './credentials';
import type { LoginThrottle } from './login-throttle';

export class Login {
  constructor(
    private readonly methods: readonly PasswordAuthenticator[],
    private readonly throttle: LoginThrottle,
    private readonly log: Logger,
  ) {}

  async check(req: IncomingMessage, user: string, password: string, via: 'basic' | 'token'): Promise<Principal | null> {
    const address = clientAddress(req);
    await this.throttle.beforeAttempt(address, user);
    let unavailable: AuthUnavailable | undefined;
    for (const method of this.methods) {
      let principal: Principal | null;
      try {
        principal = await method.check(user, password);
      } catch (err) {
        if (!(err instanceof AuthUnavailable)) throw err;
        unavailable ??= err;
        continue;
      }
      if (principal) {
        this.throttle.succeeded(address, user);
        return principal;
      }
    }
    if (unavailable) {
      this.log.warn('login could not be checked', { via, address, problem: unavailable.reason });
      throw new RegistryError('UNAVAILABLE', `the login cannot be checked now: ${unavailable.reason}`);
    }
    const known = this.methods.some((m) => m.knows?.(user));
    this.log.info('login refused', { via, address, ...(known ? { user, why: 'wrong password' } : { why: 'unknown user' }) });
    await this.throttle.failed(address, user);
    return null;
  }

  /** Is a token issued after a login by `method` with `version` still good (authenticator.ts stillValid)? */
  stillValid(method: string, user: string, version: string | undefined): boolean {
    const m = this.methods.find((candidate) => candidate.method === method);
    if (!m) return false;
    return m.stillValid ? m.stillValid(user, version) : true;
  }
}
