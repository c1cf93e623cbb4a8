/**
 * Remembers the outcome of recent password checks so bcrypt (tens of milliseconds of CPU by
 * design) runs once per user, password and file version instead of once per request: a
 * `helm push` sends the same Basic header on every one of its requests.
 *
 * The key is an HMAC, under a key made fresh for each process, of the file version, the user
 * and the password: nothing in memory can be turned back into a password faster than bcrypt
 * would allow, and a new file version (a rotated password) never hits an old entry. The
 * store also clears the cache when the file changes. Entries expire after `ttlMs`; the cache
 * holds at most `maxEntries` (oldest dropped first). Concurrent checks of the same key share
 * one bcrypt run.
 */
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';

export class CredentialCache {
  // A KeyObject made once: createHmac with raw bytes re-imports the key on every call (~25 µs).
  private readonly secret = createSecretKey(randomBytes(32));
  private readonly entries = new Map<string, { ok: boolean; expires: number }>();
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  key(version: number, user: string, password: string): string {
    return createHmac('sha256', this.secret).update(`${version}\0${user}\0${password}`).digest('base64');
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
