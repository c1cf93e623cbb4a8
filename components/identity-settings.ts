/**
 * resolveIdentity: IdentityArgs -> checked OpenID Connect and LDAP settings, the identity part
 * of resolveSettings (components/settings.ts). Every rule is here, each broken one a
 * ConfigError naming the stack config key (components/identity-keys.ts) and the fix:
 *
 * - A group is on once any of its keys is set; then its required keys must be set too
 *   (oidcIssuer, oidcClientId, oidcClientSecret; ldapAddress, ldapBaseDN). A boolean at its
 *   default, a port of 0 and an empty list count as unset (Pulumi.yaml fills those in).
 * - The issuer is https://, unless oidcAllowHttpIssuer says a plain-HTTP one is meant: the
 *   discovery document, the signing keys and the code exchange (with the client secret) all
 *   travel over it.
 * - ldapBindDN and ldapBindPassword go together; neither means an anonymous search.
 * - Secret values are checked once their Outputs resolve (secretProblem), and no message ever
 *   quotes one.
 */
import * as pulumi from '@pulumi/pulumi';
import { ConfigError } from './config-error';
import { LDAP_KEYS, OIDC_KEYS, type IdentityArgs, type LdapArgs, type OidcArgs } from './identity-keys';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** Secret, already checked by secretProblem. */
  clientSecret: pulumi.Output<string>;
  scopes: string[];
  usernameClaim: string;
  groupsClaim: string;
  providerName?: string;
}

export interface LdapSettings {
  address: string;
  port: number;
  startTLS: boolean;
  skipVerify: boolean;
  baseDN: string;
  userAttribute: string;
  userGroupAttribute?: string;
  userFilter?: string;
  /** The search account; absent: an anonymous search. The password is a secret, already checked. */
  bind?: { dn: string; password: pulumi.Output<string> };
}

export interface IdentitySettings {
  oidc?: OidcSettings;
  ldap?: LdapSettings;
  apiKeys: boolean;
}

/** What the registry uses when a key is left out (the same as perch's and zot's own defaults). */
export const IDENTITY_DEFAULTS = Object.freeze({
  oidcScopes: Object.freeze(['openid', 'profile', 'email']),
  oidcUsernameClaim: 'email',
  oidcGroupsClaim: 'groups',
  ldapsPort: 636,
  startTlsPort: 389,
  ldapUserAttribute: 'uid',
});

function isSet(value: unknown): boolean {
  if (value === undefined || value === '' || value === false || value === 0) return false;
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** The key of the first field set in a group, to name in "X is set but Y is not". */
function firstSet(given: object, table: Record<string, { key: string }>): string | undefined {
  const field = Object.keys(table).find((f) => isSet((given as Record<string, unknown>)[f]));
  return field === undefined ? undefined : table[field]!.key;
}

/**
 * Why a secret value cannot be used, or undefined when it can. Never quotes the value: a
 * stray line break or space from copy and paste is the usual mistake, and it would fail the
 * login with nothing in the log saying why.
 */
export function secretProblem(key: string, value: string): string | undefined {
  if (value === '') return `is empty; set it with: pulumi config set --secret ${key} <value>`;
  if (/[\r\n]/.test(value)) return `contains a line break (copied with the value?); set it again without: printf %s "$VALUE" | pulumi config set --secret ${key}`;
  if (value.trim() !== value) return `starts or ends with a space; set it again without: pulumi config set --secret ${key} <value>`;
  return undefined;
}

/** The value as a secret Output, checked once known; the check throws ConfigError naming the key. */
function checkedSecret(key: string, value: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.secret(value).apply((v) => {
    const problem = secretProblem(key, v);
    if (problem !== undefined) throw new ConfigError(key, problem);
    return v;
  });
}

/** A value that goes into config.json or a credentials file as is: no control characters, no surrounding spaces. */
function plainValue(key: string, value: string, example: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value) || value.trim() !== value) {
    throw new ConfigError(key, `"${value.replace(/[\x00-\x1f\x7f]/g, '?')}" has a line break, a control character or surrounding spaces; give it as e.g. ${example}`);
  }
  return value;
}

