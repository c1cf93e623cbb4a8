/**
 * Remembers the outcome of recent password checks so bcrypt (tens of milliseconds of CPU by
 * design) runs once per user, password and file version instead of once per request: a
 * `helm push` sends the same Basic header on every one of its requests.
 *
 * The key is a salted digest (SecretKeyer, below) of the file version, the user and the
 * password: nothing in memory can be turned back into a password faster than bcrypt would allow, and a new file version (a rotated password) never hits an old entry. The
 * store also clears the cache when the file changes. Entries expire after `ttlMs`; the cache
 * holds at most `maxEntries` (oldest dropped first). Concurrent checks of the same key share
 * one bcrypt run.
 */
import { hash, randomBytes } from 'node:crypto';

/**
 * Keys for remembering checked secrets: SHA-256 of the parts under a salt made fresh for each
 * process (each part length-prefixed, so no two lists of parts share a key). Without the salt,
 * which never leaves memory, a key is no shortcut to the password. One-shot `hash` costs about
 * 2 µs; createHmac, which this replaced, about 15 µs on every request of a push.
 */
export class SecretKeyer {
  private readonly salt = randomBytes(32).toString('base64');

  of(...parts: string[]): string {
    return hash('sha256', `${this.salt}${parts.map((p) => `\0${p.length}:${p}`).join('')}`, 'base64');
  }
}

export class CredentialCache {
  private readonly keyer = new SecretKeyer();
  private readonly entries = new Map<string, { ok: boolean; expires: number }>();
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  key(version: number, user: string, password: string): string {
    return this.keyer.of(String(version), user, password);
  }

  /** The remembered answer, or runs `check` (once, however many callers ask at the same time). */
  async get(key: string, check: () => Promise<boolean>): Promise<boolean> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > this.now()) return hit.ok;
    if (hit) this.entries.delete(key);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = check().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
      const ok = await pending;
      this.remember(key, ok);
      return ok;
    }
    return pending;
  }

  private remember(key: string, ok: boolean): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { ok, expires: this.now() + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
    this.inFlight.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
