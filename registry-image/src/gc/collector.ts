/**
 * Online garbage collection: a function over the Store interface (MemoryStore and FsStore
 * alike) that removes what nothing needs while the registry keeps serving. distribution can
 * only collect offline; this is how perch can do it online.
 *
 * What it removes, in this order (each is a "phase"):
 *   1. tags no keepTags rule keeps, and manifests storage.retention says to remove
 *      (untagged ones, referrers whose subject is gone; rules in gc/retention.ts)
 *   2. links: a repository's `_layers` entry for a blob that no manifest left in that
 *      repository references, once the blob is older than storage.gcDelay. Without this a
 *      blob pushed once would stay referenced by its link forever and never become garbage;
 *      with it, a blob a repository was given but never used (an aborted push, a manifest
 *      deleted since) leaves that repository after the grace period, as in zot, whose
 *      per-repository blob store drops such blobs.
 *   3. blobs no manifest left in any repository references (its own digest, config, layers,
 *      children, subject), once older than storage.gcDelay
 *   4. upload sessions untouched for perch.uploadTTL
 * It never removes: anything younger than its grace period; a tagged manifest; a child of an
 * index still in the repository; a referrer whose subject is still there; anything a manifest
 * it cannot read might reference (a repository with such a manifest keeps all its links and
 * blobs); an upload session still being written to.
 *
 * ## Concurrency rules
 *
 * The collector never stops the registry. It first takes an inventory without any lock (it
 * may miss what is written meanwhile), plans from it, then removes. The race that matters is a
 * push that links or mentions a blob the plan calls garbage: a manifest PUT whose blobs were
 * uploaded an hour ago, a HEAD that says "already there, skip the upload", a finish or a mount
 * of content that is already stored. The protocol (after cloudflare/serverless-registry's
 * garbage-collector.ts, with a blob's mtime in the role of its insertion mark):
 *
 *   push side (handlers, storage)                collector
 *   ------------------------------               ------------------------------------------
 *   refresh the blob's mtime (touchBlob)         inventory, plan: candidates are old at T0
 *   check the link / the manifest is there       for each batch, holding the guard alone:
 *   write the manifest, link or tag                re-stat; young now -> skip ("kept")
 *   (refresh..write hold the guard shared)         remove links; re-stat; young -> relink
 *                                                  remove the blob
 *
 * - What refreshes a blob's mtime: linkBlob (mount, finish), finishUpload of content already
 *   stored, putManifest of a manifest already stored, every blob and child a manifest PUT
 *   checks (except a blob whose link this process made, with bytes written within FsStore's
 *   freshLinkMs, half of gcDelay at most: young without looking), and a HEAD that confirms a
 *   blob exists (clients HEAD, then skip the upload and PUT the manifest later). So the grace
 *   period, storage.gcDelay, runs from the last time anyone showed interest, and it is the
 *   bound on how long a client may take between its HEAD or upload and its manifest PUT (zot's
 *   meaning of gcDelay). Untagged manifests get storage.retention.delay (default gcDelay)
 *   counted the same way from the manifest blob.
 * - Anything written after the inventory was refreshed first, so it is young and not in the
 *   plan, or it makes a planned item young: the re-stat in the removal batch sees it.
 * - Inside one process (the scheduler in `perch serve`) the guard (gc/guard.ts) makes a
 *   batch's re-check-and-remove atomic with respect to every handler's refresh-check-write,
 *   so a handler either finishes before the batch (and the re-stat sees its refresh) or starts
 *   after it (and finds the blob or link gone, answering BLOB_UNKNOWN or MANIFEST_BLOB_UNKNOWN,
 *   so the client uploads again; no 201 is ever given for something half gone).
 * - Across processes (`perch gc` run beside a live `perch serve`) there is no shared guard.
 *   Removing a link, then re-stat'ing, then relinking if the blob became young closes the
 *   manifest PUT race without it: a PUT that saw the link had refreshed the blob before, so
 *   the re-stat sees it. What stays open is a window of two system calls in which a finish or
 *   mount of the very same content re-links a blob just re-stat'ed as old (and likewise an
 *   index PUT naming an untagged child just re-stat'ed as old); docs/gc.md
 *   therefore recommends storage.gc for collection while serving, and `perch gc` for a stopped
 *   registry or a dry run.
 * - Removal order is manifests, links, blobs: the live set is computed after the manifest
 *   phase from what is really left, so a manifest kept because it became tagged or referenced
 *   meanwhile keeps its blobs, and when one manifest of a round is kept the repository's later
 *   rounds (its children, its referrers) are kept too.
 * - A dry run stops after planning and reports the plan; a real run on an unchanged store
 *   removes exactly that (and reports anything it had to keep in `kept`).
 */