/** An https:// issuer URL (http:// only when allowed), without credentials, query or fragment. */
export function issuerUrl(key: string, value: string, allowHttp: boolean): string {
  const example = 'e.g. https://keycloak.example.com/realms/registry or https://accounts.google.com';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(key, `"${value}" is not a URL; give the provider's issuer URL with its scheme (${example})`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(key, 'holds a user name or password; give the issuer URL without them (the client secret goes in: pulumi config set --secret oidcClientSecret ...)');
  }
  if (url.search !== '' || url.hash !== '' || url.hostname === '') {
    throw new ConfigError(key, `"${value}" is not an issuer URL; give scheme, host and path only, as the provider's "issuer" says (${example})`);
  }
  if (url.protocol === 'http:' && !allowHttp) {
    throw new ConfigError(
      key,
      `"${value}" is plain HTTP: the client secret, the login codes and the keys that sign the ID tokens would travel unprotected; ` +
        `use the provider's https:// issuer, or for a test provider inside the cluster: pulumi config set ${OIDC_KEYS.allowHttpIssuer.key} true`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(key, `"${value}" is not an http(s) URL (${example})`);
  }
  return value;
}

/** A claim name as the ID token has it: letters, digits and _-.:/ (URIs for namespaced claims). */
function claimName(key: string, value: string): string {
  if (!/^[A-Za-z0-9_.:/-]{1,200}$/.test(value)) {
    throw new ConfigError(key, `"${value}" is not a claim name; give the ID token claim as written, e.g. email, preferred_username or groups`);
  }
  return value;
}

function resolveOidc(given: OidcArgs): OidcSettings | undefined {
  if (firstSet(given, OIDC_KEYS) === undefined) return undefined;
  const on = firstSet(given, OIDC_KEYS)!;
  const required = (value: string | undefined, key: string, what: string): string => {
    if (nonEmpty(value) === undefined) {
      throw new ConfigError(key, `is required once ${on} is set: ${what} (pulumi config set ${key} ...); or unset every oidc* key to sign in without OpenID Connect`);
    }
    return value!;
  };
  const issuer = issuerUrl(
    OIDC_KEYS.issuer.key,
    required(given.issuer, OIDC_KEYS.issuer.key, "the provider's issuer URL, e.g. https://keycloak.example.com/realms/registry"),
    given.allowHttpIssuer ?? false,
  );
  const clientId = plainValue(
    OIDC_KEYS.clientId.key,
    required(given.clientId, OIDC_KEYS.clientId.key, 'the client id the provider gave the registry'),
    'registry or 0oa1b2c3d4',
  );
  if (given.clientSecret === undefined || given.clientSecret === '') {
    throw new ConfigError(
      OIDC_KEYS.clientSecret.key,
      `is required once ${on} is set: the client secret the provider gave the registry (a confidential client); set it with: pulumi config set --secret ${OIDC_KEYS.clientSecret.key} <value>`,
    );
  }
  const scopes = given.scopes !== undefined && given.scopes.length > 0 ? [...given.scopes] : [...IDENTITY_DEFAULTS.oidcScopes];
  for (const scope of scopes) {
    if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope)) {
      throw new ConfigError(OIDC_KEYS.scopes.key, `"${scope}" is not an OAuth scope (no spaces or quotes); give one scope per item: pulumi config set --path '${OIDC_KEYS.scopes.key}[0]' openid`);
    }
  }
  if (!scopes.includes('openid')) {
    throw new ConfigError(OIDC_KEYS.scopes.key, `must include openid (the provider only returns an ID token for it); e.g. ["openid","profile","email","groups"]`);
  }
  const providerName = nonEmpty(given.providerName);
  return {
    issuer,
    clientId,
    clientSecret: checkedSecret(OIDC_KEYS.clientSecret.key, given.clientSecret),
    scopes,
    usernameClaim: claimName(OIDC_KEYS.usernameClaim.key, nonEmpty(given.usernameClaim) ?? IDENTITY_DEFAULTS.oidcUsernameClaim),
    groupsClaim: claimName(OIDC_KEYS.groupsClaim.key, nonEmpty(given.groupsClaim) ?? IDENTITY_DEFAULTS.oidcGroupsClaim),
    ...(providerName !== undefined ? { providerName: plainValue(OIDC_KEYS.providerName.key, providerName, 'Keycloak') } : {}),
  };
}

