/**
 * zot's retention rules as planRetention applies them to one repository's inventory (pure: no
 * store, no clock). Cases follow zot's documentation of storage.retention (docs/gc.md).
 */
import { describe, expect, it } from 'vitest';
import type { PerchConfig } from '../../registry-image/src/config/types';
import type { ManifestFacts, RepositoryInventory } from '../../registry-image/src/gc/inventory';
import { planRetention, retentionRules, type RetentionRules } from '../../registry-image/src/gc/retention';

const NOW = 10_000_000;
const HOUR = 3_600_000;
const d = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

function manifest(n: number, ageMs: number, extra: Partial<ManifestFacts> = {}): ManifestFacts {
  return { digest: d(n), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 100, modifiedMs: NOW - ageMs, blobs: [], children: [], understood: true, ...extra };
}

function repo(manifests: ManifestFacts[], tags: Record<string, number> = {}): RepositoryInventory {
  return { name: 'r', manifests: new Map(manifests.map((m) => [m.digest, m])), tags: new Map(Object.entries(tags).map(([t, n]) => [t, d(n)])), links: [] };
}

const rules = (over: Partial<RetentionRules> = {}): RetentionRules => ({ deleteUntagged: true, deleteReferrers: false, keepTags: [], delayMs: HOUR, dryRun: false, policy: 0, ...over });

describe('retentionRules', () => {
  const storage = (retention?: PerchConfig['storage']['retention']): PerchConfig['storage'] => ({
    rootDirectory: '/x',
    commit: false,
    dedupe: true,
    gc: true,
    gcDelayMs: 2 * HOUR,
    gcIntervalMs: HOUR,
    maxRepos: 0,
    retention,
  });

  it('without a retention section: delete untagged after gcDelay, keep referrers and tags (zot defaults)', () => {
    expect(retentionRules(storage(), 'any/repo')).toMatchObject({ deleteUntagged: true, deleteReferrers: false, keepTags: [], delayMs: 2 * HOUR, policy: -1 });
  });

  it('the first policy with a matching repositories glob applies; retention.delay overrides gcDelay', () => {
    const s = storage({
      dryRun: false,
      delay: 5 * HOUR,
      policies: [
        { repositories: ['infra/*'], deleteUntagged: false, deleteReferrers: true, keepTags: [] },
        { repositories: ['**'], deleteUntagged: true, deleteReferrers: false, keepTags: [{ patterns: ['.*'] }] },
      ],
    });
    expect(retentionRules(s, 'infra/db')).toMatchObject({ deleteUntagged: false, deleteReferrers: true, delayMs: 5 * HOUR, policy: 0 });
    expect(retentionRules(s, 'infra/db/deeper')).toMatchObject({ deleteUntagged: true, policy: 1 });
    expect(retentionRules(s, 'app')).toMatchObject({ policy: 1 });
  });
});

