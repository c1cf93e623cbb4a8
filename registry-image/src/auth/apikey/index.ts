/**
 * API keys (zot's http.auth.apikey): the store (api-key-store.ts, persisted by
 * api-key-file.ts), the login method (api-key-authenticator.ts) and the routes
 * (api-key-routes.ts). `openApiKeys` builds all three from the config.
 *
 * Object storage (storage.driver set) is not supported yet: the keys live in a file under
 * storage.rootDirectory, which replicas on a bucket do not share. With such a config API keys
 * stay off and the routes say so.
 */
import type { PerchConfig } from '../../config/types';
import type { Route } from '../../http/routes';
import type { Logger } from '../../log';
import { apiKeyFilePath } from './api-key-file';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { apiKeyRoutes, apiKeysOffRoutes } from './api-key-routes';
import { ApiKeyStore } from './api-key-store';

export { ApiKeyAuthenticator } from './api-key-authenticator';
export { API_KEY_PREFIX, ApiKeyStore, hashApiKey } from './api-key-store';
export { apiKeyFilePath } from './api-key-file';
export { API_KEY_PATH, apiKeyRoutes, apiKeysOffRoutes } from './api-key-routes';

export interface ApiKeys {
  /** Present when keys are on and can be stored. */
  authenticator?: ApiKeyAuthenticator;
  store?: ApiKeyStore;
  routes: Route[];
}

export async function openApiKeys(config: PerchConfig, log: Logger, now: () => number = Date.now): Promise<ApiKeys> {
  if (!config.http.auth?.apikey) {
    return { routes: apiKeysOffRoutes('API keys are off: set "http": {"auth": {"apikey": true}} in the registry config to turn them on') };
  }
  if (config.storage.driver) {
    const why = 'API keys need filesystem storage for now: with storage.storageDriver (object storage) perch has nowhere all replicas share to keep them';
    log.warn('API keys are off', { reason: why });
    return { routes: apiKeysOffRoutes(why) };
  }
  const store = await ApiKeyStore.open(apiKeyFilePath(config.storage.rootDirectory), log, now);
  return { authenticator: new ApiKeyAuthenticator(store), store, routes: apiKeyRoutes(store, now) };
}