import type { PerchConfig } from '../config/types';
import type { Logger } from '../log';
import type { StorageUsage } from '../quota/usage';
import { StorageError, type Store } from '../storage/types';
import { referenceGuard, type ReferenceGuard } from './guard';
import { takeInventory, type Inventory, type ManifestFacts } from './inventory';
import { emptyReport, record, type GcRemoval, type GcReport } from './report';
import { planRetention, retentionRules, type ManifestReason } from './retention';

export interface GcOptions {
  /** storage.gcDelayMs and storage.retention are read from here. */
  storage: PerchConfig['storage'];
  /** perch.uploadTTLMs */
  uploadTTLMs: number;
  /** Plan and report only; change nothing. */
  dryRun?: boolean;
  /** Checked between batches: a stopping server does not wait for a whole collection. */
  signal?: AbortSignal;
  /** Totals to keep in step with what is removed (quota/usage.ts). */
  usage?: StorageUsage;
  log?: Logger;
  /** Removals per exclusive batch: pushes wait at most one batch. */
  batchSize?: number;
  /** The guard the handlers hold; default: the one of `store` (gc/guard.ts). */
  guard?: ReferenceGuard;
}

export function gcOptionsFrom(config: PerchConfig, extra: Omit<GcOptions, 'storage' | 'uploadTTLMs'> = {}): GcOptions {
  return { storage: config.storage, uploadTTLMs: config.perch.uploadTTLMs, ...extra };
}

interface PlannedManifest {
  digest: string;
  reason: ManifestReason;
  subject?: string;
}

interface Plan {
  tags: Array<{ repository: string; tag: string; digest: string }>;
  /** Per repository, the retention rounds; retention.dryRun leaves them out. */
  rounds: Map<string, PlannedManifest[][]>;
  uploads: Array<{ repository: string; id: string; size: number }>;
}

export async function collectGarbage(store: Store, options: GcOptions): Promise<GcReport> {
  const startedMs = Date.now();
  const report = emptyReport(options.dryRun ?? false, startedMs);
  const inventory = await takeInventory(store, options.signal);
  const blobCutoff = inventory.takenMs - options.storage.gcDelayMs;
  const plan = planManifestsAndUploads(inventory, options);

  if (options.dryRun) {
    for (const t of plan.tags) record(report, { kind: 'tag', ...t });
    const removed = new Set<string>();
    for (const [repository, rounds] of plan.rounds) {
      for (const m of rounds.flat()) {
        removed.add(key(repository, m.digest));
        record(report, { kind: 'manifest', repository, digest: m.digest, reason: m.reason });
      }
    }
    const { links, blobs } = planBlobs(inventory, removed, blobCutoff);
    for (const l of links) record(report, { kind: 'link', ...l });
    for (const b of blobs) record(report, { kind: 'blob', ...b });
    for (const u of plan.uploads) record(report, { kind: 'upload', ...u });
  } else {
    const sweeper = new Sweeper(store, options.guard ?? referenceGuard(store), options, report, inventory.takenMs);
    await sweeper.tags(plan.tags);
    const removed = await sweeper.manifests(plan.rounds);
    const { links, blobs } = planBlobs(inventory, removed, blobCutoff);
    await sweeper.links(links, blobCutoff);
    await sweeper.blobs(blobs, blobCutoff);
    await sweeper.uploads(plan.uploads);
  }
  report.durationMs = Date.now() - startedMs;
  return report;
}

function key(repository: string, digest: string): string {
  return `${repository} ${digest}`;
}

