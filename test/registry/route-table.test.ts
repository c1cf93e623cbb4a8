/**
 * The route table's matcher (http/routes.ts): which route and parameters a path gets,
 * including repository names that contain the words the routes are built from, and that a
 * route's `hint` (the literal that lets the matcher skip its pattern) never changes the answer.
 */
import { describe, expect, it } from 'vitest';
import { matchRoute, ROUTES, type Route } from '../../registry-image/src/http/routes';

const DIGEST = `sha256:${'a'.repeat(64)}`;

const CASES: Array<[path: string, route: string | undefined, params: Record<string, string>]> = [
  ['/v2/', 'base', {}],
  ['/v2', 'base', {}],
  ['/livez', 'livez', {}],
  ['/v2/_catalog', 'catalog', {}],
  ['/v2/token', 'token', {}],
  ['/v2/team/app/blobs/uploads/', 'uploads', { name: 'team/app' }],
  ['/v2/team/app/blobs/uploads', 'uploads', { name: 'team/app' }],
  ['/v2/team/app/blobs/uploads/0d1c-42', 'upload', { name: 'team/app', id: '0d1c-42' }],
  [`/v2/team/app/blobs/${DIGEST}`, 'blob', { name: 'team/app', digest: DIGEST }],
  ['/v2/team/app/manifests/v1', 'manifest', { name: 'team/app', reference: 'v1' }],
  ['/v2/team/app/tags/list', 'tags', { name: 'team/app' }],
  [`/v2/team/app/referrers/${DIGEST}`, 'referrers', { name: 'team/app', digest: DIGEST }],
  // Names made of the routes' own words: the last match of each literal decides.
  ['/v2/blobs/uploads/manifests/v1', 'manifest', { name: 'blobs/uploads', reference: 'v1' }],
  ['/v2/manifests/blobs/uploads/', 'uploads', { name: 'manifests' }],
  ['/v2/tags/list/tags/list', 'tags', { name: 'tags/list' }],
  [`/v2/a/referrers/x/blobs/${DIGEST}`, 'blob', { name: 'a/referrers/x', digest: DIGEST }],
  ['/v2/a/manifests/', undefined, {}],
  ['/v2/a/manifests/v1/extra', undefined, {}],
  ['/nope', undefined, {}],
];

/** The same table without hints: what every pattern alone answers. */
function matchWithoutHints(path: string): { route: string; params: Record<string, string> } | undefined {
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (m) return { route: route.name, params: { ...(m.groups ?? {}) } };
  }
  return undefined;
}

describe('route table', () => {
  it.each(CASES)('%s -> %s', (path, name, params) => {
    const match = matchRoute(path);
    expect(match?.route.name).toBe(name);
    if (name) expect({ ...match!.params }).toEqual(params);
  });

  it.each(CASES)('the hints change nothing for %s', (path) => {
    const match = matchRoute(path);
    const plain = matchWithoutHints(path);
    expect(match && { route: match.route.name, params: { ...match.params } }).toEqual(plain);
  });

  it.each(ROUTES.filter((r): r is Route & { hint: string } => r.hint !== undefined).map((r) => [r.name, r] as const))(
    "route %s: its hint is a literal of its pattern, so every path it matches contains it",
    (_name, route) => {
      expect(route.pattern.source.replace(/\\\//g, '/')).toContain(route.hint);
    },
  );

  it('tries the extra routes first', () => {
    const extra: Route[] = [{ name: 'mine', pattern: /^\/v2\/$/, methods: {} }];
    expect(matchRoute('/v2/', extra)?.route.name).toBe('mine');
    expect(matchRoute('/v2/_catalog', extra)?.route.name).toBe('catalog');
  });
});
