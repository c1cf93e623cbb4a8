/**
 * API keys (zot's http.auth.apikey): a user makes a key, and it works as that user's password
 * in Basic auth (docker/podman/helm/crane/oras logins) until it expires or is revoked.
 *
 * - A key is "zak_" (zot's prefix) + 32 random bytes in hex. Only its SHA-256 is kept: with
 *   256 random bits there is nothing to guess, so a slow password hash (bcrypt) would add cost
 *   on every request and no safety; a fast hash still means the file never holds a usable key.
 * - Lookups are by hash in memory. This process is the file's only writer, so memory is the
 *   truth; every change is written (api-key-file.ts) before it is answered, except lastUsed,
 *   which is written at most once a minute (LAST_USED_FLUSH_MS) so a push does not rewrite
 *   the file on every request.
 * - Revoking removes the key from memory before anything else: the next request with it is
 *   refused at once.
 */
import { hash, randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '../../log';
import { readApiKeyFile, writeApiKeyFile, type StoredApiKey } from './api-key-file';

export const API_KEY_PREFIX = 'zak_';
export const LAST_USED_FLUSH_MS = 60_000;

export interface NewApiKey {
  owner: string;
  groups: string[];
  label: string;
  scopes: string[];
  expires: number | null;
  creatorUa: string;
}

export function hashApiKey(key: string): string {
  return hash('sha256', key, 'hex');
}

export class ApiKeyStore {
  private readonly byHash = new Map<string, StoredApiKey>();
  /** Writes one at a time, in order. */
  private writing: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly path: string,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  static async open(path: string, log: Logger, now: () => number = Date.now): Promise<ApiKeyStore> {
    const store = new ApiKeyStore(path, log, now);
    for (const key of await readApiKeyFile(path)) store.byHash.set(key.hash, key);
    return store;
  }

  /** Makes a key; the returned `key` is the only time it exists in clear. */
  async create(input: NewApiKey): Promise<{ key: string; record: StoredApiKey }> {
    const key = API_KEY_PREFIX + randomBytes(32).toString('hex');
    const record: StoredApiKey = { id: randomUUID(), hash: hashApiKey(key), created: this.now(), lastUsed: null, ...input };
    this.byHash.set(record.hash, record);
    try {
      await this.persist();
    } catch (err) {
      this.byHash.delete(record.hash); // not stored: must not work
      throw err;
    }
    return { key, record };
  }

  /** `owner`'s keys, newest first. */
  list(owner: string): StoredApiKey[] {
    return [...this.byHash.values()].filter((k) => k.owner === owner).sort((a, b) => b.created - a.created);
  }

  /** Removes `owner`'s key `id`; false when `owner` has no such key. */
  async revoke(owner: string, id: string): Promise<boolean> {
    const found = [...this.byHash.values()].find((k) => k.id === id && k.owner === owner);
    if (!found) return false;
    this.byHash.delete(found.hash);
    await this.persist();
    return true;
  }

  /** The live key whose clear text is `key`, recording its use; undefined when none or expired. */
  use(key: string): StoredApiKey | undefined {
    if (!key.startsWith(API_KEY_PREFIX)) return undefined;
    const record = this.byHash.get(hashApiKey(key));
    if (!record || this.expired(record)) return undefined;
    record.lastUsed = this.now();
    this.scheduleFlush();
    return record;
  }

  /** Is key `id` of `owner` still there and unexpired? */
  live(owner: string, id: string): boolean {
    for (const k of this.byHash.values()) if (k.id === id) return k.owner === owner && !this.expired(k);
    return false;
  }

  /** Does `owner` have any key? (For the log line of a refused login.) */
  hasOwner(owner: string): boolean {
    for (const k of this.byHash.values()) if (k.owner === owner) return true;
    return false;
  }

  expired(record: StoredApiKey): boolean {
    return record.expires !== null && record.expires <= this.now();
  }

  /** Writes what is pending (lastUsed) and stops the timer. */
  async close(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      await this.persist().catch((err) => this.log.warn('API key use times not saved', { path: this.path, error: (err as Error).message }));
    }
    await this.writing;
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.persist().catch((err) => this.log.warn('API key use times not saved', { path: this.path, error: (err as Error).message }));
    }, LAST_USED_FLUSH_MS);
    this.flushTimer.unref();
  }

  /** Queues a write of the whole set as it is when the write starts. */
  private persist(): Promise<void> {
    const next = this.writing.catch(() => undefined).then(() => writeApiKeyFile(this.path, [...this.byHash.values()]));
    this.writing = next;
    return next;
  }
}
