/**
 * `http.accessControl`, zot's shape: groups of users, repository globs with per-user/per-group
 * policies, a default policy for any logged-in user, an anonymous policy, an admin policy for all
 * repositories, and who may read metrics.
 *
 * viper lowercases every key, so in zot repository patterns and group names are lowercase
 * whatever the file says. perch lowercases them too, and lowercases group names where policies
 * refer to them, so `"groups": ["Admins"]` finds the group `Admins` (zot would miss it).
 */
import { repositoryGlobProblem } from '../oci/repository-glob';
import type { Section } from './section';
import type { AccessControlConfig, Policy, PolicyAction, RepositoryPolicy } from './types';

const ACTIONS: readonly PolicyAction[] = ['read', 'create', 'update', 'delete'];

export function readAccessControl(s: Section): AccessControlConfig {
  const groups: AccessControlConfig['groups'] = {};
  for (const { key, section } of s.entries('groups')) {
    groups[key.toLowerCase()] = { users: section.strings('users') ?? [] };
  }

  const repositories: AccessControlConfig['repositories'] = {};
  for (const { key, section } of s.entries('repositories')) {
    const problem = repositoryGlobProblem(key);
    if (problem) section.problem(undefined, `the repository pattern ${problem}; patterns are globs such as "**", "team/*" or "tmp/**"`);
    repositories[key.toLowerCase()] = readRepositoryPolicy(section);
  }

  const config: AccessControlConfig = { groups, repositories, adminPolicy: readPolicy(s.section('adminPolicy')) };
  const metrics = s.section('metrics');
  if (metrics.exists) config.metrics = { users: metrics.strings('users') ?? [], anonymousRead: readActions(metrics, 'anonymousPolicy').includes('read') };
  return config;
}

function readRepositoryPolicy(s: Section): RepositoryPolicy {
  return {
    policies: s.list('policies').map(readPolicy),
    defaultPolicy: readActions(s, 'defaultPolicy'),
    anonymousPolicy: readActions(s, 'anonymousPolicy'),
  };
}

function readPolicy(s: Section): Policy {
  return {
    users: s.strings('users') ?? [],
    groups: (s.strings('groups') ?? []).map((g) => g.toLowerCase()),
    actions: readActions(s, 'actions'),
  };
}

function readActions(s: Section, key: string): PolicyAction[] {
  const actions: PolicyAction[] = [];
  for (const word of s.strings(key) ?? []) {
    const action = ACTIONS.find((a) => a === word.toLowerCase());
    if (action === undefined) {
      s.problem(key, `${JSON.stringify(word)} is not an action; zot's actions are ${ACTIONS.map((a) => JSON.stringify(a)).join(', ')}`);
    } else if (!actions.includes(action)) {
      actions.push(action);
    }
  }
  return actions;
}

/**
 * zot refuses access control that grants anything to named or logged-in users when no login
 * method is configured (root.go validateAuthzPolicies): such grants could never apply, and the
 * config most likely lost its auth section. Only anonymousPolicy works without a login.
 */
export function grantsToLoggedInUsers(ac: AccessControlConfig): boolean {
  const grants = (p: Policy) => p.users.length + p.actions.length > 0;
  if (grants(ac.adminPolicy)) return true;
  return Object.values(ac.repositories).some((r) => r.defaultPolicy.length > 0 || r.policies.some(grants));
}
