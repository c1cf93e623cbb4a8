/**
 * htpasswd as a PasswordAuthenticator (authenticator.ts): the users of http.auth.htpasswd.path
 * (htpasswd-store.ts). A token perch issues after such a login carries a digest of the user's
 * entry (`version`), so a changed password or a removed user ends it within one poll.
 */
import type { PasswordAuthenticator, Principal } from './authenticator';
import type { HtpasswdStore } from './htpasswd-store';
import { matchesPasswordVersion, passwordVersion } from './tokens';

export class HtpasswdAuthenticator implements PasswordAuthenticator {
  readonly method = 'htpasswd';

  constructor(private readonly store: HtpasswdStore) {}

  async check(user: string, password: string): Promise<Principal | null> {
    if (!(await this.store.verify(user, password))) return null;
    const hash = this.store.hashOf(user);
    return { username: user, groups: [], method: this.method, ...(hash === undefined ? {} : { version: passwordVersion(hash) }) };
  }

  knows(user: string): boolean {
    return this.store.has(user);
  }

  stillValid(user: string, version: string | undefined): boolean {
    return matchesPasswordVersion(this.store.hashOf(user), version);
  }

  readiness() {
    return this.store.readiness();
  }

  close(): void {
    this.store.close();
  }
}
