/**
 * The browse UI's routes. `perch serve` adds them in front of the registry's route table
 * (http/routes.ts); uiRoutes below is the one place that decides, from extensions.ui.enable,
 * whether they serve or answer 404 saying how to turn the UI on.
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
import { RegistryError } from '../http/errors';
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

async function uiOff(): Promise<void> {
  throw new RegistryError('NOT_FOUND', 'the browse UI is off: set "extensions": {"ui": {"enable": true}} in the registry config to turn it on');
}

/** zot serves its UI only when the ui extension is on; so does perch. Off, every UI path is a 404 that says so. */
const UI_OFF: readonly Route[] = [{ name: 'ui-off', pattern: /^\/$|^\/_ui(?:\/|$)/, methods: { GET: { handler: uiOff, access: 'none' } } }];

/** The routes `perch serve` adds for the UI. */
export function uiRoutes(config: PerchConfig): readonly Route[] {
  return config.extensions.ui?.enable ? UI_ROUTES : UI_OFF;
}
