/**
 * What the soak believes each repository holds, precise enough that every answer of the
 * server is either right, an expected refusal, or an error.
 *
 * Certain and uncertain:
 * - A **tagged** manifest is there, with every blob it names: GC never takes a tagged manifest
 *   or anything one references (docs/gc.md). Pulls, tag moves and deletes of a tag or digest
 *   take locks (below) so the workload never races itself on one tag or manifest, and the
 *   model changes only after the server acknowledged.
 * - An **untagged** manifest (pushed by digest, or left behind by a tag move or a tag delete)
 *   is there while it is young: GC removes an untagged manifest only once its blob is older
 *   than retention.delay (= gcDelay here), its age counted from its last write or refresh,
 *   which is never earlier than when the soak sent its last successful PUT of it. So until
 *   gcDelay (less a margin) has passed since that send, the manifest and its blobs must answer
 *   200; after that, 200 with the right bytes or 404 are both right.
 * - A tag list read while other workers push, move and delete tags: a tag nobody touched
 *   between the start of the read and its end (its mutation sequence number is older than the
 *   read and it is not being changed now) must be listed exactly when the model has it; a tag
 *   changed meanwhile may be listed or not; a tag the soak never made must never be listed.
 *
 * Locks are per repository, per key (`tag:NAME`, `digest:sha256:...`), shared or exclusive,
 * and only ever tried, never waited for: an operation that cannot have what it needs picks
 * something else, so there are no deadlocks.
 */
import type { ImageSpec } from './images';

export type LockMode = 'shared' | 'exclusive';

interface LockState {
  shared: number;
  exclusive: boolean;
}

/** Tags (besides the pinned one) a repository may hold; pushes beyond this move or delete tags instead. */
export const MAX_TAGS = 8;
/** Untagged manifests the model keeps following per repository (oldest forgotten first). */
const MAX_UNTAGGED = 40;
/** The tag every repository keeps for the whole soak: the repository always exists. */
export const PINNED_TAG = 'pinned';

export class RepoModel {
  /** Tags the server acknowledged, and the digest each points at. */
  readonly tags = new Map<string, string>();
  /** Every manifest the model follows in this repository, tagged or not. */
  readonly images = new Map<string, ImageSpec>();
  /** Client time (ms) at which the last acknowledged PUT of a manifest was sent. */
  readonly lastPutMs = new Map<string, number>();
  pinnedDigest = '';
  /** Mutation sequence: bumped when a change of a tag starts and when it ends. */
  private seq = 0;
  private readonly tagSeq = new Map<string, number>();
  private readonly changing = new Set<string>();
  /** Tags whose state is unknown (an unexpected answer while changing them): never stable again, never used. */
  private readonly unknown = new Set<string>();
  private readonly locks = new Map<string, LockState>();

  constructor(
    readonly name: string,
    readonly isPublic: boolean,
  ) {}

  // --- locks -------------------------------------------------------------------------------

