/**
 * Signing in with OpenID Connect or LDAP (docs/pulumi.md "Signing in with OpenID Connect or
 * LDAP"), under Pulumi's mocks: the stack keys become zot's http.auth.openid / http.auth.ldap
 * blocks in config.json, the client secret and bind password live in the Secret
 * zot-registry-identity only (as zot's credentials files, mounted where config.json says), a bad
 * setting stops the program naming the key and the fix and never the secret, and a new secret
 * rolls the Deployment through a Pod template annotation without replacing it.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from 'perch/config';
import { CONFIG_FILE, HTPASSWD_PATH } from '../../components/container-interface';
import {
  IDENTITY_CHECKSUM_ANNOTATION,
  IDENTITY_CREDENTIALS_DIR,
  identityChecksum,
  LDAP_CREDENTIALS_FILE,
  LDAP_CREDENTIALS_PATH,
  OIDC_CREDENTIALS_FILE,
  OIDC_CREDENTIALS_PATH,
  SESSION_KEY_BYTES,
  SESSION_KEYS_FILE,
  SESSION_KEYS_PATH,
} from '../../components/identity-config';
import { IDENTITY_KEYS } from '../../components/identity-keys';
import { secretProblem } from '../../components/identity-settings';
import { CHECKSUM_ANNOTATION } from '../../components/registry-pod';
import { SessionKeys } from '../../registry-image/src/auth/session/session-keys';
import { projectConfig, registryPodSpec, renderComponent, renderProgram, type RenderedProgram, type RenderProgramOptions } from './render';
import { keysOutside, ZOT_V2_1_20_KEYS, type KeyTree } from './zot-keys';

const T = {
  secret: 'kubernetes:core/v1:Secret',
  configMap: 'kubernetes:core/v1:ConfigMap',
  deployment: 'kubernetes:apps/v1:Deployment',
};
const IDENTITY_SECRET = 'zot-registry-identity';

/**
 * What the mocks answer for every RandomBytes but the token key (the bcrypt salt takes the first
 * 16): 48 bytes, so the session keys get the length they ask for.
 */
const RANDOM_BYTES = Buffer.from(Array.from({ length: 48 }, (_, i) => (i * 37 + 11) % 256));
const MOCKS = { saltBase64: RANDOM_BYTES.toString('base64') };

const CLIENT_SECRET = 'oidc-client-secret-MOCK-7f3a9c';
const BIND_PASSWORD = 'ldap-bind-password-MOCK-42b8e1';
const BIND_DN = 'cn=registry,ou=Services,dc=example,dc=org';

const OIDC: RenderProgramOptions = {
  config: {
    oidcIssuer: 'https://keycloak.example.com/realms/registry',
    oidcClientId: 'perch-registry',
    oidcClientSecret: CLIENT_SECRET,
    oidcScopes: ['openid', 'profile', 'email', 'groups'],
    oidcUsernameClaim: 'preferred_username',
    oidcGroupsClaim: 'groups',
    oidcProviderName: 'Keycloak',
  },
  secretKeys: ['oidcClientSecret'],
  mocks: MOCKS,
};
const LDAP: RenderProgramOptions = {
  config: {
    ldapAddress: 'ldap.example.org',
    ldapBaseDN: 'ou=Users,dc=example,dc=org',
    ldapUserGroupAttribute: 'memberOf',
    ldapUserFilter: '(!(nsaccountlock=TRUE))',
    ldapBindDN: BIND_DN,
    ldapBindPassword: BIND_PASSWORD,
  },
  secretKeys: ['ldapBindPassword'],
};
const BOTH: RenderProgramOptions = {
  config: { ...OIDC.config, ...LDAP.config, apiKeys: true },
  secretKeys: [...OIDC.secretKeys!, ...LDAP.secretKeys!],
  mocks: MOCKS,
};

/** zot v2.1.20's keys plus its auth structs for these methods (pkg/api/config/config.go: AuthConfig, OpenIDConfig, OpenIDProviderConfig, ClaimMapping, LDAPConfig). */
const ZOT_KEYS_WITH_IDENTITY: KeyTree = (() => {
  const tree = structuredClone(ZOT_V2_1_20_KEYS);
  const http = tree.http as KeyTree;
  http.auth = {
    ...(http.auth as KeyTree),
    apikey: true,
    sessionkeysfile: true,
    openid: {
      callbackalloworigins: true,
      providers: {
        '*': {
          credentialsfile: true, name: true, clientid: true, clientsecret: true, keypath: true,
          issuer: true, authurl: true, tokenurl: true, scopes: true, claimmapping: { username: true, groups: true },
        },
      },
    },
    ldap: {
      credentialsfile: true, port: true, insecure: true, starttls: true, skipverify: true, subtreesearch: true,
      address: true, usergroupattribute: true, basedn: true, userattribute: true, userfilter: true, cacert: true,
    },
  };
  return tree;
})();