function planManifestsAndUploads(inventory: Inventory, options: GcOptions): Plan {
  const plan: Plan = { tags: [], rounds: new Map(), uploads: [] };
  for (const repo of inventory.repositories) {
    const rules = retentionRules(options.storage, repo.name);
    const retention = planRetention(repo, rules, inventory.takenMs);
    if (rules.dryRun) {
      // zot's retention.dryRun: say what retention would do, do none of it.
      for (const t of retention.tags) options.log?.info('retention dry run: would remove tag', { repository: repo.name, ...t });
      for (const m of retention.rounds.flat()) options.log?.info('retention dry run: would remove manifest', { repository: repo.name, ...m });
      continue;
    }
    for (const t of retention.tags) plan.tags.push({ repository: repo.name, ...t });
    if (retention.rounds.length > 0) {
      plan.rounds.set(
        repo.name,
        retention.rounds.map((round) => round.map((m) => ({ ...m, subject: repo.manifests.get(m.digest)?.subject }))),
      );
    }
  }
  const uploadCutoff = inventory.takenMs - options.uploadTTLMs;
  for (const u of inventory.uploads) if (u.updatedMs < uploadCutoff) plan.uploads.push({ repository: u.repository, id: u.id, size: u.size });
  return plan;
}

/** Links and blobs that the manifests left after the manifest phase do not reference. */
function planBlobs(inventory: Inventory, removedManifests: Set<string>, cutoff: number) {
  const live = new Set<string>();
  const links: Array<{ repository: string; digest: string }> = [];
  const referencedIn = new Map<string, Set<string>>();
  for (const repo of inventory.repositories) {
    const referenced = new Set<string>();
    let understood = true;
    for (const m of repo.manifests.values()) {
      if (removedManifests.has(key(repo.name, m.digest))) continue;
      for (const d of references(m)) referenced.add(d);
      understood &&= m.understood;
    }
    // A manifest we cannot read may reference any of the repository's blobs: keep them all.
    if (!understood) for (const d of repo.links) referenced.add(d);
    referencedIn.set(repo.name, referenced);
    for (const d of referenced) live.add(d);
  }
  for (const repo of inventory.repositories) {
    const referenced = referencedIn.get(repo.name)!;
    for (const digest of repo.links) {
      if (referenced.has(digest)) continue;
      const stat = inventory.blobs.get(digest);
      // No stat: the blob is gone (a dangling link) or newer than the inventory (re-checked).
      if (!stat || stat.modifiedMs < cutoff) links.push({ repository: repo.name, digest });
    }
  }
  const blobs: Array<{ digest: string; size: number }> = [];
  for (const stat of inventory.blobs.values()) {
    if (!live.has(stat.digest) && stat.modifiedMs < cutoff) blobs.push({ digest: stat.digest, size: stat.size });
  }
  blobs.sort((a, b) => (a.digest < b.digest ? -1 : 1));
  return { links, blobs };
}

function references(m: ManifestFacts): string[] {
  return [m.digest, ...m.blobs, ...m.children, ...(m.subject ? [m.subject] : [])];
}

/** The removal phases of a real run: every item is re-checked inside an exclusive batch. */
class Sweeper {
  private readonly batchSize: number;

  constructor(
    private readonly store: Store,
    private readonly guard: ReferenceGuard,
    private readonly options: GcOptions,
    private readonly report: GcReport,
    private readonly takenMs: number,
  ) {
    this.batchSize = options.batchSize ?? 32;
  }

  async tags(planned: Plan['tags']): Promise<void> {
    await this.eachInBatches(planned, async (t) => {
      if ((await this.store.resolveTag(t.repository, t.tag)) !== t.digest) return false;
      if (!(await this.store.deleteTag(t.repository, t.tag))) return false;
      this.removed({ kind: 'tag', ...t });
      return true;
    });
  }

  /** Round by round per repository; returns what was removed as `repository digest` keys. */
  async manifests(rounds: Plan['rounds']): Promise<Set<string>> {
    const removed = new Set<string>();
    for (const [repository, repoRounds] of rounds) {
      const cutoff = this.takenMs - retentionRules(this.options.storage, repository).delayMs;
      for (let r = 0; r < repoRounds.length; r++) {
        let keptAny = false;
        await this.inBatches(repoRounds[r], async (batch) => {
          // Tags as they are now, read once per batch while no handler can add one.
          const tagged = new Set<string>();
          for (const tag of await this.store.listTags(repository)) {
            const digest = await this.store.resolveTag(repository, tag);
            if (digest) tagged.add(digest);
          }
          for (const m of batch) {
            if (await this.removeManifest(repository, m, cutoff, tagged)) removed.add(key(repository, m.digest));
            else keptAny = true;
          }
        });
        // The next rounds were only eligible because this one would be gone.
        if (keptAny) {
          this.report.kept += repoRounds.slice(r + 1).flat().length;
          break;
        }
      }
    }
    return removed;
  }

