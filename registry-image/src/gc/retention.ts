/**
 * zot's `storage.retention`: which tags and manifests of one repository a collection removes.
 * Pure functions over an inventory, so a dry run and a real run decide alike.
 *
 * As zot (pkg/retention/retention.go, pkg/storage/gc/gc.go):
 * - A repository follows the first policy one of whose `repositories` globs matches it. With no
 *   matching policy (or no retention section) untagged manifests are deleted, referrers kept and
 *   every tag kept: zot's defaults when gc is on.
 * - `keepTags`: when a policy lists any, a tag is kept only if one entry's `patterns` (regular
 *   expressions, unanchored; none means every tag) match it and, when the entry has rules
 *   (mostRecentlyPushedCount, pushedWithin, mostRecentlyPulledCount, pulledWithin), one rule
 *   holds. The first entry whose patterns match a tag decides for it.
 * - `deleteUntagged`: an untagged manifest older than `retention.delay` is removed, unless it is
 *   a child of an index still in the repository or it has a subject (referrers are kept while
 *   their subject is).
 * - `deleteReferrers`: an untagged manifest older than the delay whose subject is not in the
 *   repository is removed.
 * - Removing one manifest can orphan others (an untagged index's children, referrers of a
 *   removed subject), so the rules are applied again until a pass removes nothing; each pass
 *   is a "round", and the collector removes round by round.
 *
 * Where perch differs (docs/gc.md): perch keeps no pull records, so a `keepTags` entry or a
 * `keepUntagged` block with a pulled rule keeps everything it covers; "pushed" means the
 * manifest blob's mtime, which a re-push or a reference check refreshes, so it can only make
 * something look more recent. Tagged manifests are never removed as referrers.
 */
import { globMatch } from '../oci/repository-glob';
import type { PerchConfig, RetentionKeepRules, RetentionPolicy } from '../config/types';
import type { ManifestFacts, RepositoryInventory } from './inventory';

export interface RetentionRules {
  deleteUntagged: boolean;
  deleteReferrers: boolean;
  keepTags: RetentionPolicy['keepTags'];
  keepUntagged?: RetentionKeepRules;
  /** Untagged manifests and referrers younger than this are kept (zot: retention.delay). */
  delayMs: number;
  /** storage.retention.dryRun: plan and report, remove nothing. */
  dryRun: boolean;
  /** The policy's index in storage.retention.policies, for reports; -1 for the defaults. */
  policy: number;
}

export function retentionRules(storage: PerchConfig['storage'], repository: string): RetentionRules {
  const retention = storage.retention;
  const delayMs = retention?.delay ?? storage.gcDelayMs;
  const dryRun = retention?.dryRun ?? false;
  const index = retention?.policies.findIndex((p) => p.repositories.some((glob) => globMatch(glob, repository))) ?? -1;
  if (index < 0) return { deleteUntagged: true, deleteReferrers: false, keepTags: [], delayMs, dryRun, policy: -1 };
  const policy = retention!.policies[index];
  return {
    deleteUntagged: policy.deleteUntagged,
    deleteReferrers: policy.deleteReferrers,
    keepTags: policy.keepTags,
    keepUntagged: policy.keepUntagged,
    delayMs,
    dryRun,
    policy: index,
  };
}

export type ManifestReason = 'untagged' | 'referrer without subject';

export interface RetentionPlan {
  /** Tags that no keepTags entry keeps. */
  tags: Array<{ tag: string; digest: string }>;
  /** Manifests to remove, round by round: round n+1 is only eligible once round n is gone. */
  rounds: Array<Array<{ digest: string; reason: ManifestReason }>>;
}