/** A host name or IP address, no scheme and no port (those are ldapStartTLS and ldapPort). */
function ldapHost(key: string, value: string): string {
  if (/^ldaps?:\/\//i.test(value)) {
    throw new ConfigError(
      key,
      `"${value}" is a URL; give the host only (e.g. ldap.example.org): ldaps:// is the default, ldap:// with StartTLS is ${LDAP_KEYS.startTLS.key} true, and the port is ${LDAP_KEYS.port.key}`,
    );
  }
  if (!/^([A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*|\[[0-9a-fA-F:.]+\])$/.test(value)) {
    throw new ConfigError(key, `"${value}" is not a host name or IP address; give e.g. ldap.example.org or 10.0.0.5, without a port (that is ${LDAP_KEYS.port.key})`);
  }
  return value;
}

/** A distinguished name, loosely: attribute=value pairs separated by commas. */
function distinguishedName(key: string, value: string, example: string): string {
  if (!/^[A-Za-z][A-Za-z0-9.-]*=[^,]+(,\s*[A-Za-z][A-Za-z0-9.-]*=[^,]+)*$/.test(value)) {
    throw new ConfigError(key, `"${value}" is not a distinguished name; write attribute=value pairs separated by commas, e.g. ${example}`);
  }
  return plainValue(key, value, example);
}

/** An LDAP filter: parenthesised and balanced, as RFC 4515 writes one. */
function ldapFilter(key: string, value: string): string {
  let depth = 0;
  for (const char of value) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (depth < 0) break;
  }
  if (!value.startsWith('(') || !value.endsWith(')') || depth !== 0) {
    throw new ConfigError(key, `"${value}" is not an LDAP filter; write it in balanced parentheses, e.g. (!(nsaccountlock=TRUE)) or (memberOf=cn=registry,ou=Groups,dc=example,dc=org)`);
  }
  return plainValue(key, value, '(objectClass=person)');
}

