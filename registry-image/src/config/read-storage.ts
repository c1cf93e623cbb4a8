/**
 * `storage`: where and how perch keeps content, with zot's defaults and zot's rules for how
 * gc, gcDelay, gcInterval and retention.delay depend on each other (root.go applyDefaultValues).
 */
import { resolve } from 'node:path';
import { DEFAULTS } from './defaults';
import { repositoryGlobProblem } from '../oci/repository-glob';
import { readStorageDriver } from './read-storage-driver';
import type { Section } from './section';
import type { PerchConfig, RetentionKeepRules, RetentionPolicy } from './types';

type Storage = PerchConfig['storage'];

export function readStorage(s: Section, cwd: string): Storage {
  const rootDirectory = s.string('rootDirectory', DEFAULTS.rootDirectory);
  if (rootDirectory.trim() === '') s.problem('rootDirectory', 'is empty; give the directory perch stores content in, e.g. "/var/lib/registry"');

  const gc = s.bool('gc', true);
  // zot: with gc off, a delay or interval the file does not give is 0, not the default.
  const gcDelayMs = s.duration('gcDelay') ?? (gc ? DEFAULTS.gcDelayMs : 0);
  const gcIntervalMs = s.duration('gcInterval') ?? (gc ? DEFAULTS.gcIntervalMs : 0);

  const storage: Storage = {
    rootDirectory: resolve(cwd, rootDirectory),
    commit: s.bool('commit', false),
    dedupe: s.bool('dedupe', true),
    gc,
    gcDelayMs,
    gcIntervalMs,
    maxRepos: s.integer('maxRepos', 0),
    redirectBlobURL: s.bool('redirectBlobURL', false),
  };
  const driver = readStorageDriver(s.section('storageDriver'));
  if (driver) storage.driver = driver;
  if (storage.redirectBlobURL && !driver) s.problem('redirectBlobURL', 'needs an object store: set storage.storageDriver (s3, gcs or azure), or remove redirectBlobURL');
  if (s.has('retention')) storage.retention = readRetention(s.section('retention'), gc, gcDelayMs);
  return storage;
}

function readRetention(s: Section, gc: boolean, gcDelayMs: number): NonNullable<Storage['retention']> {
  return {
    dryRun: s.bool('dryRun', false),
    // zot: retention.delay defaults to gcDelay when gc is on, else to 0. In milliseconds.
    delay: s.duration('delay') ?? (gc ? gcDelayMs : 0),
    policies: s.list('policies').map(readPolicy),
  };
}

function readPolicy(s: Section): RetentionPolicy {
  const repositories = s.strings('repositories') ?? [];
  for (const pattern of repositories) {
    const problem = repositoryGlobProblem(pattern);
    if (problem) s.problem('repositories', `the pattern ${JSON.stringify(pattern)} ${problem}`);
  }
  const policy: RetentionPolicy = {
    repositories,
    deleteReferrers: s.bool('deleteReferrers', false),
    // zot sets deleteUntagged to true when a policy does not say.
    deleteUntagged: s.bool('deleteUntagged', true),
    keepTags: s.list('keepTags').map((rule) => ({ patterns: readTagPatterns(rule), ...readKeepRules(rule) })),
  };
  const keepUntagged = s.section('keepUntagged');
  if (keepUntagged.exists) policy.keepUntagged = readKeepRules(keepUntagged);
  return policy;
}

/** Tag patterns are regular expressions in zot (Go RE2); perch checks them with JavaScript's, which reads the common subset alike. */
function readTagPatterns(s: Section): string[] {
  const patterns = s.strings('patterns') ?? [];
  for (const pattern of patterns) {
    try {
      new RegExp(pattern);
    } catch (err) {
      s.problem('patterns', `${JSON.stringify(pattern)} is not a valid regular expression (${(err as Error).message})`);
    }
  }
  return patterns;
}

function readKeepRules(s: Section): RetentionKeepRules {
  const rules: RetentionKeepRules = {};
  for (const key of ['mostRecentlyPushedCount', 'mostRecentlyPulledCount'] as const) {
    if (s.has(key)) rules[key] = s.integer(key, 0);
  }
  for (const [key, msKey] of [['pulledWithin', 'pulledWithinMs'], ['pushedWithin', 'pushedWithinMs']] as const) {
    const ms = s.duration(key);
    if (ms !== undefined) {
      rules[key] = s.string(key);
      rules[msKey] = ms;
    }
  }
  return rules;
}
