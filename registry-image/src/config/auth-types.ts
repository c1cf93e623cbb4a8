/**
 * `http.auth` after loading: every login method zot configures there, in zot's shape
 * (pkg/api/config/config.go AuthConfig), with paths resolved and credential files read.
 * docs/auth.md is the user's guide; auth/index.ts builds one authenticator per method.
 *
 * Secrets (bind password, client secret) are kept here as read; nothing logs a config.
 */

export interface AuthConfig {
  /** Seconds to wait after a failed login (zot: http.auth.failDelay). */
  failDelay: number;
  htpasswd?: { path: string };
  ldap?: LdapConfig;
  openid?: OpenIdConfig;
  /** zot: http.auth.apikey; users create keys that work as passwords. */
  apikey?: boolean;
  mtls?: MtlsConfig;
  bearer?: BearerConfig;
  /** zot: http.auth.sessionKeysFile, keys for the UI's session cookies (generated when absent). */
  sessionKeysFile?: string;
  /** zot: http.auth.secureSession; the session cookie's Secure flag (default: on when served over TLS or externalUrl is https). */
  secureSession?: boolean;
}

/** zot's LDAPConfig; bindDN and bindPassword come from credentialsFile (zot's LDAPCredentials). */
export interface LdapConfig {
  address: string;
  port: number;
  /** Plain LDAP with no TLS at all (zot: insecure). */
  insecure: boolean;
  /** Upgrade with StartTLS; neither insecure nor startTLS: LDAPS. */
  startTLS: boolean;
  skipVerify: boolean;
  subtreeSearch: boolean;
  baseDN: string;
  userAttribute: string;
  /** An extra filter ANDed into the user search, e.g. "(!(nsaccountlock=TRUE))". */
  userFilter?: string;
  /** The user entry's attribute that lists its groups (memberOf); absent: no LDAP groups. */
  userGroupAttribute?: string;
  /** PEM file of the CA that signed the LDAP server's certificate. */
  caCert?: string;
  bindDN: string;
  bindPassword: string;
  /** How long a successful bind (and its groups) is remembered; perch's own key, default 60 s. */
  cacheTtlMs: number;
}

export interface OpenIdConfig {
  providers: Record<string, OpenIdProviderConfig>;
  /** Origins allowed in callback_ui besides the registry's own. */
  callbackAllowOrigins: string[];
}

export interface OpenIdProviderConfig {
  /** The key under providers: "oidc", "keycloak", ... (also the login URL's provider). */
  id: string;
  /** Shown on the sign-in button. */
  name: string;
  issuer: string;
  clientId: string;
  clientSecret?: string;
  scopes: string[];
  /** Claims that become the user name and the groups (zot: claimMapping; defaults email, groups). */
  claimMapping: { username: string; groups: string };
  /** Audiences accepted for Bearer tokens from this provider; default [clientId]. */
  audiences: string[];
}

/** zot's MTLSConfig. */
export interface MtlsConfig {
  /** Tried in order: CommonName, Subject, Email, URI, DNSName (case-insensitive in the file). */
  identityAttributes: Array<'commonname' | 'subject' | 'email' | 'uri' | 'dnsname'>;
  uriSanPattern?: string;
  uriSanIndex: number;
  dnsSanIndex: number;
  emailSanIndex: number;
}

/** zot's BearerConfig: tokens a separate issuer signed (cert), or OIDC workload tokens (oidc). */
export interface BearerConfig {
  realm: string;
  service: string;
  /** PEM file: the issuer's certificate or public key. */
  cert?: string;
  oidc: BearerOidcConfig[];
}

export interface BearerOidcConfig {
  issuer: string;
  audiences: string[];
  /**
   * zot's CEL claimMapping, in the subset perch evaluates (auth/oidc/claim-expression.ts):
   * `claims.a.b`, quoted strings and `+`. Default username: claims.iss + '/' + claims.sub.
   */
  claimMapping: { username: string; groups?: string };
  /** PEM file of the CA for the issuer's HTTPS. */
  certificateAuthorityFile?: string;
  certificateAuthority?: string;
  skipIssuerVerification: boolean;
}