function configText(rendered: RenderedProgram): string {
  return rendered.configMapData('zot-registry-config')[CONFIG_FILE]!;
}

/** Every resource whose inputs contain `needle` (as text, or base64-encoded). */
function holders(rendered: RenderedProgram, needle: string): string[] {
  const encoded = Buffer.from(needle).toString('base64');
  return rendered.resources
    .filter((r) => {
      const text = JSON.stringify(r.inputs);
      return text.includes(needle) || text.includes(encoded);
    })
    .map((r) => `${r.type} ${r.inputs.metadata?.name ?? r.name}`);
}

async function configError(options: RenderProgramOptions): Promise<Error> {
  try {
    await renderProgram(options);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`the program accepted ${JSON.stringify(options.config)}`);
}

const scratch = mkdtempSync(join(tmpdir(), 'perch-identity-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * Loads the rendered config.json with perch's own loader, the credentials files written from
 * the Secret's data to a scratch folder standing in for the mount.
 */
function loadAsPerch(rendered: RenderedProgram) {
  const dir = mkdtempSync(join(scratch, 'mount-'));
  for (const [key, text] of Object.entries(rendered.secretData(IDENTITY_SECRET))) writeFileSync(join(dir, key), text);
  const text = configText(rendered).split(`${IDENTITY_CREDENTIALS_DIR}/`).join(`${dir}/`);
  return parseConfig(JSON.parse(text), 'configmap zot-registry-config');
}

describe('config.json: the http.auth blocks', () => {
  it('OpenID Connect: providers.oidc in zot\'s shape, naming the credentials file, with no secret in it', async () => {
    const rendered = await renderProgram(OIDC);
    const json = JSON.parse(configText(rendered));
    expect(json.http.auth).toEqual({
      htpasswd: { path: HTPASSWD_PATH },
      sessionKeysFile: SESSION_KEYS_PATH,
      openid: {
        providers: {
          oidc: {
            name: 'Keycloak',
            issuer: 'https://keycloak.example.com/realms/registry',
            credentialsFile: OIDC_CREDENTIALS_PATH,
            scopes: ['openid', 'profile', 'email', 'groups'],
            claimMapping: { username: 'preferred_username', groups: 'groups' },
          },
        },
      },
    });
    expect(keysOutside(ZOT_KEYS_WITH_IDENTITY, json)).toEqual([]);
  });

  it('LDAP: zot\'s ldap block, LDAPS on 636 by default, the whole subtree searched, the bind account in a file', async () => {
    const rendered = await renderProgram(LDAP);
    const json = JSON.parse(configText(rendered));
    expect(json.http.auth.ldap).toEqual({
      credentialsFile: LDAP_CREDENTIALS_PATH,
      address: 'ldap.example.org',
      port: 636,
      startTLS: false,
      skipVerify: false,
      subtreeSearch: true,
      baseDN: 'ou=Users,dc=example,dc=org',
      userAttribute: 'uid',
      userGroupAttribute: 'memberOf',
      userFilter: '(!(nsaccountlock=TRUE))',
    });
    expect(json.http.auth.htpasswd).toEqual({ path: HTPASSWD_PATH });
    expect(keysOutside(ZOT_KEYS_WITH_IDENTITY, json)).toEqual([]);
  });

  it('StartTLS defaults to 389; a port of its own is kept; ldapSkipVerify reaches skipVerify', async () => {
    const startTls = await renderProgram({ ...LDAP, config: { ...LDAP.config, ldapStartTLS: true } });
    expect(JSON.parse(configText(startTls)).http.auth.ldap).toMatchObject({ port: 389, startTLS: true });
    const own = await renderProgram({ ...LDAP, config: { ...LDAP.config, ldapPort: 3269, ldapSkipVerify: true } });
    expect(JSON.parse(configText(own)).http.auth.ldap).toMatchObject({ port: 3269, startTLS: false, skipVerify: true });
  });

  it('OpenID Connect with only the required keys: openid, profile, email; email and groups claims; no name', async () => {
    const rendered = await renderProgram({
      config: { oidcIssuer: 'https://accounts.example.com', oidcClientId: 'c-1', oidcClientSecret: CLIENT_SECRET },
      secretKeys: ['oidcClientSecret'],
      mocks: MOCKS,
    });
    expect(JSON.parse(configText(rendered)).http.auth.openid.providers.oidc).toEqual({
      issuer: 'https://accounts.example.com',
      credentialsFile: OIDC_CREDENTIALS_PATH,
      scopes: ['openid', 'profile', 'email'],
      claimMapping: { username: 'email', groups: 'groups' },
    });
  });

  it('apiKeys adds http.auth.apikey and nothing else: no Secret, no extra volume', async () => {
    const rendered = await renderProgram({ config: { apiKeys: true } });
    expect(JSON.parse(configText(rendered)).http.auth).toEqual({ htpasswd: { path: HTPASSWD_PATH }, apikey: true });
    expect(rendered.resources.filter((r) => r.inputs.metadata?.name === IDENTITY_SECRET)).toEqual([]);
    expect(registryPodSpec(rendered).volumes.map((v: any) => v.name)).toEqual(['config', 'secret', 'data', 'tmp']);
  });

  it('LDAP without a bind account: an anonymous search, no credentials file, no Secret', async () => {
    const rendered = await renderProgram({ config: { ldapAddress: 'ldap.example.org', ldapBaseDN: 'dc=example,dc=org' } });
    const ldap = JSON.parse(configText(rendered)).http.auth.ldap;
    expect(ldap).not.toHaveProperty('credentialsFile');
    expect(rendered.resources.filter((r) => r.inputs.metadata?.name === IDENTITY_SECRET)).toEqual([]);
    expect(rendered.find(T.deployment).inputs.spec.template.metadata.annotations).not.toHaveProperty(IDENTITY_CHECKSUM_ANNOTATION);
  });

  it('left at Pulumi.yaml\'s defaults: none of it (no openid, ldap, apikey, Secret or annotation)', async () => {
    const rendered = await renderProgram();
    expect(JSON.parse(configText(rendered)).http.auth).toEqual({ htpasswd: { path: HTPASSWD_PATH } });
    expect(rendered.resources.filter((r) => r.inputs.metadata?.name === IDENTITY_SECRET)).toEqual([]);
    expect(rendered.find(T.deployment).inputs.spec.template.metadata.annotations).not.toHaveProperty(IDENTITY_CHECKSUM_ANNOTATION);
  });

  it('perch loads the config.json with the Secret\'s files where the mount puts them, and reads the secrets from them', async () => {
    const rendered = await renderProgram(BOTH);
    const { config, warnings } = loadAsPerch(rendered);
    expect(warnings).toEqual([]);
    const auth = config.http.auth!;
    expect(auth.openid!.providers.oidc).toMatchObject({
      id: 'oidc',
      name: 'Keycloak',
      issuer: 'https://keycloak.example.com/realms/registry',
      clientId: 'perch-registry',
      clientSecret: CLIENT_SECRET,
      claimMapping: { username: 'preferred_username', groups: 'groups' },
    });
    expect(auth.ldap).toMatchObject({ address: 'ldap.example.org', port: 636, bindDN: BIND_DN, bindPassword: BIND_PASSWORD, subtreeSearch: true });
    expect(auth.apikey).toBe(true);
    expect(auth.htpasswd!.path).toBe(HTPASSWD_PATH);
  });
});

describe('the secrets: in the Secret only', () => {
  it('the Secret holds zot\'s two credentials files, marked secret', async () => {
    const rendered = await renderProgram(BOTH);
    const data = rendered.secretData(IDENTITY_SECRET);
    expect(Object.keys(data).sort()).toEqual([LDAP_CREDENTIALS_FILE, OIDC_CREDENTIALS_FILE, SESSION_KEYS_FILE]);
    expect(JSON.parse(data[OIDC_CREDENTIALS_FILE]!)).toEqual({ clientid: 'perch-registry', clientsecret: CLIENT_SECRET });
    expect(JSON.parse(data[LDAP_CREDENTIALS_FILE]!)).toEqual({ bindDN: BIND_DN, bindPassword: BIND_PASSWORD });
    const secret = rendered.resources.find((r) => r.inputs.metadata?.name === IDENTITY_SECRET)!;
    expect(secret.type).toBe(T.secret);
    expect(secret.secretPaths).toContain('stringData');
  });

  it('no other resource and no output carries either secret; the ConfigMap text has neither', async () => {
    const rendered = await renderProgram(BOTH);
    for (const value of [CLIENT_SECRET, BIND_PASSWORD]) {
      expect(holders(rendered, value), value).toEqual([`${T.secret} ${IDENTITY_SECRET}`]);
      expect(configText(rendered)).not.toContain(value);
      expect(JSON.stringify(rendered.outputs)).not.toContain(value);
    }
    expect(configText(rendered)).not.toMatch(/clientsecret|bindpassword/i);
  });

  it('the non-secret outputs stay non-secret, and the Deployment is not hidden in a preview', async () => {
    const rendered = await renderProgram(BOTH);
    for (const key of ['registryUrl', 'registryHost', 'username', 'helmLoginCommand', 'healthCheckUrl', 'namespace', 'inClusterUrl'] as const) {
      expect(await pulumi.isSecret(pulumi.output(rendered.exports[key] as pulumi.Output<unknown>)), key).toBe(false);
    }
    expect(rendered.find(T.deployment).secretPaths).toEqual([]);
    expect(rendered.find(T.configMap, 'zot-registry-config').secretPaths).toEqual([]);
  });

  it('the Pod mounts the Secret as a directory at the paths config.json names, read-only, never subPath', async () => {
    const rendered = await renderProgram(BOTH);
    const pod = registryPodSpec(rendered);
    const volume = pod.volumes.find((v: any) => v.name === 'identity-credentials');
    expect(volume).toEqual({
      name: 'identity-credentials',
      secret: {
        secretName: IDENTITY_SECRET,
        items: [
          { key: OIDC_CREDENTIALS_FILE, path: OIDC_CREDENTIALS_FILE },
          { key: SESSION_KEYS_FILE, path: SESSION_KEYS_FILE },
          { key: LDAP_CREDENTIALS_FILE, path: LDAP_CREDENTIALS_FILE },
        ],
        defaultMode: 0o440,
      },
    });
    const mount = pod.containers[0].volumeMounts.find((m: any) => m.name === 'identity-credentials');
    expect(mount).toEqual({ name: 'identity-credentials', mountPath: IDENTITY_CREDENTIALS_DIR, readOnly: true });
    const json = JSON.parse(configText(rendered));
    const named = [json.http.auth.openid.providers.oidc.credentialsFile, json.http.auth.sessionKeysFile, json.http.auth.ldap.credentialsFile];
    expect(named).toEqual(volume.secret.items.map((i: any) => `${mount.mountPath}/${i.path}`));
  });

  it('OpenID Connect: session keys every Pod shares, from random bytes the state keeps, in the Secret', async () => {
    const rendered = await renderProgram(OIDC);
    const keys = JSON.parse(rendered.secretData(IDENTITY_SECRET)[SESSION_KEYS_FILE]!);
    expect(keys).toEqual({ hashKey: RANDOM_BYTES.subarray(0, 32).toString('hex'), encryptKey: RANDOM_BYTES.subarray(32, 48).toString('hex') });
    // perch refuses a hashKey under 32 bytes; zot's securecookie takes a 32-byte AES key.
    expect(Buffer.byteLength(keys.hashKey)).toBeGreaterThanOrEqual(32);
    expect(Buffer.byteLength(keys.encryptKey)).toBe(32);
    expect(rendered.find('random:index/randomBytes:RandomBytes', 'zot-registry-session-keys').inputs.length).toBe(SESSION_KEY_BYTES);
    expect(holders(rendered, keys.hashKey)).toEqual([`${T.secret} ${IDENTITY_SECRET}`]);
    // perch's own loader takes the file as it is mounted.
    const path = join(mkdtempSync(join(scratch, 'session-')), SESSION_KEYS_FILE);
    writeFileSync(path, rendered.secretData(IDENTITY_SECRET)[SESSION_KEYS_FILE]!);
    expect(SessionKeys.load(path).source).toBe('file');
    // LDAP alone has no sign-in flow across Pods: no session keys.
    const ldap = await renderProgram(LDAP);
    expect(Object.keys(ldap.secretData(IDENTITY_SECRET))).toEqual([LDAP_CREDENTIALS_FILE]);
    expect(JSON.parse(configText(ldap)).http.auth).not.toHaveProperty('sessionKeysFile');
  });

  it('secrets given to the component directly (not stack config) are secrets in the Secret too', async () => {
    const rendered = await renderComponent({
      ldap: { address: 'ldap.example.org', baseDN: 'dc=example,dc=org', bindDN: BIND_DN, bindPassword: 'plain-arg-password' },
    });
    const secret = rendered.resources.find((r) => r.inputs.metadata?.name === IDENTITY_SECRET)!;
    expect(secret.secretPaths).toContain('stringData');
    expect(holders(rendered as unknown as RenderedProgram, 'plain-arg-password')).toEqual([`${T.secret} ${IDENTITY_SECRET}`]);
  });
});

describe('a changed secret rolls the Deployment without replacing it', () => {
  function inputsByResource(rendered: RenderedProgram): Map<string, any> {
    return new Map(rendered.resources.map((r) => [`${r.type} ${r.name}`, r.inputs]));
  }

  function changed(a: RenderedProgram, b: RenderedProgram): string[] {
    const left = inputsByResource(a);
    const right = inputsByResource(b);
    expect([...right.keys()].sort()).toEqual([...left.keys()].sort());
    return [...left.keys()].filter((key) => JSON.stringify(left.get(key)) !== JSON.stringify(right.get(key))).sort();
  }

  function annotations(rendered: RenderedProgram): Record<string, string> {
    return rendered.find(T.deployment).inputs.spec.template.metadata.annotations;
  }

  function withoutAnnotations(deployment: any): any {
    const copy = structuredClone(deployment);
    delete copy.spec.template.metadata.annotations;
    return copy;
  }

  for (const [label, key, rotated] of [
    ['a new client secret', 'oidcClientSecret', 'oidc-client-secret-ROTATED'],
    ['a new bind password', 'ldapBindPassword', 'ldap-bind-password-ROTATED'],
  ] as const) {
    it(`${label}: only the identity Secret and the Pod template's checksum change; same Deployment, same name`, async () => {
      const before = await renderProgram(BOTH);
      const after = await renderProgram({ ...BOTH, config: { ...BOTH.config, [key]: rotated } });
      expect(changed(before, after)).toEqual([`${T.deployment} zot-registry-deployment`, `${T.secret} zot-registry-identity`]);
      expect(annotations(after)[IDENTITY_CHECKSUM_ANNOTATION]).toMatch(/^[0-9a-f]{64}$/);
      expect(annotations(after)[IDENTITY_CHECKSUM_ANNOTATION]).not.toBe(annotations(before)[IDENTITY_CHECKSUM_ANNOTATION]);
      // config.json did not change, so its own checksum stays.
      expect(annotations(after)[CHECKSUM_ANNOTATION]).toBe(annotations(before)[CHECKSUM_ANNOTATION]);
      // The same resource (logical name, URN, Kubernetes name, selector): an update of the Pod template, not a replacement.
      const [b, a] = [before.find(T.deployment), after.find(T.deployment)];
      expect(a.name).toBe(b.name);
      expect(a.inputs.metadata).toEqual(b.inputs.metadata);
      expect(a.inputs.spec.selector).toEqual(b.inputs.spec.selector);
      expect(withoutAnnotations(a.inputs)).toEqual(withoutAnnotations(b.inputs));
      expect(after.urns.filter((u) => u.endsWith('::zot-registry-deployment'))).toEqual(before.urns.filter((u) => u.endsWith('::zot-registry-deployment')));
    });
  }

  it('a rerun with the same secrets changes nothing', async () => {
    const first = await renderProgram(BOTH);
    const second = await renderProgram(BOTH);
    expect(changed(first, second)).toEqual([]);
  });

  it('the annotation is an HMAC under the random key in the state, not a bare hash a weak password could be guessed from', async () => {
    const rendered = await renderProgram(BOTH);
    const data = rendered.secretData(IDENTITY_SECRET);
    const files = [OIDC_CREDENTIALS_FILE, SESSION_KEYS_FILE, LDAP_CREDENTIALS_FILE].map((k) => [k, data[k]!] as const);
    const keyHex = RANDOM_BYTES.toString('hex'); // the mocks' RandomBytes answer
    const annotation = annotations(rendered)[IDENTITY_CHECKSUM_ANNOTATION];
    expect(annotation).toBe(identityChecksum(keyHex, files));
    const bare = createHash('sha256');
    for (const [k, text] of files) bare.update(k).update('\0').update(text).update('\0');
    expect(annotation).not.toBe(bare.digest('hex'));
    const random = rendered.find('random:index/randomBytes:RandomBytes', 'zot-registry-identity-checksum-key');
    expect(random.inputs.length).toBe(32);
  });
});

describe('bad settings stop the program, naming the key and the fix, never a secret', () => {
  const cases: Array<{ label: string; options: RenderProgramOptions; key: string; says: RegExp[] }> = [
    {
      label: 'a client secret set in plain text',
      options: { config: OIDC.config },
      key: 'oidcClientSecret',
      says: [/plain text/, /pulumi config set --secret oidcClientSecret/],
    },
    {
      label: 'a bind password set in plain text',
      options: { config: LDAP.config },
      key: 'ldapBindPassword',
      says: [/plain text/, /pulumi config set --secret ldapBindPassword/],
    },
    {
      label: 'an http:// issuer',
      options: { ...OIDC, config: { ...OIDC.config, oidcIssuer: 'http://keycloak.example.com/realms/registry' } },
      key: 'oidcIssuer',
      says: [/plain HTTP/, /https:\/\//, /pulumi config set oidcAllowHttpIssuer true/],
    },
    {
      label: 'an issuer that is no URL',
      options: { ...OIDC, config: { ...OIDC.config, oidcIssuer: 'keycloak.example.com' } },
      key: 'oidcIssuer',
      says: [/is not a URL/, /https:\/\/keycloak/],
    },
    {
      label: 'an OpenID Connect key without an issuer',
      options: { config: { oidcClientId: 'perch-registry' } },
      key: 'oidcIssuer',
      says: [/required once oidcClientId is set/, /pulumi config set oidcIssuer/],
    },
    {
      label: 'an issuer without a client id',
      options: { ...OIDC, config: { ...OIDC.config, oidcClientId: '' } },
      key: 'oidcClientId',
      says: [/required/, /pulumi config set oidcClientId/],
    },
    {
      label: 'an issuer without a client secret',
      options: { config: { oidcIssuer: 'https://accounts.example.com', oidcClientId: 'c-1' } },
      key: 'oidcClientSecret',
      says: [/required/, /pulumi config set --secret oidcClientSecret/],
    },
    {
      label: 'scopes without openid',
      options: { ...OIDC, config: { ...OIDC.config, oidcScopes: ['profile', 'email'] } },
      key: 'oidcScopes',
      says: [/must include openid/],
    },
    {
      label: 'a claim name with a space',
      options: { ...OIDC, config: { ...OIDC.config, oidcUsernameClaim: 'preferred username' } },
      key: 'oidcUsernameClaim',
      says: [/not a claim name/, /preferred_username/],
    },
    {
      label: 'ldapBindDN without ldapBindPassword',
      options: { config: { ldapAddress: 'ldap.example.org', ldapBaseDN: 'dc=example,dc=org', ldapBindDN: BIND_DN } },
      key: 'ldapBindPassword',
      says: [/is missing: ldapBindDN is set/, /pulumi config set --secret ldapBindPassword/, /anonymous/],
    },
    {
      label: 'ldapBindPassword without ldapBindDN',
      options: { ...LDAP, config: { ...LDAP.config, ldapBindDN: '' } },
      key: 'ldapBindDN',
      says: [/is missing/, /pulumi config set ldapBindDN/],
    },
    {
      label: 'an LDAP key without an address',
      options: { config: { ldapBaseDN: 'dc=example,dc=org' } },
      key: 'ldapAddress',
      says: [/required once ldapBaseDN is set/, /pulumi config set ldapAddress/],
    },
    {
      label: 'an address without a base DN',
      options: { config: { ldapAddress: 'ldap.example.org' } },
      key: 'ldapBaseDN',
      says: [/required/, /ou=Users,dc=example,dc=org/],
    },
    {
      label: 'an address written as a URL',
      options: { ...LDAP, config: { ...LDAP.config, ldapAddress: 'ldaps://ldap.example.org:636' } },
      key: 'ldapAddress',
      says: [/is a URL/, /ldapStartTLS/, /ldapPort/],
    },
    {
      label: 'port 389 without StartTLS',
      options: { ...LDAP, config: { ...LDAP.config, ldapPort: 389 } },
      key: 'ldapPort',
      says: [/plain LDAP's port/, /ldapStartTLS true/],
    },
    {
      label: 'a port out of range',
      options: { ...LDAP, config: { ...LDAP.config, ldapPort: 70000 } },
      key: 'ldapPort',
      says: [/out of range/],
    },
    {
      label: 'a base DN that is no DN',
      options: { ...LDAP, config: { ...LDAP.config, ldapBaseDN: 'example.org' } },
      key: 'ldapBaseDN',
      says: [/not a distinguished name/],
    },
    {
      label: 'a filter without parentheses',
      options: { ...LDAP, config: { ...LDAP.config, ldapUserFilter: 'objectClass=person' } },
      key: 'ldapUserFilter',
      says: [/not an LDAP filter/, /balanced parentheses/],
    },
    {
      label: 'a boolean that is no boolean',
      options: { ...LDAP, config: { ...LDAP.config, ldapStartTLS: 'yes' } },
      key: 'ldapStartTLS',
      says: [/not a boolean/],
    },
  ];

  for (const { label, options, key, says } of cases) {
    it(`${label}: names "${key}"`, async () => {
      const err = await configError(options);
      expect(err.name).toBe('ConfigError');
      expect(err.message.startsWith(`Invalid config "${key}": `), err.message).toBe(true);
      for (const pattern of says) expect(err.message).toMatch(pattern);
      for (const secret of [CLIENT_SECRET, BIND_PASSWORD]) expect(err.message).not.toContain(secret);
    });
  }

  it('the same settings are accepted as they should be (so the cases above fail for the stated reason)', async () => {
    const rendered = await renderProgram({
      ...BOTH,
      config: { ...BOTH.config, oidcIssuer: 'http://dex.auth.svc.cluster.local:5556/dex', oidcAllowHttpIssuer: true, ldapStartTLS: true, ldapPort: 389 },
    });
    const auth = JSON.parse(configText(rendered)).http.auth;
    expect(auth.openid.providers.oidc.issuer).toBe('http://dex.auth.svc.cluster.local:5556/dex');
    expect(auth.ldap).toMatchObject({ port: 389, startTLS: true });
  });

  it('an issuer URL with a password in it is refused without echoing it', async () => {
    const err = await configError({ ...OIDC, config: { ...OIDC.config, oidcIssuer: 'https://admin:Hunter2-in-url@keycloak.example.com' } });
    expect(err.message).toMatch(/^Invalid config "oidcIssuer": holds a user name or password/);
    expect(err.message).not.toContain('Hunter2-in-url');
  });

  it('a secret with a stray line break or space, or empty, is refused without quoting it', () => {
    expect(secretProblem('ldapBindPassword', 'fine-value')).toBeUndefined();
    for (const [value, says] of [
      [`${BIND_PASSWORD}\n`, /line break/],
      [` ${BIND_PASSWORD}`, /space/],
      ['', /empty/],
    ] as const) {
      const problem = secretProblem('ldapBindPassword', value)!;
      expect(problem, JSON.stringify(value)).toMatch(says);
      expect(problem).toContain('pulumi config set --secret ldapBindPassword');
      expect(problem).not.toContain(BIND_PASSWORD);
    }
  });
});

describe('the stack config keys', () => {
  it('Pulumi.yaml declares every identity key with the type it is read as and an unset default', () => {
    const declared = projectConfig();
    const yamlType = { string: 'string', secret: 'string', boolean: 'boolean', integer: 'integer', array: 'array' } as const;
    const unset = { string: '', secret: '', boolean: false, integer: 0, array: [] } as const;
    for (const { key, type } of IDENTITY_KEYS) {
      expect(declared[key], key).toBeDefined();
      expect(declared[key]!.type, key).toBe(yamlType[type]);
      expect(declared[key]!.default, key).toEqual(unset[type]);
    }
    expect(IDENTITY_KEYS.map((k) => k.key)).toEqual(expect.arrayContaining(['oidcIssuer', 'oidcClientSecret', 'ldapBindDN', 'ldapBindPassword', 'apiKeys']));
  });

  it('the SDK still tells which keys were set with --secret (the plain-text check relies on it)', async () => {
    expect(typeof (pulumi.runtime as unknown as { isConfigSecret?: unknown }).isConfigSecret).toBe('function');
    // And the check passes a key that was set with --secret (the OIDC stack above renders).
    await expect(renderProgram(OIDC)).resolves.toBeDefined();
  });
});