describe('planRetention', () => {
  it('removes old untagged manifests only', () => {
    const plan = planRetention(repo([manifest(1, 2 * HOUR), manifest(2, 2 * HOUR), manifest(3, 10)], { v1: 1 }), rules(), NOW);
    expect(plan.rounds).toEqual([[{ digest: d(2), reason: 'untagged' }]]);
  });

  it('deleteUntagged false keeps them', () => {
    expect(planRetention(repo([manifest(2, 2 * HOUR)]), rules({ deleteUntagged: false }), NOW).rounds).toEqual([]);
  });

  it('keeps the children of a tagged index, and removes an untagged index before its children', () => {
    const tagged = planRetention(repo([manifest(1, 2 * HOUR, { children: [d(2), d(3)] }), manifest(2, 2 * HOUR), manifest(3, 2 * HOUR)], { multi: 1 }), rules(), NOW);
    expect(tagged.rounds).toEqual([]);
    const untagged = planRetention(repo([manifest(1, 2 * HOUR, { children: [d(2)] }), manifest(2, 2 * HOUR)]), rules(), NOW);
    expect(untagged.rounds).toEqual([[{ digest: d(1), reason: 'untagged' }], [{ digest: d(2), reason: 'untagged' }]]);
  });

  it('a young untagged index still protects its old children', () => {
    const plan = planRetention(repo([manifest(1, 10, { children: [d(2)] }), manifest(2, 2 * HOUR)]), rules(), NOW);
    expect(plan.rounds).toEqual([]);
  });

  it('referrers stay while their subject does; deleteReferrers removes them once it is gone', () => {
    const manifests = [manifest(1, 2 * HOUR), manifest(2, 2 * HOUR, { subject: d(1) }), manifest(3, 2 * HOUR, { subject: d(9) })];
    expect(planRetention(repo(manifests, { v: 1 }), rules({ deleteReferrers: true }), NOW).rounds).toEqual([[{ digest: d(3), reason: 'referrer without subject' }]]);
    expect(planRetention(repo(manifests), rules({ deleteReferrers: true }), NOW).rounds).toEqual([
      [
        { digest: d(1), reason: 'untagged' },
        { digest: d(3), reason: 'referrer without subject' },
      ],
      [{ digest: d(2), reason: 'referrer without subject' }],
    ]);
    // Without deleteReferrers a referrer is never removed, even when its subject is.
    expect(planRetention(repo(manifests), rules(), NOW).rounds).toEqual([[{ digest: d(1), reason: 'untagged' }]]);
  });

  it('never removes a manifest it could not read', () => {
    expect(planRetention(repo([manifest(1, 2 * HOUR, { understood: false })]), rules(), NOW).rounds).toEqual([]);
  });

  it('keepTags: a tag no entry matches goes, and its manifest with it', () => {
    const plan = planRetention(repo([manifest(1, 2 * HOUR), manifest(2, 2 * HOUR)], { 'v1.0': 1, latest: 2 }), rules({ keepTags: [{ patterns: ['^v'] }] }), NOW);
    expect(plan.tags).toEqual([{ tag: 'latest', digest: d(2) }]);
    expect(plan.rounds).toEqual([[{ digest: d(2), reason: 'untagged' }]]);
  });

  it('keepTags patterns are unanchored regular expressions, and no patterns matches every tag (zot)', () => {
    const inv = repo([manifest(1, 0)], { 'x-prod': 1, prod1: 1, dev: 1 });
    expect(planRetention(inv, rules({ keepTags: [{ patterns: ['prod'] }] }), NOW).tags.map((t) => t.tag)).toEqual(['dev']);
    expect(planRetention(inv, rules({ keepTags: [{ patterns: [] }] }), NOW).tags).toEqual([]);
  });

  it('keepTags push rules: pushedWithin or among the N most recently pushed', () => {
    const inv = repo([manifest(1, 1 * HOUR), manifest(2, 3 * HOUR), manifest(3, 5 * HOUR), manifest(4, 7 * HOUR)], { a: 1, b: 2, c: 3, d: 4 });
    const within = planRetention(inv, rules({ keepTags: [{ patterns: ['.*'], pushedWithin: '4h', pushedWithinMs: 4 * HOUR }] }), NOW);
    expect(within.tags.map((t) => t.tag)).toEqual(['c', 'd']);
    const newest = planRetention(inv, rules({ keepTags: [{ patterns: ['.*'], mostRecentlyPushedCount: 1 }] }), NOW);
    expect(newest.tags.map((t) => t.tag)).toEqual(['b', 'c', 'd']);
    const either = planRetention(inv, rules({ keepTags: [{ patterns: ['.*'], mostRecentlyPushedCount: 1, pushedWithin: '6h', pushedWithinMs: 6 * HOUR }] }), NOW);
    expect(either.tags.map((t) => t.tag)).toEqual(['d']);
  });

  it('keepTags pull rules keep every tag they cover: perch keeps no pull records', () => {
    const inv = repo([manifest(1, 9 * HOUR)], { a: 1, b: 1 });
    expect(planRetention(inv, rules({ keepTags: [{ patterns: ['a'], pulledWithin: '1h', pulledWithinMs: HOUR }] }), NOW).tags.map((t) => t.tag)).toEqual(['b']);
  });

  it('keepUntagged keeps the most recently pushed untagged manifests', () => {
    const inv = repo([manifest(1, 2 * HOUR), manifest(2, 3 * HOUR), manifest(3, 4 * HOUR)]);
    const plan = planRetention(inv, rules({ keepUntagged: { mostRecentlyPushedCount: 2 } }), NOW);
    expect(plan.rounds).toEqual([[{ digest: d(3), reason: 'untagged' }]]);
  });
});
