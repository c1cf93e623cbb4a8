/**
 * The users of `http.auth.htpasswd.path`, kept current while the registry runs.
 *
 * The file is polled (polled-file.ts explains why not fs.watch); a change is live within one
 * poll interval, and a changed file clears the verified-credential cache, so a rotated
 * password stops working within that interval even for a client whose old password was just
 * accepted. If the file later disappears or becomes unreadable, the users last loaded stay in
 * force (as zot does on a failed reload) and readiness reports the problem, so the pod leaves
 * the Service until the Secret is fixed; at start there is no "last loaded", so nobody can
 * log in.
 *
 * A file with a line perch cannot use (a hash that is not bcrypt, such as Apache's default MD5
 * `$apr1$`; htpasswd.ts) is refused as a whole, never loaded without that line: at start the
 * registry does not start (`start` throws, naming the file, the line and `htpasswd -B`); while
 * running, the users loaded before stay in force, the refusal is logged as an error once per
 * version of the file, and readiness reports it until the file is fixed.
 *
 * An unknown user costs the same bcrypt work as a known one with a wrong password (a compare
 * against a dummy hash of the file's usual cost), so timing does not tell which names exist.
 */
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { Logger } from '../log';
import { CredentialCache } from './credential-cache';
import { bcryptCost, parseHtpasswd, type HtpasswdEntry } from './htpasswd';
import { PolledFile } from './polled-file';
import type { ReadinessCheck } from './types';

export interface HtpasswdStoreOptions {
  pollIntervalMs: number;
  now: () => number;
  /** How long a checked password is remembered. */
  cacheTtlMs?: number;
}

const DEFAULT_CACHE_TTL_MS = 60_000;
const CACHE_MAX_ENTRIES = 10_000;

export class HtpasswdStore {
  private entries = new Map<string, HtpasswdEntry>();
  /** Bumped at every successful load; part of every cache key. */
  private version = 0;
  private loadedOnce = false;
  /** Why the file's current content is not in force, when it is not. */
  private refused: string | undefined;
  private readonly cache: CredentialCache;
  private readonly file: PolledFile;
  private readonly dummyHashes = new Map<number, Promise<string>>();
  private usualCost = 10;

  constructor(
    readonly path: string,
    private readonly log: Logger,
    options: HtpasswdStoreOptions,
  ) {
    this.cache = new CredentialCache(options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS, CACHE_MAX_ENTRIES, options.now);
    this.file = new PolledFile(path, options.pollIntervalMs, {
      onContent: (content) => this.load(content.toString('utf8')),
      onError: (error) =>
        this.log.error('htpasswd file cannot be read', {
          path,
          error: error.code ?? error.message,
          ...(this.loadedOnce ? { keeping: `the ${this.entries.size} users loaded before` } : {}),
        }),
    });
  }

  /** Reads the file once and starts polling it. Throws when the file is there but refused. */
  async start(): Promise<void> {
    await this.file.check();
    if (this.refused !== undefined) throw new HtpasswdRefused(this.refused);
    this.file.start();
  }

  /** Polls once now (tests, and anyone who knows the file just changed). */
  refresh(): Promise<void> {
    return this.file.check();
  }

  close(): void {
    this.file.stop();
  }

  private load(text: string): void {
    const { entries, problems } = parseHtpasswd(text);
    const refusing = problems.filter((p) => p.refuses);
    for (const problem of problems) {
      if (problem.refuses) this.log.error('htpasswd line refused', { path: this.path, line: problem.line, problem: problem.message });
      else this.log.warn('htpasswd line ignored', { path: this.path, line: problem.line, problem: problem.message });
    }
    if (refusing.length > 0) {
      this.refused = `htpasswd file ${this.path} refused: ${refusing.map((p) => p.message).join('; ')}`;
      this.log.error('htpasswd file refused', {
        path: this.path,
        lines: refusing.map((p) => p.line),
        ...(this.loadedOnce ? { keeping: `the ${this.entries.size} users loaded before` } : {}),
      });
      return;
    }
    this.refused = undefined;
    this.entries = entries;
    this.version++;
    this.cache.clear();
    this.usualCost = mostCommonCost([...entries.values()]);
    // Made now, so the first unknown user does not pay for it (and stand out by taking longer).
    void this.dummyHash(this.usualCost);
    if (this.loadedOnce) this.log.info('htpasswd file reloaded', { path: this.path, users: entries.size });
    else this.log.info('htpasswd file loaded', { path: this.path, users: entries.size });
    this.loadedOnce = true;
    if (entries.size === 0) this.log.warn('htpasswd file has no usable users: nobody can log in', { path: this.path });
  }

  has(user: string): boolean {
    return this.entries.has(user);
  }

  /** The current hash of `user`, to bind refresh tokens to it (never leaves the process as is). */
  hashOf(user: string): string | undefined {
    return this.entries.get(user)?.hash;
  }

  /** true when `password` is `user`'s. Same work and same answer for unknown users as for wrong passwords. */
  verify(user: string, password: string): Promise<boolean> {
    const entry = this.entries.get(user);
    const key = this.cache.key(this.version, user, password);
    return this.cache.get(key, async () => {
      if (!entry) {
        await bcrypt.compare(password, await this.dummyHash(this.usualCost));
        return false;
      }
      return bcrypt.compare(password, entry.hash);
    });
  }

  private dummyHash(cost: number): Promise<string> {
    let hash = this.dummyHashes.get(cost);
    if (!hash) {
      hash = bcrypt.hash(randomBytes(16).toString('hex'), cost);
      this.dummyHashes.set(cost, hash);
    }
    return hash;
  }

  readiness(): ReadinessCheck {
    const state = this.file.state;
    if (state.ok && this.refused !== undefined) {
      return { ok: false, reason: `${this.refused}${this.loadedOnce ? '; the users loaded before stay in force until it is fixed' : ''}` };
    }
    if (state.ok) return { ok: true };
    const code = state.error.code ?? state.error.message;
    const reason =
      code === 'ENOENT'
        ? `htpasswd file ${this.path} does not exist; create it with "perch htpasswd add ${this.path} USER" or mount the Secret that holds it`
        : `htpasswd file ${this.path} cannot be read (${code}); check that it is a readable file`;
    return { ok: false, reason };
  }
}

/** The htpasswd file is there but has a line perch cannot use; the message names the line. */
export class HtpasswdRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HtpasswdRefused';
  }
}

function mostCommonCost(entries: HtpasswdEntry[]): number {
  const counts = new Map<number, number>();
  for (const e of entries) {
    const cost = bcryptCost(e.hash);
    counts.set(cost, (counts.get(cost) ?? 0) + 1);
  }
  let best = 10;
  let bestCount = 0;
  for (const [cost, count] of counts) {
    if (count > bestCount) [best, bestCount] = [cost, count];
  }
  return best;
}
