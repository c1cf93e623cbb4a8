/**
 * What the checked identity settings (components/identity-settings.ts) become in the cluster:
 *
 * - config.json's `http.auth.openid` and `http.auth.ldap` blocks, in zot's shape (zot v2.1.20
 *   pkg/api/config/config.go OpenIDConfig, OpenIDProviderConfig, ClaimMapping, LDAPConfig), and
 *   `http.auth.apikey`. The blocks hold no secret: each names a credentialsFile instead.
 * - Those credentials files, zot's formats (examples/config-openid-oidc-credentials.json,
 *   examples/config-ldap-credentials.json): one Secret, `zot-registry-identity`, mounted as the
 *   directory IDENTITY_CREDENTIALS_DIR (never subPath, so a Secret update reaches the files).
 *   The OpenID client id sits in the file beside the secret because zot takes both from the
 *   file once credentialsFile is set.
 * - A checksum of the files for the Pod template. The registry reads credentials files once, at
 *   start, so new ones must roll the Pods. It is an HMAC under a random key kept in the state,
 *   not a bare SHA-256: a bind password may be a guessable word, and the annotation is readable
 *   by anyone who may read Deployments.
 *
 * - With OpenID Connect, a session keys file (zot's http.auth.sessionKeysFile, {"hashKey",
 *   "encryptKey"}) from random bytes the state keeps. The sign-in state cookie one Pod sets must
 *   be accepted by whichever Pod gets the provider's callback, and sessions should outlive a
 *   rollout; a key each Pod makes at start gives neither.
 *
 * The provider key is `oidc`: zot accepts only its known names there (oidc, google, gitlab;
 * IsOpenIDSupported), and `oidc` is the generic OpenID Connect one.
 */
import { createHmac } from 'node:crypto';
import type * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import type { IdentitySettings } from './identity-settings';

/** The identity Secret is mounted here, beside /secret (htpasswd) and not inside it. */
export const IDENTITY_CREDENTIALS_DIR = '/identity-credentials';
export const OIDC_CREDENTIALS_FILE = 'oidc-credentials.json';
export const LDAP_CREDENTIALS_FILE = 'ldap-credentials.json';
export const OIDC_CREDENTIALS_PATH = `${IDENTITY_CREDENTIALS_DIR}/${OIDC_CREDENTIALS_FILE}`;
export const LDAP_CREDENTIALS_PATH = `${IDENTITY_CREDENTIALS_DIR}/${LDAP_CREDENTIALS_FILE}`;
export const SESSION_KEYS_FILE = 'session-keys.json';
export const SESSION_KEYS_PATH = `${IDENTITY_CREDENTIALS_DIR}/${SESSION_KEYS_FILE}`;
/**
 * Random bytes behind the session keys: 32 become hashKey (64 hex characters; perch wants at
 * least 32 bytes), 16 become encryptKey (32 hex characters, an AES-256 key for zot's
 * securecookie, which perch ignores).
 */
export const SESSION_KEY_BYTES = 48;
/** zot's generic OpenID Connect provider name (the login URL is /zot/auth/login?provider=oidc). */
export const OIDC_PROVIDER = 'oidc';

/** Pod template annotation; a new client secret or bind password (or DN, or client id) rolls the Pods. */
export const IDENTITY_CHECKSUM_ANNOTATION = 'checksum/identity-credentials';
/** Bytes of the random HMAC key behind that annotation. */
export const IDENTITY_CHECKSUM_KEY_BYTES = 32;

/** Secret files: readable by the owner and the fsGroup (the registry), nobody else. */
const SECRET_FILE_MODE = 0o440;

export interface OpenIdJson {
  providers: {
    oidc: {
      name?: string;
      issuer: string;
      credentialsFile: string;
      scopes: string[];
      claimMapping: { username: string; groups: string };
    };
  };
}

export interface LdapJson {
  credentialsFile?: string;
  address: string;
  port: number;
  startTLS: boolean;
  skipVerify: boolean;
  subtreeSearch: boolean;
  baseDN: string;
  userAttribute: string;
  userGroupAttribute?: string;
  userFilter?: string;
}

/** The part of config.json's http.auth the identity settings add (none of it secret). */
export interface IdentityAuthJson {
  openid?: OpenIdJson;
  ldap?: LdapJson;
  apikey?: boolean;
  sessionKeysFile?: string;
}