  /** Takes every lock or none; returns the release function, or null when one is taken. */
  tryLock(wants: ReadonlyArray<readonly [key: string, mode: LockMode]>): (() => void) | null {
    for (const [key, mode] of wants) {
      const state = this.locks.get(key);
      if (!state) continue;
      if (state.exclusive || (mode === 'exclusive' && state.shared > 0)) return null;
    }
    // The same key twice in one request (a tag and its own digest) must not lock itself out.
    const taken = new Map<string, LockMode>();
    for (const [key, mode] of wants) if (taken.get(key) !== 'exclusive') taken.set(key, mode);
    for (const [key, mode] of taken) {
      const state = this.locks.get(key) ?? { shared: 0, exclusive: false };
      if (mode === 'exclusive') state.exclusive = true;
      else state.shared++;
      this.locks.set(key, state);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const [key, mode] of taken) {
        const state = this.locks.get(key)!;
        if (mode === 'exclusive') state.exclusive = false;
        else state.shared--;
        if (!state.exclusive && state.shared === 0) this.locks.delete(key);
      }
    };
  }

  // --- tag changes -------------------------------------------------------------------------

  get sequence(): number {
    return this.seq;
  }

  beginTagChange(tag: string): void {
    this.tagSeq.set(tag, ++this.seq);
    this.changing.add(tag);
  }

  endTagChange(tag: string): void {
    this.tagSeq.set(tag, ++this.seq);
    this.changing.delete(tag);
  }

  /** After an unexpected answer: what the server did to the tag is unknown. */
  forgetTag(tag: string): void {
    this.unknown.add(tag);
    this.tags.delete(tag);
  }

  /** Whether the soak ever made this tag. */
  knows(tag: string): boolean {
    return this.tagSeq.has(tag);
  }

  /** Nobody changed `tag` since the sequence number `since` was read, and nobody is changing it. */
  stableSince(tag: string, since: number): boolean {
    const last = this.tagSeq.get(tag);
    return last !== undefined && last <= since && !this.changing.has(tag) && !this.unknown.has(tag);
  }

  /** Tags other than the pinned one that pushes may move or delete. */
  movableTags(): string[] {
    return [...this.tags.keys()].filter((t) => t !== PINNED_TAG);
  }

  tagsPointingAt(digest: string): string[] {
    return [...this.tags].filter(([, d]) => d === digest).map(([t]) => t);
  }

  // --- manifests ---------------------------------------------------------------------------

  /** An acknowledged PUT of `image` sent at `sentMs` (tagged or not). */
  recordPut(image: ImageSpec, sentMs: number): void {
    this.images.set(image.digest, image);
    this.lastPutMs.set(image.digest, Math.max(sentMs, this.lastPutMs.get(image.digest) ?? 0));
    this.trimUntagged();
  }

  isTagged(digest: string): boolean {
    for (const d of this.tags.values()) if (d === digest) return true;
    return false;
  }

  untaggedDigests(): string[] {
    return [...this.images.keys()].filter((d) => !this.isTagged(d));
  }

  /**
   * Whether a manifest last put at `putMs` (read before the request was sent) must still be
   * in the repository, with every blob it names, at `nowMs`: GC takes an untagged manifest
   * only once it is older than `graceMs` (gcDelay less a margin), and a tagged one never (the
   * caller knows that from its locks).
   */
  static young(putMs: number | undefined, nowMs: number, graceMs: number): boolean {
    return putMs !== undefined && nowMs - putMs < graceMs;
  }

  /** The manifest is gone (deleted by digest, or its state became unknown). */
  dropManifest(digest: string): void {
    this.images.delete(digest);
    this.lastPutMs.delete(digest);
  }

  private trimUntagged(): void {
    const untagged = this.untaggedDigests();
    if (untagged.length <= MAX_UNTAGGED) return;
    const locked = (d: string) => this.locks.has(`digest:${d}`);
    untagged
      .filter((d) => !locked(d))
      .sort((a, b) => this.lastPutMs.get(a)! - this.lastPutMs.get(b)!)
      .slice(0, untagged.length - MAX_UNTAGGED)
      .forEach((d) => this.dropManifest(d));
  }
}

/**
 * Checks a tag listing read between sequence number `since` and now. Returns what is wrong
 * (empty when it is right).
 */
export function tagListProblems(repo: RepoModel, listed: readonly string[], since: number): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const tag of listed) {
    if (seen.has(tag)) problems.push(`${repo.name}: tag ${tag} listed twice`);
    seen.add(tag);
    if (!repo.knows(tag)) problems.push(`${repo.name}: tag ${tag} listed, but the soak never pushed it`);
    else if (repo.stableSince(tag, since) && !repo.tags.has(tag)) problems.push(`${repo.name}: tag ${tag} listed, but it was deleted or never acknowledged`);
  }
  for (const tag of repo.tags.keys()) {
    if (repo.stableSince(tag, since) && !seen.has(tag)) problems.push(`${repo.name}: tag ${tag} (-> ${repo.tags.get(tag)}) is missing from the list`);
  }
  return problems;
}
