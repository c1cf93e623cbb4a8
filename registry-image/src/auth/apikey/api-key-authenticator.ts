/**
 * API keys as a login method (authenticator.ts PasswordAuthenticator, method "apikey"):
 * Basic `user:zak_...` succeeds only for a live, unexpired key whose owner is `user` (a key
 * given with another user's name is refused, as in zot). The principal's version is the key's
 * id, so perch tokens issued after such a login end when the key is revoked or expires
 * (stillValid), not at their own expiry.
 */
import type { PasswordAuthenticator, Principal } from '../authenticator';
import { API_KEY_PREFIX, type ApiKeyStore } from './api-key-store';

export class ApiKeyAuthenticator implements PasswordAuthenticator {
  readonly method = 'apikey';

  constructor(private readonly store: ApiKeyStore) {}

  async check(user: string, password: string): Promise<Principal | null> {
    if (!password.startsWith(API_KEY_PREFIX)) return null; // not a key: another method's password
    const record = this.store.use(password);
    if (!record || record.owner !== user) return null;
    return { username: record.owner, groups: [...record.groups], method: this.method, version: record.id };
  }

  knows(user: string): boolean {
    return this.store.hasOwner(user);
  }

  stillValid(user: string, version: string | undefined): boolean {
    return version !== undefined && this.store.live(user, version);
  }

  close(): void {
    void this.store.close();
  }
}