export function identityAuthJson(identity: IdentitySettings): IdentityAuthJson {
  const json: IdentityAuthJson = {};
  const { oidc, ldap } = identity;
  if (oidc !== undefined) {
    json.openid = {
      providers: {
        [OIDC_PROVIDER]: {
          ...(oidc.providerName !== undefined ? { name: oidc.providerName } : {}),
          issuer: oidc.issuer,
          credentialsFile: OIDC_CREDENTIALS_PATH,
          scopes: oidc.scopes,
          claimMapping: { username: oidc.usernameClaim, groups: oidc.groupsClaim },
        },
      },
    };
  }
  if (ldap !== undefined) {
    json.ldap = {
      // Without a bind account there is no file: zot then searches anonymously.
      ...(ldap.bind !== undefined ? { credentialsFile: LDAP_CREDENTIALS_PATH } : {}),
      address: ldap.address,
      port: ldap.port,
      startTLS: ldap.startTLS,
      skipVerify: ldap.skipVerify,
      // The whole tree under baseDN, as ldapsearch searches by default; a one-level search
      // misses every user kept in a sub-OU.
      subtreeSearch: true,
      baseDN: ldap.baseDN,
      userAttribute: ldap.userAttribute,
      ...(ldap.userGroupAttribute !== undefined ? { userGroupAttribute: ldap.userGroupAttribute } : {}),
      ...(ldap.userFilter !== undefined ? { userFilter: ldap.userFilter } : {}),
    };
  }
  if (identity.apiKeys) json.apikey = true;
  if (oidc !== undefined) json.sessionKeysFile = SESSION_KEYS_PATH;
  return json;
}

/** One credentials file: its key in the Secret (and file name) and its text, a secret Output. */
export interface IdentityCredentialFile {
  key: string;
  text: pulumi.Output<string>;
}

/** The session keys file's text from SESSION_KEY_BYTES random bytes, as hex. */
export function sessionKeysText(randomHex: string): string {
  if (randomHex.length < SESSION_KEY_BYTES * 2) {
    throw new Error(`the session keys need ${SESSION_KEY_BYTES} random bytes, got ${randomHex.length / 2}`);
  }
  return `${JSON.stringify({ hashKey: randomHex.slice(0, 64), encryptKey: randomHex.slice(64, 96) }, null, 2)}\n`;
}

/**
 * The credentials files the settings need; empty when none (no Secret is made then).
 * `sessionKeyHex` (SESSION_KEY_BYTES random bytes) is asked for only with OpenID Connect.
 */
export function identityCredentialFiles(identity: IdentitySettings, sessionKeyHex: () => pulumi.Output<string>): IdentityCredentialFile[] {
  const files: IdentityCredentialFile[] = [];
  const { oidc, ldap } = identity;
  if (oidc !== undefined) {
    files.push({
      key: OIDC_CREDENTIALS_FILE,
      text: oidc.clientSecret.apply((secret) => `${JSON.stringify({ clientid: oidc.clientId, clientsecret: secret }, null, 2)}\n`),
    });
    files.push({ key: SESSION_KEYS_FILE, text: sessionKeyHex().apply(sessionKeysText) });
  }
  if (ldap?.bind !== undefined) {
    const dn = ldap.bind.dn;
    files.push({
      key: LDAP_CREDENTIALS_FILE,
      text: ldap.bind.password.apply((password) => `${JSON.stringify({ bindDN: dn, bindPassword: password }, null, 2)}\n`),
    });
  }
  return files;
}

/** HMAC-SHA256 under `keyHex` over each file's key and text, in the order given. */
export function identityChecksum(keyHex: string, files: ReadonlyArray<readonly [key: string, text: string]>): string {
  const hmac = createHmac('sha256', Buffer.from(keyHex, 'hex'));
  for (const [key, text] of files) hmac.update(key).update('\0').update(text).update('\0');
  return hmac.digest('hex');
}

/** How the Pod gets the files: the Secret's name, its keys, and the checksum for the annotation. */
export interface IdentityPodInputs {
  secretName: pulumi.Input<string>;
  keys: string[];
  checksum: pulumi.Input<string>;
}

/** The volume and mount for the registry container: the Secret as a directory, read-only. */
export function identityCredentialsMount(inputs: IdentityPodInputs): {
  volume: k8s.types.input.core.v1.Volume;
  mount: k8s.types.input.core.v1.VolumeMount;
} {
  return {
    volume: {
      name: 'identity-credentials',
      secret: { secretName: inputs.secretName, items: inputs.keys.map((key) => ({ key, path: key })), defaultMode: SECRET_FILE_MODE },
    },
    mount: { name: 'identity-credentials', mountPath: IDENTITY_CREDENTIALS_DIR, readOnly: true },
  };
}
