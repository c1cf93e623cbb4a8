/**
 * Every route of the registry in one table: health first (no credentials), then /v2.
 * Each method names its handler and the access it needs; the server authenticates the
 * caller and checks that access before the handler runs. `access`:
 *   'none'          no credentials looked at (probes, the token endpoint)
 *   'authenticated' the caller must pass authentication (the API base, the catalog)
 *   a PolicyAction  that action on the route's repository
 *   'create-or-update'
 *                   the caller must be allowed create or update on the route's repository
 *                   (refused otherwise exactly as 'create' would refuse), and the handler
 *                   decides which of the two the request needs: a manifest PUT over an
 *                   existing tag needs update, anything else create (zot, pkg/api/authz.go).
 *                   A caller with only update can then move a tag without create.
 *
 * `perch serve` adds routes that depend on its configuration and tried before these
 * (RegistryHooks.routes in http/hooks.ts): GET /health (handlers/health-report.ts) and, with
 * extensions.metrics.enable, the metrics path (metrics/route.ts).
 */
import type { PolicyAction } from '../config/types';
import * as blobs from '../handlers/blobs';
import * as health from '../handlers/health';
import * as lists from '../handlers/lists';
import * as manifests from '../handlers/manifests';
import * as uploads from '../handlers/uploads';
import type { Handler } from './context';

export type Access = 'none' | 'authenticated' | 'create-or-update' | PolicyAction;
export interface MethodRoute {
  handler: Handler;
  access: Access;
}
export interface Route {
  /** Stable name for logs and metrics, e.g. "manifest". */
  name: string;
  pattern: RegExp;
  /**
   * A literal that every path the pattern matches contains: a path without it skips the
   * pattern. The repository routes' patterns begin with a greedy `.+` (a name may hold
   * slashes), which scans the whole path before it fails; the hint is one quick search instead.
   */
  hint?: string;
  methods: Partial<Record<string, MethodRoute>>;
}

const NAME = '(?<name>.+)';

/** Marks a handler that the server itself provides (the token service). */
export const TOKEN_ROUTE = 'token';

export const ROUTES: Route[] = [
  { name: 'livez', pattern: /^\/livez$/, methods: { GET: { handler: health.livez, access: 'none' } } },
  { name: 'readyz', pattern: /^\/readyz$/, methods: { GET: { handler: health.readyz, access: 'none' } } },
  { name: 'startupz', pattern: /^\/startupz$/, methods: { GET: { handler: health.startupz, access: 'none' } } },
  { name: 'base', pattern: /^\/v2\/?$/, methods: { GET: { handler: lists.apiBase, access: 'authenticated' } } },
  { name: TOKEN_ROUTE, pattern: /^\/v2\/token$/, methods: {} /* filled by the server: it belongs to auth */ },
  { name: 'catalog', pattern: /^\/v2\/_catalog$/, methods: { GET: { handler: lists.catalog, access: 'authenticated' } } },
  {
    name: 'uploads',
    pattern: new RegExp(`^/v2/${NAME}/blobs/uploads/?$`),
    hint: '/blobs/uploads',
    methods: { POST: { handler: uploads.startUpload, access: 'create' } },
  },
  {
    name: 'upload',
    pattern: new RegExp(`^/v2/${NAME}/blobs/uploads/(?<id>[^/]+)$`),
    hint: '/blobs/uploads/',
    methods: {
      GET: { handler: uploads.uploadStatus, access: 'create' },
      PATCH: { handler: uploads.patchUpload, access: 'create' },
      PUT: { handler: uploads.finishUpload, access: 'create' },
      DELETE: { handler: uploads.cancelUpload, access: 'create' },
    },
  },
  {
    name: 'blob',
    pattern: new RegExp(`^/v2/${NAME}/blobs/(?<digest>[^/]+)$`),
    hint: '/blobs/',
    methods: { GET: { handler: blobs.getBlob, access: 'read' }, DELETE: { handler: blobs.deleteBlob, access: 'delete' } },
  },
  {
    name: 'manifest',
    pattern: new RegExp(`^/v2/${NAME}/manifests/(?<reference>[^/]+)$`),
    hint: '/manifests/',
    methods: {
      GET: { handler: manifests.getManifest, access: 'read' },
      PUT: { handler: manifests.putManifest, access: 'create-or-update' },
      DELETE: { handler: manifests.deleteManifest, access: 'delete' },
    },
  },
  { name: 'tags', pattern: new RegExp(`^/v2/${NAME}/tags/list$`), hint: '/tags/list', methods: { GET: { handler: lists.tagsList, access: 'read' } } },
  {
    name: 'referrers',
    pattern: new RegExp(`^/v2/${NAME}/referrers/(?<digest>[^/]+)$`),
    hint: '/referrers/',
    methods: { GET: { handler: lists.referrers, access: 'read' } },
  },
];

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

function matchIn(routes: readonly Route[], path: string): RouteMatch | undefined {
  for (const route of routes) {
    if (route.hint !== undefined && !path.includes(route.hint)) continue;
    const m = route.pattern.exec(path);
    if (m) return { route, params: m.groups ?? {} };
  }
  return undefined;
}

/** Matches `extra` routes first (those perch serve adds), then the table. */
export function matchRoute(path: string, extra: readonly Route[] = []): RouteMatch | undefined {
  return matchIn(extra, path) ?? matchIn(ROUTES, path);
}
