/**
 * `http.auth`: the login methods, in zot's shape (config/auth-types.ts). Paths resolve against
 * the config file's folder, and the credential files zot keeps secrets in (LDAP's bind DN and
 * password, an OpenID client's id and secret) are read here, so a missing or malformed one
 * stops the registry at start with the file named, not at the first login. A secret's value
 * never appears in a problem message.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AuthConfig, BearerConfig, BearerOidcConfig, LdapConfig, MtlsConfig, OpenIdConfig, OpenIdProviderConfig } from './auth-types';
import type { Section } from './section';

const DEFAULT_LDAP_CACHE_TTL_MS = 60_000;
const MTLS_ATTRIBUTES = ['commonname', 'subject', 'email', 'uri', 'dnsname'] as const;
/** zot's other spellings of the same attributes. */
const MTLS_ALIASES: Record<string, string> = { cn: 'commonname', dn: 'subject', rfc822name: 'email', url: 'uri', dns: 'dnsname' };

export function readAuth(s: Section, cwd: string): AuthConfig {
  const auth: AuthConfig = { failDelay: s.integer('failDelay', 0), apikey: s.bool('apikey', false) };
  const htpasswd = s.section('htpasswd');
  if (htpasswd.exists) {
    const path = htpasswd.string('path', '');
    // zot treats an empty path as "no htpasswd", which quietly leaves the registry open; refuse it.
    if (path.trim() === '') htpasswd.problem('path', 'is missing or empty; give the htpasswd file (e.g. "/secret/htpasswd"), or remove http.auth.htpasswd');
    else auth.htpasswd = { path: resolve(cwd, path) };
  }
  const ldap = s.section('ldap');
  if (ldap.exists) auth.ldap = readLdap(ldap, cwd);
  const openid = s.section('openid');
  if (openid.exists) auth.openid = readOpenId(openid, cwd);
  const mtls = s.section('mtls');
  if (mtls.exists) auth.mtls = readMtls(mtls);
  const bearer = s.section('bearer');
  if (bearer.exists) auth.bearer = readBearer(bearer, cwd);
  const sessionKeysFile = s.string('sessionKeysFile');
  if (sessionKeysFile) auth.sessionKeysFile = resolve(cwd, sessionKeysFile);
  if (s.has('secureSession')) auth.secureSession = s.bool('secureSession', true);
  return auth;
}

/** Is there any way to log in (anything beyond anonymous)? */
export function loginConfigured(auth: AuthConfig | undefined): boolean {
  if (!auth) return false;
  return Boolean(auth.htpasswd || auth.ldap || auth.openid || auth.mtls || auth.bearer);
}

/** A JSON credentials file as an object of strings; a problem (never its content) when it is not one. */
function readCredentialsFile(s: Section, key: string, cwd: string): Record<string, string> | undefined {
  const name = s.string(key);
  if (!name) return undefined;
  const path = resolve(cwd, name);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    s.problem(key, code ? `${path} cannot be read (${code}); mount the Secret that holds it, or give the values inline` : `${path} is not JSON; write it as zot's examples do, e.g. {"bindDN": "...", "bindPassword": "..."}`);
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    s.problem(key, `${path} must hold a JSON object`);
    return undefined;
  }
  // Keys matched without regard to case, as viper does.
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k.toLowerCase()] = v;
  return out;
}

function readLdap(s: Section, cwd: string): LdapConfig {
  const credentials = readCredentialsFile(s, 'credentialsFile', cwd) ?? {};
  const address = s.string('address', '');
  if (address.trim() === '') s.problem('address', 'is missing; give the LDAP server\'s host name, e.g. "ldap.example.org"');
  const baseDN = s.string('baseDN', '');
  if (baseDN.trim() === '') s.problem('baseDN', 'is missing; give where users are searched, e.g. "ou=Users,dc=example,dc=org"');
  const userAttribute = s.string('userAttribute', '');
  if (userAttribute.trim() === '') s.problem('userAttribute', 'is missing; give the attribute that holds the login name, e.g. "uid"');
  const insecure = s.bool('insecure', false);
  const startTLS = s.bool('startTLS', false);
  const config: LdapConfig = {
    address,
    port: s.integer('port', insecure || startTLS ? 389 : 636, { min: 1, max: 65535 }),
    insecure,
    startTLS,
    skipVerify: s.bool('skipVerify', false),
    subtreeSearch: s.bool('subtreeSearch', false),
    baseDN,
    userAttribute,
    bindDN: s.string('bindDN') ?? credentials.binddn ?? '',
    bindPassword: s.string('bindPassword') ?? credentials.bindpassword ?? '',
    cacheTtlMs: s.duration('cacheTTL') ?? DEFAULT_LDAP_CACHE_TTL_MS,
  };
  const userFilter = s.string('userFilter');
  if (userFilter) config.userFilter = userFilter;
  const groupAttribute = s.string('userGroupAttribute');
  if (groupAttribute) config.userGroupAttribute = groupAttribute;
  const caCert = s.string('caCert');
  if (caCert) config.caCert = resolve(cwd, caCert);
  if (config.bindDN !== '' && config.bindPassword === '') {
    s.problem('credentialsFile', 'gives a bindDN but no bindPassword; put both in the credentials file (zot\'s config-ldap-credentials.json)');
  }
  return config;
}