function resolveLdap(given: LdapArgs): LdapSettings | undefined {
  const on = firstSet(given, LDAP_KEYS);
  if (on === undefined) return undefined;
  const required = (value: string | undefined, key: string, what: string): string => {
    if (nonEmpty(value) === undefined) {
      throw new ConfigError(key, `is required once ${on} is set: ${what} (pulumi config set ${key} ...); or unset every ldap* key to sign in without LDAP`);
    }
    return value!;
  };
  const address = ldapHost(LDAP_KEYS.address.key, required(given.address, LDAP_KEYS.address.key, "the directory server's host name, e.g. ldap.example.org"));
  const baseDN = distinguishedName(
    LDAP_KEYS.baseDN.key,
    required(given.baseDN, LDAP_KEYS.baseDN.key, 'where users are searched, e.g. ou=Users,dc=example,dc=org'),
    'ou=Users,dc=example,dc=org',
  );
  const startTLS = given.startTLS ?? false;
  const portGiven = given.port !== undefined && given.port !== 0;
  if (portGiven && (!Number.isInteger(given.port) || given.port! < 1 || given.port! > 65535)) {
    throw new ConfigError(LDAP_KEYS.port.key, `${given.port} is out of range; use a whole number from 1 to 65535, or 0 for ${IDENTITY_DEFAULTS.ldapsPort} (LDAPS) / ${IDENTITY_DEFAULTS.startTlsPort} (StartTLS)`);
  }
  // The two well-known ports each speak one way; the other one on them fails at the first login.
  if (portGiven && given.port === IDENTITY_DEFAULTS.startTlsPort && !startTLS) {
    throw new ConfigError(
      LDAP_KEYS.port.key,
      `${given.port} is plain LDAP's port, but without ${LDAP_KEYS.startTLS.key} the registry speaks LDAPS (TLS from the first byte); ` +
        `set ${LDAP_KEYS.startTLS.key} true to upgrade that connection with StartTLS, or use the server's LDAPS port (usually 636)`,
    );
  }
  if (portGiven && given.port === IDENTITY_DEFAULTS.ldapsPort && startTLS) {
    throw new ConfigError(
      LDAP_KEYS.port.key,
      `${given.port} is the LDAPS port, but ${LDAP_KEYS.startTLS.key} is true (plain LDAP upgraded with StartTLS, usually on 389); unset one of them`,
    );
  }
  const userAttribute = nonEmpty(given.userAttribute) ?? IDENTITY_DEFAULTS.ldapUserAttribute;
  if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(userAttribute)) {
    throw new ConfigError(LDAP_KEYS.userAttribute.key, `"${userAttribute}" is not an LDAP attribute name; e.g. uid, sAMAccountName or mail`);
  }
  const groupAttribute = nonEmpty(given.userGroupAttribute);
  if (groupAttribute !== undefined && !/^[A-Za-z][A-Za-z0-9-]*$/.test(groupAttribute)) {
    throw new ConfigError(LDAP_KEYS.userGroupAttribute.key, `"${groupAttribute}" is not an LDAP attribute name; e.g. memberOf`);
  }
  const filter = nonEmpty(given.userFilter);
  const bindDN = nonEmpty(given.bindDN);
  const passwordGiven = given.bindPassword !== undefined && given.bindPassword !== '';
  if (bindDN !== undefined && !passwordGiven) {
    throw new ConfigError(
      LDAP_KEYS.bindPassword.key,
      `is missing: ${LDAP_KEYS.bindDN.key} is set, and the registry binds as it with this password to search for users; ` +
        `set it with: pulumi config set --secret ${LDAP_KEYS.bindPassword.key} <value> (or unset ${LDAP_KEYS.bindDN.key} for an anonymous search)`,
    );
  }
  if (bindDN === undefined && passwordGiven) {
    throw new ConfigError(
      LDAP_KEYS.bindDN.key,
      `is missing: ${LDAP_KEYS.bindPassword.key} is set but not the account it belongs to; set it, e.g. pulumi config set ${LDAP_KEYS.bindDN.key} cn=registry,ou=Services,dc=example,dc=org`,
    );
  }
  return {
    address,
    port: portGiven ? given.port! : startTLS ? IDENTITY_DEFAULTS.startTlsPort : IDENTITY_DEFAULTS.ldapsPort,
    startTLS,
    skipVerify: given.skipVerify ?? false,
    baseDN,
    userAttribute,
    ...(groupAttribute !== undefined ? { userGroupAttribute: groupAttribute } : {}),
    ...(filter !== undefined ? { userFilter: ldapFilter(LDAP_KEYS.userFilter.key, filter) } : {}),
    ...(bindDN !== undefined
      ? {
          bind: {
            dn: distinguishedName(LDAP_KEYS.bindDN.key, bindDN, 'cn=registry,ou=Services,dc=example,dc=org'),
            password: checkedSecret(LDAP_KEYS.bindPassword.key, given.bindPassword!),
          },
        }
      : {}),
  };
}

export function resolveIdentity(args: IdentityArgs): IdentitySettings {
  const oidc = resolveOidc(args.oidc ?? {});
  const ldap = resolveLdap(args.ldap ?? {});
  const settings: IdentitySettings = { apiKeys: args.apiKeys ?? false };
  if (oidc !== undefined) settings.oidc = oidc;
  if (ldap !== undefined) settings.ldap = ldap;
  return settings;
}
