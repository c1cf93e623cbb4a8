/**
 * Running totals of what the store holds, kept in memory so a quota check costs nothing per
 * request: bytes of every stored blob (the registry's total, deduplicated), and per repository
 * the bytes of every blob and manifest it holds (a blob shared by two repositories counts in
 * both). Loaded once from the store, then kept in step by the handlers (finish, mount,
 * manifest put and delete, blob delete) and by garbage collection.
 *
 * Every update names the item it adds or removes (a digest, with its repository), so applying
 * one twice changes nothing. The load runs while requests keep updating: an item removed
 * during the load is remembered (a tombstone) so the load cannot bring it back, and an item
 * added during it is simply there already.
 *
 * Memory: one map entry per stored blob and per (repository, digest) pair, about 150 bytes
 * each. Changes made by another process (a `perch gc` run against the same root while this one
 * serves) are seen at the next start; until then the totals only err on the high side.
 */
import type { Store } from '../storage/types';

export interface RepositoryUsage {
  name: string;
  bytes: number;
  /** Blobs and manifests the repository holds. */
  items: number;
}

export interface UsageSnapshot {
  /** Bytes of all stored content (blobs and manifests), each counted once. */
  totalBytes: number;
  blobs: number;
  repositoryCount: number;
  /** Sorted by name. */
  repositories: RepositoryUsage[];
}

export class StorageUsage {
  private readonly blobSizes = new Map<string, number>();
  private readonly held = new Map<string, Map<string, number>>();
  private readonly repoBytes = new Map<string, number>();
  private total = 0;
  private loading: Promise<void> | undefined;
  private tombstones: Set<string> | null = null;

  constructor(private readonly store: Store) {}

  /** Resolves once the totals reflect the store (loads it on first call). */
  ready(): Promise<void> {
    if (!this.loading) {
      this.loading = this.load().catch((err) => {
        this.loading = undefined; // let the next caller try again
        throw err;
      });
    }
    return this.loading;
  }

  get totalBytes(): number {
    return this.total;
  }
  get repositoryCount(): number {
    return this.held.size;
  }
  repositoryBytes(repository: string): number {
    return this.repoBytes.get(repository) ?? 0;
  }
  hasRepository(repository: string): boolean {
    return this.held.has(repository);
  }
  hasBlob(digest: string): boolean {
    return this.blobSizes.has(digest);
  }
  holds(repository: string, digest: string): boolean {
    return this.held.get(repository)?.has(digest) ?? false;
  }
  /** The size of a blob or manifest the repository holds, if these totals know of it. */
  heldSize(repository: string, digest: string): number | undefined {
    return this.held.get(repository)?.get(digest);
  }

  /** Content now stored (a finished upload, a manifest). */
  blobStored(digest: string, size: number): void {
    this.tombstones?.delete(`b ${digest}`);
    this.addBlob(digest, size);
  }

  /** Content removed from the store (garbage collection). */
  blobRemoved(digest: string): void {
    this.tombstones?.add(`b ${digest}`);
    const size = this.blobSizes.get(digest);
    if (size === undefined) return;
    this.blobSizes.delete(digest);
    this.total -= size;
  }

  /** The repository now holds this blob or manifest (stored too, if it was not). */
  repositoryHolds(repository: string, digest: string, size: number): void {
    this.blobStored(digest, size);
    this.tombstones?.delete(`r ${repository} ${digest}`);
    this.addHeld(repository, digest, size);
  }

  /** The repository no longer holds it (a deleted manifest or blob link). */
  repositoryReleases(repository: string, digest: string): void {
    this.tombstones?.add(`r ${repository} ${digest}`);
    const items = this.held.get(repository);
    const size = items?.get(digest);
    if (!items || size === undefined) return;
    items.delete(digest);
    if (items.size === 0) {
      this.held.delete(repository);
      this.repoBytes.delete(repository);
    } else {
      this.repoBytes.set(repository, this.repoBytes.get(repository)! - size);
    }
  }

  private addBlob(digest: string, size: number): void {
    if (this.blobSizes.has(digest)) return;
    this.blobSizes.set(digest, size);
    this.total += size;
  }

  private addHeld(repository: string, digest: string, size: number): void {
    let items = this.held.get(repository);
    if (!items) this.held.set(repository, (items = new Map()));
    if (items.has(digest)) return;
    items.set(digest, size);
    this.repoBytes.set(repository, (this.repoBytes.get(repository) ?? 0) + size);
  }

  snapshot(): UsageSnapshot {
    const repositories = [...this.held.entries()]
      .map(([name, items]) => ({ name, bytes: this.repoBytes.get(name) ?? 0, items: items.size }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { totalBytes: this.total, blobs: this.blobSizes.size, repositoryCount: this.held.size, repositories };
  }

  private async load(): Promise<void> {
    this.tombstones = new Set();
    try {
      const sizes = new Map<string, number>();
      for await (const blob of this.store.listBlobs()) {
        sizes.set(blob.digest, blob.size);
        if (!this.tombstones.has(`b ${blob.digest}`)) this.addBlob(blob.digest, blob.size);
      }
      for (const repository of await this.store.listRepositories()) {
        const digests = new Set([...(await this.store.listRepositoryBlobs(repository)), ...(await this.store.listManifests(repository))]);
        for (const digest of digests) {
          const size = sizes.get(digest) ?? (await this.store.statBlob(digest))?.size;
          if (size === undefined || this.tombstones.has(`r ${repository} ${digest}`)) continue;
          this.addHeld(repository, digest, size);
        }
      }
    } finally {
      this.tombstones = null;
    }
  }
}

const trackers = new WeakMap<Store, StorageUsage>();

/**
 * The usage totals of `store`, shared by everything that uses the same Store object (the
 * handlers, the GC scheduler, metrics). Created on first use; call `ready()` before reading.
 */
export function storageUsage(store: Store): StorageUsage {
  let usage = trackers.get(store);
  if (!usage) {
    usage = new StorageUsage(store);
    trackers.set(store, usage);
  }
  return usage;
}

/** For metrics: per-repository bytes and the totals, once loaded. */
export async function usageSnapshot(store: Store): Promise<UsageSnapshot> {
  const usage = storageUsage(store);
  await usage.ready();
  return usage.snapshot();
}