function readOpenId(s: Section, cwd: string): OpenIdConfig {
  const providers: Record<string, OpenIdProviderConfig> = {};
  for (const { key, section } of s.entries('providers')) {
    const issuer = section.string('issuer', '');
    if (issuer === '' && key.toLowerCase() === 'github') {
      // zot's GitHub sign-in is plain OAuth2 (no issuer, no ID token). Leaving it out only takes
      // away a way to sign in; with no other provider the "is empty" problem below stops the start.
      section.warn(undefined, 'left out: perch signs in only with OpenID Connect providers, and GitHub\'s OAuth2 has no issuer; GitHub users cannot sign in to this registry');
      continue;
    }
    const named = section.has('credentialsFile');
    const read = readCredentialsFile(section, 'credentialsFile', cwd);
    const credentials = read ?? {};
    if (issuer === '') section.problem('issuer', 'is missing; perch signs in with OpenID Connect providers, found at their issuer URL (e.g. "https://keycloak.example.com/realms/registry")');
    else if (!/^https?:\/\//.test(issuer)) section.problem('issuer', `${JSON.stringify(issuer)} is not an http(s) URL`);
    const clientId = section.string('clientid') ?? credentials.clientid ?? '';
    // A credentials file that cannot be read is its own problem: no second one for what it would have held.
    if (clientId === '' && (!named || read)) section.problem('clientid', 'is missing; give the client id registered with the provider, here or in credentialsFile');
    const mapping = section.section('claimMapping');
    const provider: OpenIdProviderConfig = {
      id: key.toLowerCase(),
      name: section.string('name', key),
      issuer: issuer.replace(/\/+$/, ''),
      clientId,
      scopes: section.strings('scopes') ?? ['openid', 'profile', 'email'],
      claimMapping: { username: mapping.string('username', 'email'), groups: mapping.string('groups', 'groups') },
      audiences: section.strings('audiences') ?? (clientId ? [clientId] : []),
    };
    const secret = section.string('clientsecret') ?? credentials.clientsecret;
    if (secret) provider.clientSecret = secret;
    if (!provider.scopes.includes('openid')) section.problem('scopes', 'must include "openid": perch signs in with OpenID Connect');
    providers[provider.id] = provider;
  }
  if (Object.keys(providers).length === 0) s.problem('providers', 'names no OpenID Connect provider perch can use; name one with its issuer, or remove http.auth.openid');
  return { providers, callbackAllowOrigins: s.strings('callbackAllowOrigins') ?? [] };
}

function readMtls(s: Section): MtlsConfig {
  const attributes: MtlsConfig['identityAttributes'] = [];
  for (const word of s.strings('identityAttributes') ?? ['CommonName']) {
    const lower = word.toLowerCase();
    const hit = MTLS_ATTRIBUTES.find((a) => a === (MTLS_ALIASES[lower] ?? lower));
    if (hit === undefined) s.problem('identityAttributes', `${JSON.stringify(word)} is not an identity attribute; use CommonName, Subject, Email, URI or DNSName`);
    else if (!attributes.includes(hit)) attributes.push(hit);
  }
  const config: MtlsConfig = {
    identityAttributes: attributes,
    uriSanIndex: s.integer('uriSanIndex', 0),
    dnsSanIndex: s.integer('dnsSanIndex', 0),
    emailSanIndex: s.integer('emailSanIndex', 0),
  };
  const pattern = s.string('uriSanPattern');
  if (pattern) {
    try {
      new RegExp(pattern);
      config.uriSanPattern = pattern;
    } catch {
      s.problem('uriSanPattern', `${JSON.stringify(pattern)} is not a regular expression`);
    }
  }
  return config;
}

function readBearer(s: Section, cwd: string): BearerConfig {
  const config: BearerConfig = { realm: s.string('realm', ''), service: s.string('service', ''), oidc: [] };
  const cert = s.string('cert');
  if (cert) config.cert = resolve(cwd, cert);
  for (const item of s.list('oidc')) {
    const issuer = item.string('issuer', '');
    const audiences = item.strings('audiences') ?? [];
    if (issuer === '') item.problem('issuer', 'is missing; give the token issuer\'s URL (its "iss" claim)');
    if (audiences.length === 0) item.problem('audiences', 'is empty; give at least one audience the tokens are issued for (their "aud" claim)');
    const mapping = item.section('claimMapping');
    const oidc: BearerOidcConfig = {
      issuer: issuer.replace(/\/+$/, ''),
      audiences,
      claimMapping: { username: mapping.string('username', "claims.iss + '/' + claims.sub") },
      skipIssuerVerification: item.bool('skipIssuerVerification', false),
    };
    const groups = mapping.string('groups');
    if (groups) oidc.claimMapping.groups = groups;
    const caFile = item.string('certificateAuthorityFile');
    if (caFile) oidc.certificateAuthorityFile = resolve(cwd, caFile);
    const ca = item.string('certificateAuthority');
    if (ca) oidc.certificateAuthority = ca;
    if (caFile && ca) item.problem('certificateAuthority', 'and certificateAuthorityFile are both given; keep one');
    config.oidc.push(oidc);
  }
  if (!config.cert && config.oidc.length === 0) {
    s.problem(undefined, 'checks no tokens: give cert (the issuer\'s certificate or public key, PEM) or oidc (workload-identity issuers)');
  }
  if (config.cert && config.realm === '') s.problem('realm', 'is missing; give the URL of the token service clients fetch tokens from');
  return config;
}
