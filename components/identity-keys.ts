/**
 * Signing in with OpenID Connect or LDAP: the ZotRegistryArgs fields (IdentityArgs), the stack
 * config key of each, and how the stack config is read into them. The one table both
 * components/stack-config.ts (which keys to read) and components/identity-settings.ts (the key
 * an error names) go by, as components/object-storage-keys.ts is for the bucket.
 *
 * OpenID Connect keys start with `oidc`, LDAP keys with `ldap`. The two secrets
 * (oidcClientSecret, ldapBindPassword) must be set with `pulumi config set --secret`: one set in
 * plain text would sit readable in Pulumi.<stack>.yaml, so the program refuses it (naming the
 * key, never the value) instead of quietly wrapping it as a secret afterwards.
 */
import * as pulumi from '@pulumi/pulumi';
import { ConfigError } from './config-error';

export interface OidcArgs {
  /** The provider's issuer URL, https://... (its /.well-known/openid-configuration is read). */
  issuer?: string;
  clientId?: string;
  /** A secret: reaches the registry only through the identity Secret's credentials file. */
  clientSecret?: pulumi.Input<string>;
  /** Default openid, profile, email; must include openid. */
  scopes?: readonly string[];
  /** The claim that becomes the user name (default email). */
  usernameClaim?: string;
  /** The claim that lists the user's groups (default groups). */
  groupsClaim?: string;
  /** Shown on the sign-in button; the registry's own default when unset. */
  providerName?: string;
  /** Accept an http:// issuer (a test provider inside the cluster); default false. */
  allowHttpIssuer?: boolean;
}

export interface LdapArgs {
  /** Host name or IP of the directory server, without ldap:// or a port. */
  address?: string;
  /** Default 636 (LDAPS), or 389 with startTLS. */
  port?: number;
  /** Connect in plain LDAP and upgrade with StartTLS instead of LDAPS (default false). */
  startTLS?: boolean;
  /** Where users are searched (the whole subtree), e.g. ou=Users,dc=example,dc=org. */
  baseDN?: string;
  /** The attribute holding the login name (default uid). */
  userAttribute?: string;
  /** The user entry's attribute listing its groups, e.g. memberOf; unset: no LDAP groups. */
  userGroupAttribute?: string;
  /** An extra filter ANDed into the user search, e.g. (!(nsaccountlock=TRUE)). */
  userFilter?: string;
  /** The account the registry searches with; unset: an anonymous search. */
  bindDN?: string;
  /** A secret: reaches the registry only through the identity Secret's credentials file. */
  bindPassword?: pulumi.Input<string>;
  /** Do not verify the server's TLS certificate (default false). */
  skipVerify?: boolean;
}

export interface IdentityArgs {
  /** Sign in through an OpenID Connect provider (zot http.auth.openid.providers.oidc). */
  oidc?: OidcArgs;
  /** Check Basic logins against an LDAP directory (zot http.auth.ldap). */
  ldap?: LdapArgs;
  /** Let signed-in users create API keys that work as passwords (zot http.auth.apikey). */
  apiKeys?: boolean;
}

export type IdentityKeyType = 'string' | 'boolean' | 'integer' | 'array' | 'secret';

export interface IdentityKey {
  key: string;
  type: IdentityKeyType;
}

export const OIDC_KEYS = {
  issuer: { key: 'oidcIssuer', type: 'string' },
  clientId: { key: 'oidcClientId', type: 'string' },
  clientSecret: { key: 'oidcClientSecret', type: 'secret' },
  scopes: { key: 'oidcScopes', type: 'array' },
  usernameClaim: { key: 'oidcUsernameClaim', type: 'string' },
  groupsClaim: { key: 'oidcGroupsClaim', type: 'string' },
  providerName: { key: 'oidcProviderName', type: 'string' },
  allowHttpIssuer: { key: 'oidcAllowHttpIssuer', type: 'boolean' },
} as const satisfies Record<keyof Required<OidcArgs>, IdentityKey>;

