/**
 * One place that checks a user name and password, for Basic requests and the token service
 * alike: the failure throttle, the htpasswd check, and the log line.
 *
 * The log names the user only when the name is in the htpasswd file: a name that is not may
 * be a password typed into the wrong field.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log';
import { clientAddress } from './credentials';
import type { HtpasswdStore } from './htpasswd-store';
import type { LoginThrottle } from './login-throttle';

export class Login {
  constructor(
    private readonly store: HtpasswdStore,
    private readonly throttle: LoginThrottle,
    private readonly log: Logger,
  ) {}

  async check(req: IncomingMessage, user: string, password: string, via: 'basic' | 'token'): Promise<boolean> {
    const address = clientAddress(req);
    await this.throttle.beforeAttempt(address, user);
    const ok = await this.store.verify(user, password);
    if (ok) {
      this.throttle.succeeded(address, user);
      return true;
    }
    const known = this.store.has(user);
    this.log.info('login refused', { via, address, ...(known ? { user, why: 'wrong password' } : { why: 'unknown user' }) });
    await this.throttle.failed(address, user);
    return false;
  }

  has(user: string): boolean {
    return this.store.has(user);
  }

  hashOf(user: string): string | undefined {
    return this.store.hashOf(user);
  }
}