  private async removeManifest(repository: string, m: PlannedManifest, cutoff: number, tagged: Set<string>): Promise<boolean> {
    const { store } = this;
    const stat = await store.statBlob(m.digest);
    // Pushed again, retagged or named by a new index since the plan: it is young now.
    const inUse =
      !stat ||
      stat.modifiedMs >= cutoff ||
      tagged.has(m.digest) ||
      (m.reason === 'referrer without subject' && m.subject !== undefined && (await store.getManifest(repository, m.subject)) !== null);
    if (inUse || !(await store.deleteManifest(repository, m.digest))) {
      this.report.kept++;
      return false;
    }
    this.options.usage?.repositoryReleases(repository, m.digest);
    this.removed({ kind: 'manifest', repository, digest: m.digest, reason: m.reason });
    return true;
  }

  async links(planned: Array<{ repository: string; digest: string }>, cutoff: number): Promise<void> {
    const { store } = this;
    await this.eachInBatches(planned, async (l) => {
      const before = await store.statBlob(l.digest);
      if (before && before.modifiedMs >= cutoff) return false;
      if (!(await store.unlinkBlob(l.repository, l.digest))) return false;
      // Re-stat after unlinking: a PUT that saw the link had refreshed the blob before looking.
      const after = await store.statBlob(l.digest);
      if (after && after.modifiedMs >= cutoff) {
        await store.linkBlob(l.repository, l.digest).catch((err) => {
          if (!(err instanceof StorageError && err.kind === 'NotFound')) throw err;
        });
        return false;
      }
      this.options.usage?.repositoryReleases(l.repository, l.digest);
      this.removed({ kind: 'link', ...l });
      return true;
    });
  }

  async blobs(planned: Array<{ digest: string; size: number }>, cutoff: number): Promise<void> {
    const { store } = this;
    await this.eachInBatches(planned, async (b) => {
      const stat = await store.statBlob(b.digest);
      if (!stat || stat.modifiedMs >= cutoff) return false;
      if (!(await store.deleteBlob(b.digest))) return false;
      this.options.usage?.blobRemoved(b.digest);
      this.removed({ kind: 'blob', digest: b.digest, size: stat.size });
      return true;
    });
  }

  /** Upload sessions are not references: no guard, but re-read so one written to meanwhile stays. */
  async uploads(planned: Plan['uploads']): Promise<void> {
    const cutoff = this.takenMs - this.options.uploadTTLMs;
    for (const u of planned) {
      this.options.signal?.throwIfAborted();
      try {
        const session = await this.store.getUpload(u.repository, u.id);
        if (session.updatedMs >= cutoff) {
          this.report.kept++;
          continue;
        }
        await this.store.cancelUpload(u.repository, u.id);
        this.removed({ kind: 'upload', repository: u.repository, id: u.id, size: session.size });
      } catch (err) {
        if (!(err instanceof StorageError && err.kind === 'UploadNotFound')) throw err;
      }
    }
  }

  private removed(removal: GcRemoval): void {
    record(this.report, removal);
    this.options.log?.debug('gc removed', { ...removal });
  }

  /** Runs `work` over `items`, a batch at a time, each batch holding the guard exclusively. */
  private async inBatches<T>(items: T[], work: (batch: T[]) => Promise<void>): Promise<void> {
    for (let i = 0; i < items.length; i += this.batchSize) {
      this.options.signal?.throwIfAborted();
      const batch = items.slice(i, i + this.batchSize);
      await this.guard.exclusive(() => work(batch));
    }
  }

  /** inBatches for items removed one by one; `remove` says false when it had to keep one. */
  private async eachInBatches<T>(items: T[], remove: (item: T) => Promise<boolean>): Promise<void> {
    await this.inBatches(items, async (batch) => {
      for (const item of batch) if (!(await remove(item))) this.report.kept++;
    });
  }
}

export type { GcReport, GcRemoval } from './report';
