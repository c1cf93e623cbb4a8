/**
 * The registry's config.json, in zot's format (DESIGN.md "Config"). Left at defaults it uses
 * only keys zot itself knows (checked against zot v2.1.20, pkg/api/config/config.go; see
 * docs/pulumi.md "config.json"), so upstream zot's image loads the same ConfigMap. Only token
 * mode adds the `perch` section, which upstream zot would refuse as an unknown key.
 */
import { DATA_DIR, HTPASSWD_PATH, REGISTRY_PORT, TOKEN_KEY_PATH } from './container-interface';
import type { IdentityAuthJson } from './identity-config';
import type { StorageDriverJson } from './object-storage';

export type AuthMode = 'basic' | 'token';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type PolicyAction = 'read' | 'create' | 'update' | 'delete';

/** The distribution-spec version zot v2.1.20 reports (its examples say "1.1.1"). */
export const DIST_SPEC_VERSION = '1.1.1';

export interface ZotConfigOptions {
  authMode: AuthMode;
  anonymousRead: boolean;
  logLevel: LogLevel;
  /** Object storage: zot's storage.storageDriver block (components/object-storage.ts); none for the filesystem. */
  storageDriver?: StorageDriverJson;
  /** OpenID Connect, LDAP and API keys: http.auth's openid, ldap and apikey (components/identity-config.ts). */
  identity?: IdentityAuthJson;
}

/** zot's config.json as this program writes it: a subset of zot's Config struct. */
export interface ZotConfigJson {
  distSpecVersion: string;
  http: {
    address: string;
    /** zot's HTTPConfig.Port is a string. */
    port: string;
    auth: { htpasswd: { path: string } } & IdentityAuthJson;
    accessControl?: {
      repositories: Record<string, { anonymousPolicy?: PolicyAction[]; defaultPolicy?: PolicyAction[] }>;
    };
  };
  /** With a storageDriver, rootDirectory is only the registry's local scratch folder. */
  storage: { rootDirectory: string; storageDriver?: StorageDriverJson };
  log: { level: LogLevel };
  perch?: { auth: { challenge: 'bearer'; tokenKeyFile: string } };
}

const ALL_ACTIONS: PolicyAction[] = ['read', 'create', 'update', 'delete'];

export function renderZotConfig(options: ZotConfigOptions): ZotConfigJson {
  const config: ZotConfigJson = {
    distSpecVersion: DIST_SPEC_VERSION,
    http: {
      // Listen on every interface: the Service and the kubelet's probes reach the Pod IP.
      address: '0.0.0.0',
      port: String(REGISTRY_PORT),
      auth: { htpasswd: { path: HTPASSWD_PATH }, ...options.identity },
    },
    storage: {
      rootDirectory: DATA_DIR,
      ...(options.storageDriver !== undefined ? { storageDriver: options.storageDriver } : {}),
    },
    log: { level: options.logLevel },
  };
  if (options.anonymousRead) {
    // zot: without accessControl every authenticated user may do everything. Adding it for
    // anonymous reads would take that away, so defaultPolicy gives logged-in users all four
    // actions back; anonymousPolicy lets anyone pull. "**" matches every repository.
    config.http.accessControl = {
      repositories: { '**': { anonymousPolicy: ['read'], defaultPolicy: [...ALL_ACTIONS] } },
    };
  }
  if (options.authMode === 'token') {
    // perch's own section: Bearer challenges and tokens signed with the key projected beside
    // the htpasswd file (DESIGN.md "Token service").
    config.perch = { auth: { challenge: 'bearer', tokenKeyFile: TOKEN_KEY_PATH } };
  }
  return config;
}

/** The ConfigMap's config.json text: stable key order and formatting, so no spurious diffs. */
export function zotConfigText(options: ZotConfigOptions): string {
  return `${JSON.stringify(renderZotConfig(options), null, 2)}\n`;
}
