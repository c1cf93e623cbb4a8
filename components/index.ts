/**
 * The component's public surface, for index.ts, other Pulumi programs and other test suites.
 */
export { ZotRegistry, ZOT_REGISTRY_TYPE } from './zot-registry';
export type { ZotRegistryArgs, IngressArgs, HttpRouteArgs, GatewayParentRef, ResourceAmounts, ObjectStorageArgs } from './args';
export { ConfigError } from './config-error';
export * from './container-interface';
export { DEFAULTS, PERCH_IMAGE, DEFAULT_SEED_CHARTS } from './defaults';
export { DEFAULT_NAMES, type ResourceNames } from './names';
export { readStackConfig, type ConfigReader } from './stack-config';
export { resolveSettings, type RegistrySettings } from './settings';
export { renderZotConfig, zotConfigText, type ZotConfigJson } from './zot-config';
export { htpasswdLine, bcryptSalt } from './htpasswd';
export { registryProbes } from './probes';
export { podSecurityContext, containerSecurityContext } from './pod-security';
export { CHECKSUM_ANNOTATION, STORAGE_CREDENTIALS_CHECKSUM_ANNOTATION } from './registry-pod';
export { OBJECT_STORAGE_KEYS } from './object-storage-keys';
export { storageDriverJson, type ObjectStorage, type StorageDriverJson } from './object-storage';
export { API_KEYS_KEY, IDENTITY_KEYS, LDAP_KEYS, OIDC_KEYS, type IdentityArgs, type LdapArgs, type OidcArgs } from './identity-keys';
export { resolveIdentity, type IdentitySettings } from './identity-settings';
export { IDENTITY_CHECKSUM_ANNOTATION, IDENTITY_CREDENTIALS_DIR, identityAuthJson, type IdentityAuthJson } from './identity-config';
