/**
 * Every file in test/fixtures/zot-configs/ loads (or fails) exactly as this table says: the
 * normalised values it must produce, the key paths it must warn about, and the lines of its
 * error. Fixtures are shaped like zot's published examples (examples/config-*.json in
 * project-zot/zot), written for perch.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type PerchConfig } from 'perch/config';

const DIR = join(__dirname, '..', 'fixtures', 'zot-configs');
const CWD = '/srv/perch';
const H = 3_600_000;

type DeepPartial<T> = { [K in keyof T]?: NonNullable<T[K]> extends object ? DeepPartial<NonNullable<T[K]>> : T[K] };

interface Row {
  file: string;
  config?: DeepPartial<PerchConfig>;
  /** Key paths the warnings name, in order; [] means none. */
  warnings?: string[];
  /** One pattern per error line, in order. */
  errors?: RegExp[];
  check?: (config: PerchConfig) => void;
}

const ROWS: Row[] = [
  {
    file: 'minimal.json',
    config: {
      distSpecVersion: '1.1.1',
      http: { address: '127.0.0.1', port: 8080, compat: [], readTimeoutMs: 60_000, writeTimeoutMs: 60_000 },
      storage: { rootDirectory: '/var/lib/registry', dedupe: true, gc: true, gcDelayMs: H, gcIntervalMs: H, commit: false, maxRepos: 0 },
      log: { level: 'debug' },
      extensions: {},
      perch: { auth: { challenge: 'basic', tokenKeyFile: '/secret/token.key', tokenKeyFileSet: false, tokenTTLSeconds: 300 }, uploadTTLMs: 24 * H, quota: { repositoryBytes: 0, totalBytes: 0 } },
    },
    warnings: [],
    check: (c) => {
      expect(c.http.auth).toBeUndefined();
      expect(c.http.tls).toBeUndefined();
      expect(c.storage.retention).toBeUndefined();
    },
  },
  {
    file: 'gc.json',
    config: { http: { address: '0.0.0.0', port: 5000 }, storage: { gc: true, gcDelayMs: 2 * H, gcIntervalMs: 30 * 60_000 }, log: { level: 'info' } },
    warnings: ['storage.gcTimeWindow'],
  },
  {
    // zot: with gc off, gcDelay and gcInterval not given are 0; "false" as a string is false.
    file: 'gc-off.json',
    config: { storage: { gc: false, gcDelayMs: 0, gcIntervalMs: 0, dedupe: false }, http: { port: 5000 } },
    warnings: [],
  },
  {
    file: 'metrics.json',
    config: { log: { level: 'warn' }, extensions: { metrics: { enable: true, prometheus: { path: '/custom/metrics' } } } },
    warnings: [],
  },
  {
    // zot: a present extension section is on unless it says enable: false; metrics path defaults to /metrics.
    file: 'metrics-defaults.json',
    config: { extensions: { metrics: { enable: true, prometheus: { path: '/metrics' } }, ui: { enable: true } } },
    warnings: [],
  },
  {
    file: 'policy.json',
    config: {
      http: {
        realm: 'roost',
        auth: { htpasswd: { path: '/secret/htpasswd' }, failDelay: 3 },
        accessControl: {
          groups: { builders: { users: ['ci-bot', 'release-bot'] }, readers: { users: ['auditor'] } },
          adminPolicy: { users: ['admin'], groups: [], actions: ['read', 'create', 'update', 'delete'] },
          metrics: { users: ['prometheus'] },
        },
      },
      log: { level: 'debug', output: '/var/log/perch.log', audit: '/var/log/perch-audit.log' },
    },
    warnings: [],
    check: (c) => {
      const repos = c.http.accessControl!.repositories;
      expect(Object.keys(repos)).toEqual(['**', 'scratch/**', 'roost-test/*']);
      expect(repos['**']).toEqual({
        policies: [
          { users: ['roost-test'], groups: [], actions: ['read', 'create', 'update'] },
          { users: [], groups: ['builders'], actions: ['read', 'create', 'update', 'delete'] },
        ],
        defaultPolicy: ['read'],
        anonymousPolicy: [],
      });
      // Group references are matched without regard to case, like the group names.
      expect(repos['roost-test/*'].policies[0].groups).toEqual(['readers']);
      expect(repos['roost-test/*'].anonymousPolicy).toEqual(['read']);
    },
  },
  {
    file: 'anonymous-authz.json',
    config: { http: { accessControl: { repositories: { '**': { anonymousPolicy: ['read'] }, 'sandbox/**': { anonymousPolicy: ['read', 'create', 'update'] } } } } },
    warnings: [],
    check: (c) => expect(c.http.auth).toBeUndefined(),
  },
  {
    // Relative TLS paths resolve against the working directory, as zot opens them.
    file: 'tls.json',
    config: { http: { port: 5443, tls: { cert: '/srv/perch/certs/server.crt', key: '/srv/perch/certs/server.key', cacert: '/srv/perch/certs/ca.crt' } } },
    warnings: [],
  },
  {
    file: 'ratelimit.json',
    config: { http: { ratelimit: { rate: 50, methods: [{ method: 'GET', rate: 20 }, { method: 'PUT', rate: 5 }] } } },
    warnings: [],
  },
  {
    file: 'docker-compat.json',
    config: { storage: { commit: true }, http: { compat: ['docker2s2'], externalUrl: 'https://registry.roost.example' } },
    warnings: [],
  },
  {
    file: 'retention.json',
    config: { storage: { gcIntervalMs: 24 * H, maxRepos: 200 } },
    warnings: ['storage.subPaths'],
    check: (c) => {
      expect(c.storage.retention).toEqual({
        dryRun: true,
        delay: H, // zot: retention.delay defaults to gcDelay
        policies: [
          {
            repositories: ['roost-test/*'],
            deleteReferrers: true,
            deleteUntagged: true,
            keepTags: [{ patterns: ['^1\\.\\d+\\.\\d+$'] }, { patterns: ['.*-rc'], pushedWithin: '168h', pushedWithinMs: 168 * H }],
          },
          {
            repositories: ['**'],
            deleteReferrers: false,
            deleteUntagged: false,
            keepTags: [{ patterns: [], mostRecentlyPushedCount: 5, mostRecentlyPulledCount: 3, pulledWithin: '720h', pulledWithinMs: 720 * H }],
            keepUntagged: { pushedWithin: '48h', pushedWithinMs: 48 * H },
          },
        ],
      });
    },
  },
  {
    // Every zot-only feature warns once at its top key; trust says enable: false, so it is simply off.
    file: 'extensions-zot-only.json',
    config: { extensions: { ui: { enable: true } } },
    warnings: ['storage.cacheDriver', 'http.allowOrigin', 'extensions.search', 'extensions.sync', 'extensions.scrub', 'extensions.lint', 'scheduler'],
  },
  // zot's object-storage examples (test/config/storage-driver.test.ts checks them in detail).
  { file: 'config-s3.json', config: { storage: { driver: { name: 's3', bucket: 'zot-storage', region: 'us-east-2', rootDirectory: 'zot' } } }, warnings: ['storage.cacheDriver'] },
  { file: 'config-gcs.json', config: { storage: { driver: { name: 'gcs', bucket: 'zot-storage', rootDirectory: 'zot' } } }, warnings: [] },
  { file: 'config-azure.json', config: { storage: { driver: { name: 'azure', accountName: 'myazurestorageaccount', container: 'zot-storage' } } }, warnings: [] },
  {
    file: 'perch-section.json',
    config: {
      storage: { rootDirectory: '/srv/perch/data' },
      http: { port: 0, auth: { htpasswd: { path: '/srv/perch/auth/htpasswd' } } },
      perch: {
        auth: { challenge: 'bearer', tokenKeyFile: '/srv/perch/auth/token.key', tokenKeyFileSet: true, tokenTTLSeconds: 5400 },
        uploadTTLMs: 90 * 60_000,
        quota: { repositoryBytes: 500 * 2 ** 20, totalBytes: 10 * 2 ** 30 },
        tlsSelfSigned: { hosts: ['localhost', '127.0.0.1', 'registry.roost.local'] },
      },
    },
    warnings: [],
  },
  {
    file: 'mixed-case.json',
    config: {
      storage: { rootDirectory: '/var/lib/registry', gcDelayMs: 45 * 60_000, dedupe: false },
      http: { address: '0.0.0.0', port: 5001, auth: { htpasswd: { path: '/secret/htpasswd' } } },
      log: { level: 'warn' },
      extensions: { metrics: { enable: true, prometheus: { path: '/metrics' } } },
      perch: { auth: { tokenTTLSeconds: 600 } },
    },
    warnings: [],
  },
  {
    file: 'example.yaml',
    config: {
      distSpecVersion: '1.1.1',
      http: { address: '0.0.0.0', port: 5000, realm: 'roost', auth: { failDelay: 2, htpasswd: { path: '/secret/htpasswd' } } },
      storage: { rootDirectory: '/var/lib/registry', gcDelayMs: 1.5 * H, gcIntervalMs: 6 * H },
      log: { level: 'info', output: '/var/log/perch.log' },
    },
    warnings: [],
  },
  {
    file: 'perch.yml',
    config: { http: { port: 5000, compat: ['docker2s2'] }, perch: { uploadTTLMs: 12 * H, quota: { totalBytes: 1e9, repositoryBytes: 104857600 } } },
    warnings: [],
  },
  {
    file: 'broken-typo.json',
    errors: [/storage\.gcDealy: unknown key.*Did you mean storage\.gcDelay\?/, /http\.adress: unknown key.*Did you mean http\.address\?.*Allowed here: address, externalUrl, port/],
  },
  {
    file: 'broken-misplaced.json',
    errors: [/storage\.port: unknown key.*It belongs at http\.port/, /^[^:]+: uploadTTL: unknown key.*in the top level\. It belongs at perch\.uploadTTL\./],
  },
  {
    // zot's login methods load as zot writes them (issue 15); each one is also run for real in test/auth.
    file: 'ldap.yaml',
    config: { http: { auth: { htpasswd: { path: '/secret/htpasswd' }, ldap: { address: 'ldap.example.org', port: 389, baseDN: 'ou=Users,dc=example,dc=org', userAttribute: 'uid' } } } },
    warnings: [],
  },
  { file: 'bearer.json', config: { http: { auth: { bearer: { realm: 'https://auth.example/token', service: 'registry', cert: '/certs/auth.crt', oidc: [] } } } }, warnings: [] },
  {
    file: 'openid-apikey.json',
    config: { http: { auth: { apikey: true, openid: { providers: { oidc: { issuer: 'https://id.example', clientId: 'zot', scopes: ['openid'], audiences: ['zot'] } } } } } },
    warnings: [],
  },
  {
    // zot's examples/config-ldap.json, adapted in LDAP address, port and credentials path (test/auth/ldap.test.ts runs it
    // against slapd from the repository root); from CWD the relative credentials file is not there.
    file: 'config-ldap.json',
    errors: [/http\.auth\.ldap\.credentialsFile: \/srv\/perch\/test\/fixtures\/zot-configs\/config-ldap-credentials\.json cannot be read \(ENOENT\)/],
  },
  {
    // Not a config: the credentials file config-ldap.json names (zot's LDAPCredentials shape).
    file: 'config-ldap-credentials.json',
    errors: [/bindDN: unknown key.*http\.auth\.ldap\.bindDN/, /bindPassword: unknown key.*http\.auth\.ldap\.bindPassword/],
  },
  {
    file: 'config-mtls.json',
    config: { http: { realm: 'zot', tls: { cert: '/srv/perch/test/data/server.cert', key: '/srv/perch/test/data/server.key', cacert: '/srv/perch/test/data/ca.crt' }, auth: { mtls: { identityAttributes: ['commonname'], uriSanIndex: 0, dnsSanIndex: 0, emailSanIndex: 0 } } } },
    warnings: [],
  },
  { file: 'config-mtls-spiffe.json', config: { http: { auth: { mtls: { identityAttributes: ['uri', 'commonname'], uriSanPattern: 'spiffe://example.org/workload/(.*)' } } } }, warnings: [] },
  { file: 'config-bearer-auth.json', config: { http: { auth: { bearer: { realm: 'https://auth.myreg.io/auth/token', service: 'myauth', cert: '/etc/zot/auth.crt', oidc: [] } } } }, warnings: [] },
  {
    // zot's examples/config-bearer-oidc-workload.json (Kubernetes service-account tokens); test/auth/oidc-bearer.test.ts runs it against a provider.
    file: 'config-bearer-oidc-workload.json',
    config: { http: { auth: { bearer: { realm: 'zot', service: 'zot-service', oidc: [{ issuer: 'http://127.0.0.1:5556', audiences: ['zot', 'https://zot.example.com'], claimMapping: { username: 'claims.sub' }, skipIssuerVerification: false }] } } } },
    warnings: [],
  },
  {
    // zot's examples/config-openid.json: GitHub (OAuth2, no issuer) is left out with a warning; the credentials files
    // are relative to zot's source tree (test/auth/zot-openid-examples.test.ts runs it with them in place).
    file: 'config-openid.json',
    errors: [
      /http\.auth\.openid\.providers\.google\.credentialsFile: \/srv\/perch\/examples\/config-openid-google-credentials\.json cannot be read \(ENOENT\)/,
      /http\.auth\.openid\.providers\.gitlab\.credentialsFile: .* cannot be read/,
      /http\.auth\.openid\.providers\.oidc\.credentialsFile: .* cannot be read/,
    ],
  },
  {
    // zot's examples/config-openid-claim-mapping.json (test/auth/zot-openid-examples.test.ts runs it against a provider).
    file: 'config-openid-claim-mapping.json',
    errors: [/http\.auth\.openid\.providers\.oidc\.credentialsFile: \/srv\/perch\/examples\/config-openid-oidc-credentials\.json cannot be read \(ENOENT\); mount the Secret/],
  },
  {
    // zot's examples/config-metrics-authn-anonymous-access.json (test/metrics runs it: anyone reads /metrics, the rest needs a login).
    file: 'config-metrics-authn-anonymous-access.json',
    config: { http: { auth: { htpasswd: { path: '/tmp/zot-test-htpasswd' } } } },
    warnings: [],
  },
  { file: 'mtls.json', config: { http: { auth: { mtls: { identityAttributes: ['commonname'] } } } }, warnings: [] },
  {
    file: 'broken-policy-conditions.json',
    errors: [
      /http\.accessControl\.repositories\["prod\/\*\*"\]\.policies\[0\]\.conditions: perch does not implement zot's policy conditions/,
    ],
  },
  {
    // Every bad value in the file is reported at once, each with what is allowed.
    file: 'broken-values.json',
    errors: [
      /storage\.gcDelay: expected a duration such as "90s".*got number 3600 \(a bare number would be nanoseconds in zot\)/,
      /storage\.gcInterval: expected a duration.*got the string "an hour"/,
      /storage\.dedupe: expected true or false, got the string "maybe"/,
      /http\.port: expected a whole number from 0 to 65535, got the string "70000"/,
      /http\.compat: "docker2s1" is not a compatibility mode; zot knows "docker2s2"/,
      /http\.externalUrl: "registry\.example" is not a base URL/,
      /log\.level: "verbose" is not allowed; use one of "debug", "trace", "info", "warn", "warning", "error", "fatal", "panic"/,
      /extensions\.metrics\.prometheus\.path: "\/v2\/metrics" would hide the registry API/,
      /perch\.auth\.challenge: "digest" is not allowed; use one of "basic", "bearer"/,
      /perch\.auth\.tokenTTL: must be at least 1s, got "500ms"/,
      /perch\.quota\.totalBytes: expected a number of bytes or a size such as "500Mi"/,
    ],
  },
  {
    file: 'broken-access-control.json',
    errors: [
      /http\.accessControl: grants access to users .* but no login is configured; add a login method to http\.auth/,
      /http\.accessControl\.repositories\["team\/\[abc"\]: the repository pattern is not a valid glob: a "\[" has no closing "\]"/,
      /policies\[0\]\.actions: "push" is not an action; zot's actions are "read", "create", "update", "delete"/,
    ],
  },
  {
    file: 'broken-tls.json',
    errors: [
      /http\.tls\.key: is missing; http\.tls needs both cert and key/,
      /http\.auth\.htpasswd\.path: is missing or empty/,
      /perch\.tls\.selfSigned: conflicts with http\.tls/,
    ],
  },
  { file: 'broken-duplicate.json', errors: [/http\.Port: given twice \(as "port" and "Port"\); zot reads keys without regard to case/] },
  { file: 'broken-syntax.json', errors: [/broken-syntax\.json: not valid JSON: /] },
  { file: 'broken-syntax.yaml', errors: [/broken-syntax\.yaml: not valid YAML: Map keys must be unique/] },
  {
    file: 'broken-shape.json',
    errors: [
      /storage: expected a section with keys such as rootDirectory.*got the string "\/var\/lib\/registry"/,
      /http\.compat: expected a list of text values, got a section/,
      /extensions\.sync\.registries: expected a list, got a section/,
    ],
  },
  { file: 'broken-empty.json', errors: [/broken-empty\.json: the file is empty/] },
  { file: 'broken-top-level.json', errors: [/expected a config object at the top level .* got a list/] },
];

