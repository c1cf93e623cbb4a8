/**
 * The browse UI's routes. `perch serve` adds them in front of the registry's route table
 * (http/routes.ts) only when extensions.ui.enable is set (uiRoutes below); each handler also
 * answers 404 without it (respond.ts requireUi).
 *
 * Access, as the table enforces it before a handler runs:
 *   /                      the page shell: no data in it, so no credentials
 *   /_ui/app.js ...        its script, styles and icon: the same
 *   /_ui/login             no data; it asks the browser for credentials (page-handlers.ts)
 *   /_ui/api/repositories  like /v2/_catalog: authenticated, then filtered by read access
 *   /_ui/api/repositories/<name>/tags/list, .../manifests/<reference>
 *                          like /v2/<name>/...: read on <name>
 * The suffixes are the OCI API's, so a repository name can never be mistaken for one (names
 * may hold "/", "tags" and "manifests").
 */
import type { PerchConfig } from '../config/types';
import type { Route } from '../http/routes';
import * as api from './api-handlers';
import * as pages from './page-handlers';

const NAME = '(?<name>.+)';

export const UI_ROUTES: readonly Route[] = [
  { name: 'ui-page', pattern: /^\/$/, methods: { GET: { handler: pages.page, access: 'none' } } },
  { name: 'ui-asset', pattern: /^\/_ui\/(?<asset>app\.js|app\.css|icon\.svg)$/, methods: { GET: { handler: pages.staticAsset, access: 'none' } } },
  { name: 'ui-login', pattern: /^\/_ui\/login$/, methods: { GET: { handler: pages.login, access: 'none' } } },
  { name: 'ui-repositories', pattern: /^\/_ui\/api\/repositories$/, methods: { GET: { handler: api.repositories, access: 'authenticated' } } },
  { name: 'ui-tags', pattern: new RegExp(`^/_ui/api/repositories/${NAME}/tags/list$`), methods: { GET: { handler: api.tags, access: 'read' } } },
  {
    name: 'ui-manifest',
    pattern: new RegExp(`^/_ui/api/repositories/${NAME}/manifests/(?<reference>[^/]+)$`),
    methods: { GET: { handler: api.manifest, access: 'read' } },
  },
];

/** The routes `perch serve` adds for the UI: all of them with extensions.ui.enable, else none. */
export function uiRoutes(config: PerchConfig): readonly Route[] {
  return config.extensions.ui?.enable ? UI_ROUTES : [];
}
