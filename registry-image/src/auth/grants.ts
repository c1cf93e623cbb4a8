/**
 * What a token may carry: for each requested scope, exactly the actions the access policy
 * grants the caller, and nothing that was not asked for (Docker token specification: the
 * token server "should return a token with the intersection of requested and permitted
 * access"). A requested repository the caller may do nothing with is left out.
 *
 *   pull   <- policy read
 *   push   <- policy create or update (the request decides which one when it arrives, and
 *             the policy is checked again then)
 *   delete <- policy delete
 *   *      <- all three
 * `registry:catalog:*` is granted to whoever may call the catalog at all; the listing itself is
 * filtered per repository.
 */
import type { PolicyAction } from '../config/types';
import { isRepositoryName } from '../oci/names';
import type { AccessPolicy } from './policy';
import type { Grant, ScopeRequest } from './scope';

const ORDER = ['pull', 'push', 'delete'] as const;

function allowedTokenAction(policy: AccessPolicy, user: string | null, groups: string[], repo: string, action: string): boolean {
  const can = (a: PolicyAction) => policy.can(user, groups, repo, a);
  switch (action) {
    case 'pull':
      return can('read');
    case 'push':
      return can('create') || can('update');
    case 'delete':
      return can('delete');
    default:
      return false;
  }
}

export function grantsFor(policy: AccessPolicy, user: string | null, groups: string[], scopes: ScopeRequest[]): Grant[] {
  const repos = new Map<string, Set<string>>();
  let catalog = false;
  for (const scope of scopes) {
    if (scope.type === 'registry' && scope.name === 'catalog') {
      if (scope.actions.includes('*') && (user !== null || policy.anonymousPossible())) catalog = true;
      continue;
    }
    if (scope.type !== 'repository' || !isRepositoryName(scope.name)) continue;
    const wanted = scope.actions.includes('*') ? ORDER : scope.actions;
    let granted = repos.get(scope.name);
    for (const action of wanted) {
      if (!allowedTokenAction(policy, user, groups, scope.name, action)) continue;
      granted ??= new Set();
      granted.add(action);
    }
    if (granted) repos.set(scope.name, granted);
  }
  const out: Grant[] = [];
  for (const [name, actions] of repos) out.push({ type: 'repository', name, actions: ORDER.filter((a) => actions.has(a)) });
  if (catalog) out.push({ type: 'registry', name: 'catalog', actions: ['*'] });
  return out;
}