function load(file: string) {
  return loadConfig(join(DIR, file), { cwd: CWD });
}

describe('zot-format fixtures', () => {
  it('the table covers every fixture file', () => {
    expect(ROWS.map((r) => r.file).sort()).toEqual(readdirSync(DIR).sort());
  });

  for (const row of ROWS.filter((r) => !r.errors)) {
    it(`${row.file} loads`, () => {
      const { config, warnings } = load(row.file);
      if (row.config) expect(config).toMatchObject(row.config);
      const warned = warnings.map((w) => w.slice(join(DIR, row.file).length + 2).split(': ')[0]);
      expect(warned).toEqual(row.warnings);
      for (const w of warnings) expect(w).toMatch(/: ignored: perch does not implement zot's .+; the registry runs without it$/);
      row.check?.(config);
    });
  }

  for (const row of ROWS.filter((r) => r.errors)) {
    it(`${row.file} is refused`, () => {
      let error: unknown;
      try {
        load(row.file);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const lines = (error as ConfigError).message.split('\n');
      // Every line names the file first.
      for (const line of lines) expect(line.startsWith(join(DIR, row.file) + ': ')).toBe(true);
      expect(lines).toHaveLength(row.errors!.length);
      row.errors!.forEach((pattern, i) => expect(lines[i]).toMatch(pattern));
    });
  }
});
