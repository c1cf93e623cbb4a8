/**
 * Quota checks on the push path, against the in-memory totals (quota/usage.ts):
 *   storage.maxRepos              a push that would create one repository too many is refused
 *                                 with 429 TOOMANYREQUESTS, as zot refuses it
 *   perch.quota.repositoryBytes   bytes one repository may hold
 *   perch.quota.totalBytes        bytes the whole registry may store (deduplicated)
 * Byte quotas are refused with 403 DENIED (the error table's QUOTA_EXCEEDED), with a message
 * naming the quota and its size. 0 means unlimited for all three.
 *
 * An upload is checked when it starts (POST: is there room at all, and for the length it
 * declares) and when it finishes (PUT: for the bytes it really adds). Between the check and the
 * store's write the bytes are *reserved*, so concurrent finishes cannot together pass a quota
 * that each alone would not; the reservation becomes usage on commit or is given back.
 */
import type { PerchConfig } from '../config/types';
import { RegistryError } from '../http/errors';
import type { Store } from '../storage/types';
import { storageUsage, type StorageUsage } from './usage';

export interface Reservation {
  /** The write happened: the bytes are now usage. */
  commit(): void;
  /** The write failed: give the bytes back. */
  release(): void;
}

interface Pending {
  total: number;
  repo: Map<string, number>;
  /** Repositories being created by a reservation in flight (name -> count). */
  newRepos: Map<string, number>;
}

const pendingByUsage = new WeakMap<StorageUsage, Pending>();

function pendingOf(usage: StorageUsage): Pending {
  let p = pendingByUsage.get(usage);
  if (!p) pendingByUsage.set(usage, (p = { total: 0, repo: new Map(), newRepos: new Map() }));
  return p;
}

interface QuotaParts {
  config: PerchConfig;
  store: Store;
}

/**
 * POST of an upload or a mount: refuses a new repository past maxRepos, and a repository (or
 * the registry) already at its quota or that `declaredBytes` of new content would take past it.
 */
export async function admitUpload(parts: QuotaParts, repository: string, declaredBytes = 0, digest?: string): Promise<void> {
  if (unlimited(parts.config)) return;
  const usage = storageUsage(parts.store);
  await usage.ready();
  const pending = pendingOf(usage);
  checkRepositoryCount(parts.config, usage, pending, repository);
  // With the digest known (a monolithic push) content already held adds nothing and is let in
  // even at the quota; without it, a repository at its quota has no room for anything.
  const repoAdds = digest !== undefined && usage.holds(repository, digest) ? 0 : declaredBytes;
  const totalAdds = digest !== undefined && usage.hasBlob(digest) ? 0 : declaredBytes;
  checkBytes(parts.config, usage, pending, repository, repoAdds, totalAdds, 'upload', {
    repository: digest === undefined || repoAdds > 0,
    total: digest === undefined || totalAdds > 0,
  });
}

/** Finish of an upload, a mount or a manifest put: reserves what it adds, or refuses. */
export async function reserve(parts: QuotaParts, repository: string, digest: string, size: number, what: 'blob' | 'manifest'): Promise<Reservation> {
  const usage = storageUsage(parts.store);
  // Nothing to check, so nothing to hold back from concurrent checks: the totals (metrics,
  // the manifest PUT's sizes) are still kept. Before they are loaded this adds to them, and
  // the load adds nothing twice (quota/usage.ts).
  if (unlimited(parts.config)) return { commit: () => usage.repositoryHolds(repository, digest, size), release: () => {} };
  await usage.ready();
  const pending = pendingOf(usage);
  // Synchronous from here on: the check and the reservation cannot be interleaved.
  const createsRepository = !usage.hasRepository(repository);
  if (createsRepository) checkRepositoryCount(parts.config, usage, pending, repository);
  const repoAdds = usage.holds(repository, digest) ? 0 : size;
  const totalAdds = usage.hasBlob(digest) ? 0 : size;
  checkBytes(parts.config, usage, pending, repository, repoAdds, totalAdds, what, { repository: false, total: false });
  pending.total += totalAdds;
  pending.repo.set(repository, (pending.repo.get(repository) ?? 0) + repoAdds);
  if (createsRepository) pending.newRepos.set(repository, (pending.newRepos.get(repository) ?? 0) + 1);
  let open = true;
  const giveBack = () => {
    if (!open) return;
    open = false;
    pending.total -= totalAdds;
    const left = pending.repo.get(repository)! - repoAdds;
    if (left === 0) pending.repo.delete(repository);
    else pending.repo.set(repository, left);
    if (createsRepository) {
      const n = pending.newRepos.get(repository)! - 1;
      if (n === 0) pending.newRepos.delete(repository);
      else pending.newRepos.set(repository, n);
    }
  };
  return {
    commit() {
      if (open) usage.repositoryHolds(repository, digest, size);
      giveBack();
    },
    release: giveBack,
  };
}

