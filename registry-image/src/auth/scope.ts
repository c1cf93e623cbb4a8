/**
 * Token scopes (Docker token specification, "Token Scope Documentation"):
 * `repository:<name>:<action>[,<action>...]`, plus `registry:catalog:*` for listing.
 * The name may itself hold colons (a host with a port), so the type ends at the first colon
 * and the actions begin after the last one, as distribution parses it. A resource type may
 * carry a class, `repository(plugin)`, which is ignored.
 *
 * zot's policy actions map onto token actions:
 *   read -> pull      create, update -> push      delete -> delete
 * A challenge for a write asks for "pull,push", as distribution does, because a push reads too
 * (blob existence checks, cross-repository mounts).
 */
import type { PolicyAction } from '../config/types';

export type TokenAction = 'pull' | 'push' | 'delete' | '*';

export interface ScopeRequest {
  type: string;
  name: string;
  actions: string[];
}

export interface Grant {
  type: string;
  name: string;
  actions: string[];
}

export function parseScope(text: string): ScopeRequest | undefined {
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const type = text.slice(0, first).replace(/\(.*\)$/, '');
  const name = text.slice(first + 1, last);
  const actions = text
    .slice(last + 1)
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  if (!name || actions.length === 0) return undefined;
  return { type, name, actions };
}

/** Every `scope` parameter, each possibly holding several space-separated scopes (OAuth2 form). */
export function parseScopes(values: readonly string[]): ScopeRequest[] {
  const out: ScopeRequest[] = [];
  for (const value of values) {
    for (const part of value.split(' ')) {
      const scope = part ? parseScope(part) : undefined;
      if (scope) out.push(scope);
    }
  }
  return out;
}

export function tokenActionFor(action: PolicyAction): TokenAction {
  switch (action) {
    case 'read':
      return 'pull';
    case 'create':
    case 'update':
      return 'push';
    case 'delete':
      return 'delete';
  }
}

/** The scope a challenge names for `action` on `repository`. */
export function challengeScope(repository: string, action: PolicyAction): string {
  const actions = action === 'read' ? 'pull' : action === 'delete' ? 'delete' : 'pull,push';
  return `repository:${repository}:${actions}`;
}

/** Does a token's access list allow `action` on `repository`? */
export function grantsAllow(access: readonly Grant[], repository: string, action: PolicyAction): boolean {
  const wanted = tokenActionFor(action);
  return access.some((g) => g.type === 'repository' && g.name === repository && g.actions.includes(wanted));
}
