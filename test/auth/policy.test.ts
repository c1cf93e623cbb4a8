/**
 * zot's access-control semantics (pkg/api/authz.go): longest matching key, user and group
 * policies, defaultPolicy for logged-in users only, anonymousPolicy for anonymous callers
 * only, adminPolicy everywhere; and the defaults without access control.
 */
import { describe, expect, it } from 'vitest';
import { AccessPolicy } from '../../registry-image/src/auth/policy';
import type { AccessControlConfig, PolicyAction } from '../../registry-image/src/config/types';

const AC: AccessControlConfig = {
  groups: { devs: { users: ['dana', 'eve'] }, ops: { users: ['olga'] } },
  repositories: {
    '**': { policies: [], defaultPolicy: ['read'], anonymousPolicy: [] },
    'team/**': {
      policies: [
        { users: ['alice'], groups: [], actions: ['read', 'create'] },
        { users: [], groups: ['devs'], actions: ['read', 'create', 'update'] },
      ],
      defaultPolicy: [],
      anonymousPolicy: [],
    },
    'team/public': { policies: [], defaultPolicy: ['read'], anonymousPolicy: ['read'] },
    'team/*/cache': { policies: [{ users: ['alice'], groups: [], actions: ['delete'] }], defaultPolicy: [], anonymousPolicy: [] },
  },
  adminPolicy: { users: ['root'], groups: ['ops'], actions: ['read', 'delete'] },
};

const policy = new AccessPolicy(AC, true);

describe('AccessPolicy with http.accessControl', () => {
  it.each<[string | null, string, PolicyAction, boolean, string]>([
    ['alice', 'team/app', 'create', true, 'user policy'],
    ['alice', 'team/app', 'update', false, 'user policy without update'],
    ['dana', 'team/app', 'update', true, 'group policy'],
    ['bob', 'team/app', 'read', false, 'the longer key team/** wins over ** (no defaultPolicy there)'],
    ['bob', 'other/app', 'read', true, 'defaultPolicy of **'],
    [null, 'other/app', 'read', false, 'defaultPolicy is not for anonymous callers'],
    [null, 'team/public', 'read', true, 'anonymousPolicy'],
    ['bob', 'team/public', 'read', true, 'defaultPolicy beside anonymousPolicy'],
    ['alice', 'team/public', 'create', false, 'the exact key wins over team/**'],
    ['alice', 'team/x/cache', 'delete', true, 'team/*/cache is longer than team/**'],
    ['alice', 'team/x/cache', 'read', false, '...and replaces it entirely'],
    ['root', 'team/app', 'delete', true, 'adminPolicy user, on every repository'],
    ['root', 'team/app', 'create', false, 'adminPolicy only grants its actions'],
    ['olga', 'anything/at/all', 'delete', true, 'adminPolicy group'],
  ])('%s on %s %s -> %s (%s)', (user, repo, action, expected) => {
    expect(policy.can(user, policy.groupsOf(user), repo, action)).toBe(expected);
  });

  it('finds groups by membership', () => {
    expect(policy.groupsOf('eve')).toEqual(['devs']);
    expect(policy.groupsOf('nobody')).toEqual([]);
    expect(policy.groupsOf(null)).toEqual([]);
  });

  it('knows whether anonymous access exists and whether logging in adds anything', () => {
    expect(policy.anonymousPossible()).toBe(true);
    expect(policy.loginUseful()).toBe(true);
    const anonymousOnly = new AccessPolicy(
      { groups: {}, repositories: { '**': { policies: [], defaultPolicy: [], anonymousPolicy: ['read'] } }, adminPolicy: { users: [], groups: [], actions: [] } },
      true,
    );
    expect(anonymousOnly.loginUseful()).toBe(false);
    const noAnonymous = new AccessPolicy({ ...AC, repositories: { '**': AC.repositories['**'] } }, true);
    expect(noAnonymous.anonymousPossible()).toBe(false);
  });

  it('allows a repository that no key matches to admins only', () => {
    const narrow = new AccessPolicy({ ...AC, repositories: { 'team/**': AC.repositories['team/**'] } }, true);
    expect(narrow.can('bob', [], 'other/app', 'read')).toBe(false);
    expect(narrow.can('root', [], 'other/app', 'read')).toBe(true);
  });
});

describe('AccessPolicy without http.accessControl', () => {
  it('with a login: logged-in users may do everything, anonymous callers nothing', () => {
    const p = new AccessPolicy(undefined, true);
    expect(p.can('anyone', [], 'a/b', 'delete')).toBe(true);
    expect(p.can(null, [], 'a/b', 'read')).toBe(false);
    expect(p.anonymousPossible()).toBe(false);
  });

  it('without a login: everyone may do everything', () => {
    const p = new AccessPolicy(undefined, false);
    expect(p.can(null, [], 'a/b', 'delete')).toBe(true);
    expect(p.anonymousPossible()).toBe(true);
    expect(p.loginUseful()).toBe(false);
  });
});