export function planRetention(repo: RepositoryInventory, rules: RetentionRules, nowMs: number): RetentionPlan {
  const removedTags = tagsToRemove(repo, rules, nowMs);
  const removedNames = new Set(removedTags.map((t) => t.tag));
  const tagged = new Set<string>();
  for (const [tag, digest] of repo.tags) if (!removedNames.has(tag)) tagged.add(digest);

  const present = new Map(repo.manifests);
  const cutoff = nowMs - rules.delayMs;
  const keptUntagged = untaggedKeptByRules([...present.values()].filter((m) => !tagged.has(m.digest)), rules.keepUntagged, nowMs);
  const rounds: RetentionPlan['rounds'] = [];
  for (;;) {
    const children = new Set<string>();
    for (const m of present.values()) for (const child of m.children) children.add(child);
    const round: RetentionPlan['rounds'][number] = [];
    for (const m of present.values()) {
      if (tagged.has(m.digest) || !m.understood || m.modifiedMs >= cutoff || keptUntagged.has(m.digest)) continue;
      if (m.subject !== undefined) {
        if (rules.deleteReferrers && !present.has(m.subject)) round.push({ digest: m.digest, reason: 'referrer without subject' });
        continue;
      }
      if (rules.deleteUntagged && !children.has(m.digest)) round.push({ digest: m.digest, reason: 'untagged' });
    }
    if (round.length === 0) break;
    for (const r of round) present.delete(r.digest);
    rounds.push(round);
  }
  return { tags: removedTags, rounds };
}

function tagsToRemove(repo: RepositoryInventory, rules: RetentionRules, nowMs: number): RetentionPlan['tags'] {
  if (rules.keepTags.length === 0) return [];
  const pushedMs = (digest: string) => repo.manifests.get(digest)?.modifiedMs ?? nowMs;
  // Group tags by the first entry whose patterns match; a tag no entry matches is removed.
  const groups = new Map<number, Array<{ tag: string; digest: string }>>();
  const remove: RetentionPlan['tags'] = [];
  for (const [tag, digest] of [...repo.tags].sort(([a], [b]) => a.localeCompare(b))) {
    const entry = rules.keepTags.findIndex((k) => matchesAny(tag, k.patterns));
    if (entry < 0) remove.push({ tag, digest });
    else groups.set(entry, [...(groups.get(entry) ?? []), { tag, digest }]);
  }
  for (const [entry, candidates] of groups) {
    const kept = keptByRules(candidates.map((c) => ({ key: c.tag, pushedMs: pushedMs(c.digest) })), rules.keepTags[entry], nowMs);
    for (const c of candidates) if (!kept.has(c.tag)) remove.push(c);
  }
  return remove;
}

/** Unanchored, as Go's regexp.MatchString; no patterns matches every tag (zot's MatchesListOfRegex). */
function matchesAny(tag: string, patterns: string[]): boolean {
  return patterns.length === 0 || patterns.some((p) => new RegExp(p).test(tag));
}

function untaggedKeptByRules(untagged: ManifestFacts[], rules: RetentionKeepRules | undefined, nowMs: number): Set<string> {
  if (!rules) return new Set();
  return keptByRules(untagged.map((m) => ({ key: m.digest, pushedMs: m.modifiedMs })), rules, nowMs);
}

/**
 * Which candidates one rule set keeps (zot: pattern AND any rule; no rule keeps all). Pull
 * rules cannot be judged without pull records, so they keep every candidate.
 */
function keptByRules(candidates: Array<{ key: string; pushedMs: number }>, rules: RetentionKeepRules, nowMs: number): Set<string> {
  const all = new Set(candidates.map((c) => c.key));
  const hasPushRule = rules.mostRecentlyPushedCount !== undefined || rules.pushedWithinMs !== undefined;
  const hasPullRule = rules.mostRecentlyPulledCount !== undefined || rules.pulledWithinMs !== undefined;
  if (hasPullRule || !hasPushRule) return all;
  const kept = new Set<string>();
  if (rules.pushedWithinMs !== undefined) for (const c of candidates) if (nowMs - c.pushedMs <= rules.pushedWithinMs) kept.add(c.key);
  if (rules.mostRecentlyPushedCount !== undefined) {
    const newestFirst = [...candidates].sort((a, b) => b.pushedMs - a.pushedMs || a.key.localeCompare(b.key));
    for (const c of newestFirst.slice(0, rules.mostRecentlyPushedCount)) kept.add(c.key);
  }
  return kept;
}
