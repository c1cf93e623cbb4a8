/**
 * Successful LDAP logins remembered for http.auth.ldap.cacheTTL, so the dozens of requests of
 * one `docker push` (each carrying Basic credentials) cost one bind, not one each. Only
 * successes are kept: a wrong password is asked of the server every time, so a password fixed
 * in the directory works at once, and a failure can never be replayed from here.
 *
 * The key is a salted digest of user and password (SecretKeyer, credential-cache.ts), never the
 * password: a memory dump holds no password, nor a plain hash to look up in a table. A
 * password changed in the directory, or a user removed from a group, takes effect when the
 * entry expires (at most cacheTTL later); that delay is the price of not binding per request.
 *
 * Bounded: past MAX_ENTRIES, expired entries go first, then the oldest.
 */
import type { Principal } from '../authenticator';
import { SecretKeyer } from '../credential-cache';

const MAX_ENTRIES = 10_000;

export class LdapLoginCache {
  private readonly keyer = new SecretKeyer();
  private readonly entries = new Map<string, { principal: Principal; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  keyOf(user: string, password: string): string {
    return this.keyer.of(user, password);
  }

  get(key: string): Principal | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (this.now() >= hit.expires) {
      this.entries.delete(key);
      return undefined;
    }
    return { ...hit.principal, groups: [...hit.principal.groups] };
  }

  set(key: string, principal: Principal): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) this.prune();
    this.entries.set(key, { principal, expires: this.now() + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }

  private prune(): void {
    const t = this.now();
    for (const [k, v] of this.entries) if (t >= v.expires) this.entries.delete(k);
    for (const k of this.entries.keys()) {
      if (this.entries.size < MAX_ENTRIES) break;
      this.entries.delete(k);
    }
  }
}