/** No storage.maxRepos and no byte quota: the default. */
function unlimited(config: PerchConfig): boolean {
  return config.storage.maxRepos <= 0 && config.perch.quota.repositoryBytes <= 0 && config.perch.quota.totalBytes <= 0;
}

function checkRepositoryCount(config: PerchConfig, usage: StorageUsage, pending: Pending, repository: string): void {
  const max = config.storage.maxRepos;
  if (max <= 0 || usage.hasRepository(repository) || pending.newRepos.has(repository)) return;
  const count = usage.repositoryCount + pending.newRepos.size;
  if (count >= max) {
    throw new RegistryError(
      'TOO_MANY_REQUESTS',
      `repository ${repository} cannot be created: the registry holds ${count} ${count === 1 ? 'repository' : 'repositories'} and storage.maxRepos is ${max}; push to an existing repository, delete one, or raise storage.maxRepos`,
    );
  }
}

/** `refuseWhenFull`: refuse at the quota even for 0 added bytes (an upload of unknown size). */
function checkBytes(
  config: PerchConfig,
  usage: StorageUsage,
  pending: Pending,
  repository: string,
  repoAdds: number,
  totalAdds: number,
  what: string,
  refuseWhenFull: { repository: boolean; total: boolean },
): void {
  const { repositoryBytes, totalBytes } = config.perch.quota;
  if (repositoryBytes > 0) {
    const now = usage.repositoryBytes(repository) + (pending.repo.get(repository) ?? 0);
    if ((refuseWhenFull.repository && now >= repositoryBytes) || (repoAdds > 0 && now + repoAdds > repositoryBytes)) {
      throw new RegistryError(
        'QUOTA_EXCEEDED',
        `repository quota exceeded: ${repository} holds ${formatBytes(now)}${repoAdds > 0 ? ` and this ${what} adds ${formatBytes(repoAdds)}` : ''}, over perch.quota.repositoryBytes of ${formatBytes(repositoryBytes)}; delete tags or manifests it no longer needs (garbage collection then frees their blobs) or raise perch.quota.repositoryBytes`,
      );
    }
  }
  if (totalBytes > 0) {
    const now = usage.totalBytes + pending.total;
    if ((refuseWhenFull.total && now >= totalBytes) || (totalAdds > 0 && now + totalAdds > totalBytes)) {
      throw new RegistryError(
        'QUOTA_EXCEEDED',
        `registry quota exceeded: the registry stores ${formatBytes(now)}${totalAdds > 0 ? ` and this ${what} adds ${formatBytes(totalAdds)}` : ''}, over perch.quota.totalBytes of ${formatBytes(totalBytes)}; delete content no longer needed (garbage collection then frees it) or raise perch.quota.totalBytes`,
      );
    }
  }
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** "1536 bytes (1.5 KiB)": exact for comparison with the config, readable for people. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${n} bytes (${Number(value.toFixed(1))} ${UNITS[unit]})`;
}
