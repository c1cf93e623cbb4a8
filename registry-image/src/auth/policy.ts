/**
 * Who may do what, with zot's semantics (pkg/api/authz.go, read for behaviour, not copied):
 *
 * - No `http.accessControl` and no login configured: everyone may do everything.
 * - No `http.accessControl`, htpasswd configured: any logged-in user may do everything, an
 *   anonymous caller nothing.
 * - With `http.accessControl`: the repository key (a glob, see glob.ts) that matches and is
 *   longest wins; in it a user is allowed an action by a policy naming the user, or one of the
 *   user's groups, or by `defaultPolicy` (any logged-in user), or, for an anonymous caller, by
 *   `anonymousPolicy`. If that denies, `adminPolicy` (users or groups) allows its actions on every
 *   repository. A repository no key matches is allowed only to admins.
 *
 * zot picks among equally long matching keys in Go map order (random); perch takes the one
 * that sorts first, so the answer never changes between requests.
 */
import { grantsToLoggedInUsers } from '../config/read-access-control';
import type { AccessControlConfig, Policy, PolicyAction, RepositoryPolicy } from '../config/types';
import { compileGlob } from '../oci/repository-glob';

interface CompiledKey {
  pattern: string;
  regex: RegExp;
  policy: RepositoryPolicy;
}

export class AccessPolicy {
  private readonly keys: CompiledKey[];

  /**
   * @param accessControl http.accessControl, if the config has one
   * @param loginConfigured whether any login method (htpasswd) is configured
   */
  constructor(
    private readonly accessControl: AccessControlConfig | undefined,
    readonly loginConfigured: boolean,
  ) {
    this.keys = Object.entries(accessControl?.repositories ?? {})
      .map(([pattern, policy]) => ({ pattern, regex: compileGlob(pattern), policy }))
      // Longest first, ties by sort order: the first key that matches is the one zot would pick.
      .sort((a, b) => b.pattern.length - a.pattern.length || (a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0));
  }

  /** zot's getUserGroups: every group whose member list names the user. */
  groupsOf(username: string | null): string[] {
    if (username === null || !this.accessControl) return [];
    return Object.entries(this.accessControl.groups)
      .filter(([, group]) => group.users.includes(username))
      .map(([name]) => name);
  }

  can(username: string | null, groups: readonly string[], repository: string, action: PolicyAction): boolean {
    const ac = this.accessControl;
    if (!ac) return this.loginConfigured ? username !== null : true;
    const key = this.keys.find((k) => k.regex.test(repository));
    if (key && permits(key.policy, username, groups, action)) return true;
    return isAdmin(ac.adminPolicy, username, groups) && ac.adminPolicy.actions.includes(action);
  }

  /** Some repository grants something to anonymous callers (zot: AnonymousPolicyExists). */
  anonymousPossible(): boolean {
    if (!this.loginConfigured) return true;
    return Object.values(this.accessControl?.repositories ?? {}).some((r) => r.anonymousPolicy.length > 0);
  }

  /**
   * Logging in can get a caller more than anonymity does. False without a login method, or
   * when access control grants only anonymousPolicy (zot: ContainsOnlyAnonymousPolicy).
   */
  loginUseful(): boolean {
    if (!this.loginConfigured) return false;
    return this.accessControl ? grantsToLoggedInUsers(this.accessControl) : true;
  }
}

function isAdmin(admin: Policy, username: string | null, groups: readonly string[]): boolean {
  if (username === null) return false;
  return admin.users.includes(username) || groups.some((g) => admin.groups.includes(g));
}

function permits(policy: RepositoryPolicy, username: string | null, groups: readonly string[], action: PolicyAction): boolean {
  for (const p of policy.policies) {
    if (!p.actions.includes(action)) continue;
    if (username !== null && p.users.includes(username)) return true;
    if (groups.some((g) => p.groups.includes(g))) return true;
  }
  if (username !== null) return policy.defaultPolicy.includes(action);
  return policy.anonymousPolicy.includes(action);
}