export const LDAP_KEYS = {
  address: { key: 'ldapAddress', type: 'string' },
  port: { key: 'ldapPort', type: 'integer' },
  startTLS: { key: 'ldapStartTLS', type: 'boolean' },
  baseDN: { key: 'ldapBaseDN', type: 'string' },
  userAttribute: { key: 'ldapUserAttribute', type: 'string' },
  userGroupAttribute: { key: 'ldapUserGroupAttribute', type: 'string' },
  userFilter: { key: 'ldapUserFilter', type: 'string' },
  bindDN: { key: 'ldapBindDN', type: 'string' },
  bindPassword: { key: 'ldapBindPassword', type: 'secret' },
  skipVerify: { key: 'ldapSkipVerify', type: 'boolean' },
} as const satisfies Record<keyof Required<LdapArgs>, IdentityKey>;

export const API_KEYS_KEY = { key: 'apiKeys', type: 'boolean' } as const satisfies IdentityKey;

/** Every identity key, for Pulumi.yaml checks and the docs. */
export const IDENTITY_KEYS: readonly IdentityKey[] = [...Object.values(OIDC_KEYS), ...Object.values(LDAP_KEYS), API_KEYS_KEY];

/** stack-config.ts's own readers, handed in so every key is parsed (and its errors worded) the same way. */
export interface KeyReaders {
  text(key: string): string | undefined;
  bool(key: string): boolean | undefined;
  int(key: string): number | undefined;
  list(key: string): string[] | undefined;
  /** The value as a secret Output, or undefined when the key is unset. */
  secret(key: string): pulumi.Output<string> | undefined;
}

/**
 * Was `key` set with `--secret`? The CLI hands the program the names of its secret keys
 * (PULUMI_CONFIG_SECRET_KEYS); the SDK reads them in runtime.isConfigSecret, which it exports
 * but does not declare. test/pulumi/identity.test.ts checks that it is still there.
 */
export function configKeyIsSecret(key: string): boolean {
  const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret?: (fullKey: string) => boolean }).isConfigSecret;
  if (isConfigSecret === undefined) {
    throw new Error('@pulumi/pulumi no longer exports runtime.isConfigSecret; components/identity-keys.ts needs another way to tell secret config');
  }
  return isConfigSecret(`${pulumi.getProject()}:${key}`);
}

function readOne(read: KeyReaders, { key, type }: IdentityKey, isSecret: (key: string) => boolean): unknown {
  switch (type) {
    case 'string':
      return read.text(key);
    case 'boolean':
      return read.bool(key);
    case 'integer':
      return read.int(key);
    case 'array':
      return read.list(key);
    case 'secret': {
      const value = read.secret(key);
      if (value !== undefined && !isSecret(key)) {
        throw new ConfigError(
          key,
          `is stored in plain text in the stack's config file; set it encrypted: pulumi config set --secret ${key} <value> ` +
            '(or pipe it in: ... | pulumi config set --secret ' + key + ')',
        );
      }
      return value;
    }
  }
}

function readGroup<T>(read: KeyReaders, table: Record<string, IdentityKey>, isSecret: (key: string) => boolean): T {
  const args: Record<string, unknown> = {};
  // Every key is read, set or not, so the set of keys the program reads is fixed.
  for (const [field, key] of Object.entries(table)) {
    const value = readOne(read, key, isSecret);
    if (value !== undefined) args[field] = value;
  }
  return args as T;
}

/** The identity keys of the stack config as IdentityArgs; only keys that are set become fields. */
export function readIdentityKeys(read: KeyReaders, isSecret: (key: string) => boolean = configKeyIsSecret): IdentityArgs {
  const oidc = readGroup<OidcArgs>(read, OIDC_KEYS, isSecret);
  const ldap = readGroup<LdapArgs>(read, LDAP_KEYS, isSecret);
  const apiKeys = read.bool(API_KEYS_KEY.key);
  return {
    ...(Object.keys(oidc).length > 0 ? { oidc } : {}),
    ...(Object.keys(ldap).length > 0 ? { ldap } : {}),
    ...(apiKeys !== undefined ? { apiKeys } : {}),
  };
}
