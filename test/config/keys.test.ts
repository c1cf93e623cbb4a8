/**
 * The key rules of DESIGN.md "Config": zot keys in any case, zot-only keys warn, security keys
 * and unknown keys are errors, perch's own keys live under `perch`; plus defaults, path
 * resolution and file formats.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, loadConfig, parseConfig, type LoadedConfig } from 'perch/config';
import { ZOT_KEYS, type KeyNode } from '../../registry-image/src/config/known-keys';
import { tempDir } from '../helpers/temp-dir';

const ROOT = resolve(__dirname, '..', '..');

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, 'config.json', { cwd: '/srv' });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  throw new Error('expected the config to be refused');
}

const parse = (raw: unknown): LoadedConfig => parseConfig(raw, 'config.json', { cwd: '/srv' });

describe('keys are matched without regard to case, as zot (viper) does', () => {
  const spellings = [
    { http: { port: '5005' }, storage: { gcdelay: '5m' } },
    { HTTP: { PORT: '5005' }, STORAGE: { GCDELAY: '5m' } },
    { Http: { Port: 5005 }, Storage: { GcDelay: '5m' } },
  ];
  for (const raw of spellings) {
    it(JSON.stringify(raw), () => {
      const { config } = parse(raw);
      expect(config.http.port).toBe(5005);
      expect(config.storage.gcDelayMs).toBe(300_000);
    });
  }

  it('messages name the key as the file spells it', () => {
    expect(problems({ HTTP: { PORT: 'x' } })).toEqual(['HTTP.PORT: expected a whole number from 0 to 65535, got the string "x"']);
  });

  it('repository patterns and group names are lowercased, as viper does to every key', () => {
    const { config } = parse({
      http: { auth: { htpasswd: { path: 'h' } }, accessControl: { groups: { Ops: { users: ['Ann'] } }, repositories: { 'Team/**': { defaultPolicy: ['READ'] } } } },
    });
    expect(config.http.accessControl?.groups).toEqual({ ops: { users: ['Ann'] } });
    expect(config.http.accessControl?.repositories).toEqual({ 'team/**': { policies: [], defaultPolicy: ['read'], anonymousPolicy: [] } });
  });

  it('two entries that differ only in case are an error (zot would silently keep one)', () => {
    expect(problems({ http: { accessControl: { repositories: { 'a/**': { anonymousPolicy: ['read'] }, 'A/**': { anonymousPolicy: ['read'] } } } } })).toEqual([
      'http.accessControl.repositories["A/**"]: "a/**" and "A/**" differ only in case; zot reads keys without regard to case, so keep one',
    ]);
  });
});

describe('a key neither zot nor perch knows is an error naming it', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['top level', { htp: {} }, /^htp: unknown key: .* in the top level\. Did you mean http\?/],
    ['inside a list', { storage: { retention: { policies: [{ repository: ['**'] }] } } }, /^storage\.retention\.policies\[0\]\.repository: unknown key.* Did you mean storage\.retention\.policies\[0\]\.repositories\?/],
    ['inside named entries', { http: { accessControl: { repositories: { '**': { anonymouspolicy: ['read'], defaultPolice: ['read'] } } } } }, /^http\.accessControl\.repositories\["\*\*"\]\.defaultPolice: unknown key.* Did you mean .*\.defaultPolicy\?/],
    ['inside a zot-only section perch ignores', { extensions: { sync: { registries: [{ url: ['https://x'] }] } } }, /^extensions\.sync\.registries\[0\]\.url: unknown key.* Did you mean extensions\.sync\.registries\[0\]\.urls\?/],
    ['inside the perch section', { perch: { quota: { bytes: 1 } } }, /^perch\.quota\.bytes: unknown key.*Allowed here: repositoryBytes, totalBytes\.$/],
    ['a perch key outside its section', { storage: { quota: {} } }, /^storage\.quota: unknown key.* It belongs at perch\.quota\./],
  ];
  for (const [where, raw, pattern] of cases) {
    it(where, () => {
      const found = problems(raw);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(pattern);
    });
  }

  it('storage.storageDriver keys are checked (a typo is named); distribution\'s tuning keys warn', () => {
    expect(problems({ storage: { storageDriver: { name: 's3', bucket: 'b', region: 'r', buckt: 'x' } } })[0]).toMatch(/storage\.storageDriver\.buckt: unknown key.*Did you mean storage\.storageDriver\.bucket\?/);
    const { warnings } = parse({ storage: { storageDriver: { name: 's3', bucket: 'b', region: 'r', chunksize: 10485760 } } });
    expect(warnings).toEqual([expect.stringMatching(/^config\.json: storage\.storageDriver\.chunksize: ignored: /)]);
  });
});

describe('zot keys perch does not implement', () => {
  const warned: Array<[string, unknown]> = [
    ['extensions.search', { extensions: { search: { enable: true } } }],
    ['extensions.sync', { extensions: { sync: { enable: true } } }],
    ['extensions.scrub', { extensions: { scrub: {} } }],
    ['extensions.lint', { extensions: { lint: { mandatoryAnnotations: ['a'] } } }],
    ['extensions.events', { extensions: { events: { sinks: [{ type: 'http', address: 'x' }] } } }],
    ['scheduler', { scheduler: { numWorkers: 2 } }],
    ['cluster', { cluster: { members: ['a:1', 'b:2'], hashKey: 'k' } }],
    ['storage.subPaths', { storage: { subPaths: { '/a': { rootDirectory: '/a' } } } }],
    ['storage.cacheDriver', { storage: { cacheDriver: { name: 'boltdb' } } }],
    ['storage.remoteCache', { storage: { remoteCache: true } }],
    ['http.allowOrigin', { http: { allowOrigin: '*' } }],
  ];
  for (const [path, raw] of warned) {
    it(`${path} loads with one warning naming it`, () => {
      const { warnings } = parse(raw);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(new RegExp(`^config\\.json: ${path.replace(/\./g, '\\.')}: ignored: perch does not implement zot's `));
    });
  }

  it('http.readTimeout and http.writeTimeout are read as Go durations of at least a second', () => {
    const { config, warnings } = parse({ http: { readTimeout: '30s', writeTimeout: '2m' } });
    expect(warnings).toEqual([]);
    expect(config.http).toMatchObject({ readTimeoutMs: 30_000, writeTimeoutMs: 120_000 });
    expect(problems({ http: { readTimeout: '10ms' } })).toEqual([expect.stringContaining('http.readTimeout: must be at least 1s')]);
    expect(problems({ http: { writeTimeout: 'soon' } })).toHaveLength(1);
  });

  it('a zot-only extension switched off says nothing', () => {
    expect(parse({ extensions: { search: { enable: false }, sync: { Enable: 'false' } } }).warnings).toEqual([]);
  });

  const refused: Array<[string, unknown]> = [
    ['http.auth.bearer.upstreamTokenEndpoint', { http: { auth: { bearer: { realm: 'r', service: 's', cert: 'c', upstreamTokenEndpoint: { realm: 'u' } } } } }],
    ['http.auth.openid.providers.github.authurl', { http: { auth: { openid: { providers: { github: { issuer: 'https://gh.example', clientid: 'c', authurl: 'https://gh.example/auth' } } } } } }],
    ['http.accessControl.adminPolicy.conditions', { http: { auth: { htpasswd: { path: 'h' } }, accessControl: { adminPolicy: { users: ['a'], actions: ['read'], conditions: [{ expression: 'true' }] } } } }],
  ];
  for (const [path, raw] of refused) {
    it(`${path} is refused: ignoring it would weaken security`, () => {
      const found = problems(raw);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(new RegExp(`^${path.replace(/\./g, '\\.')}: perch does not implement zot's .* so this config is refused\\. Remove the key`));
    });
  }

  it('a security key that says "off" is the same as absent', () => {
    const { config, warnings } = parse({ http: { auth: { htpasswd: { path: 'h' }, apikey: false, ldap: null }, accessControl: { adminPolicy: { users: ['a'], actions: ['read'], conditions: [] } } } });
    expect(warnings).toEqual([]);
    expect(config.http.auth?.htpasswd?.path).toBe('/srv/h');
  });
});

describe('zot\'s login methods (http.auth)', () => {
  it('each loads in zot\'s shape, with paths resolved', () => {
    const { config, warnings } = parse({
      http: {
        auth: {
          ldap: { address: 'ldap.test', baseDN: 'dc=t', userAttribute: 'uid', startTLS: true, bindDN: 'cn=s', bindPassword: 'p', cacheTTL: '5s' },
          openid: { providers: { keycloak: { issuer: 'https://kc.test/realms/r/', clientid: 'perch', scopes: ['openid', 'groups'], claimMapping: { username: 'preferred_username' } } } },
          apikey: true,
          mtls: { identityAttributes: ['URI', 'CommonName'], uriSanPattern: 'spiffe://t/(.*)' },
          bearer: { realm: 'https://auth.test/token', service: 'reg', cert: 'issuer.pem', oidc: [{ issuer: 'https://k8s.test', audiences: ['perch'] }] },
          sessionKeysFile: 'keys.json',
        },
        tls: { cert: 'server.crt', key: 'server.key', cacert: 'ca.crt' },
        accessControl: { metrics: { anonymousPolicy: ['read'] } },
      },
    });
    expect(warnings).toEqual([]);
    expect(config.http.auth).toMatchObject({
      ldap: { address: 'ldap.test', port: 389, startTLS: true, bindDN: 'cn=s', bindPassword: 'p', cacheTtlMs: 5000 },
      openid: { providers: { keycloak: { issuer: 'https://kc.test/realms/r', clientId: 'perch', audiences: ['perch'], claimMapping: { username: 'preferred_username', groups: 'groups' } } } },
      apikey: true,
      mtls: { identityAttributes: ['uri', 'commonname'], uriSanPattern: 'spiffe://t/(.*)' },
      bearer: { cert: '/srv/issuer.pem', oidc: [{ issuer: 'https://k8s.test', audiences: ['perch'], claimMapping: { username: "claims.iss + '/' + claims.sub" } }] },
      sessionKeysFile: '/srv/keys.json',
    });
    expect(config.http.accessControl?.metrics).toEqual({ users: [], anonymousRead: true });
  });

  it('what a method cannot work without is named, with the fix', () => {
    expect(problems({ http: { auth: { ldap: {} } } })).toEqual([
      expect.stringContaining('http.auth.ldap.address: is missing'),
      expect.stringContaining('http.auth.ldap.baseDN: is missing'),
      expect.stringContaining('http.auth.ldap.userAttribute: is missing'),
    ]);
    expect(problems({ http: { auth: { openid: { providers: { x: { clientid: 'c', scopes: ['email'] } } } } } })).toEqual([
      expect.stringContaining('http.auth.openid.providers.x.issuer: is missing'),
      expect.stringContaining('must include "openid"'),
    ]);
    // GitHub's OAuth2 sign-in (no issuer) is left out with a warning; alone it leaves no login, which is refused.
    expect(problems({ http: { auth: { openid: { providers: { github: { clientid: 'c', scopes: ['read:org'] } } } } } })).toEqual([
      expect.stringContaining('http.auth.openid.providers: names no OpenID Connect provider perch can use'),
    ]);
    const withGithub = parse({ http: { auth: { htpasswd: { path: 'h' }, openid: { providers: { github: { clientid: 'c' }, kc: { issuer: 'https://kc.test', clientid: 'p' } } } } } });
    expect(Object.keys(withGithub.config.http.auth?.openid?.providers ?? {})).toEqual(['kc']);
    expect(withGithub.warnings).toEqual([expect.stringContaining('http.auth.openid.providers.github: left out: perch signs in only with OpenID Connect providers')]);
    expect(problems({ http: { auth: { bearer: { realm: 'r' } } } })).toEqual([expect.stringContaining('http.auth.bearer: checks no tokens: give cert')]);
    const tls = { cert: 'server.crt', key: 'server.key', cacert: 'ca.crt' };
    expect(problems({ http: { tls, auth: { mtls: { identityAttributes: ['Serial'] } } } })).toEqual([expect.stringContaining('"Serial" is not an identity attribute')]);
    // zot's other spellings are the same attributes.
    expect(parse({ http: { tls, auth: { mtls: { identityAttributes: ['CN', 'DN', 'rfc822Name', 'URL', 'DNS'] } } } }).config.http.auth?.mtls?.identityAttributes).toEqual(['commonname', 'subject', 'email', 'uri', 'dnsname']);
    expect(problems({ http: { auth: { mtls: {} } } })).toEqual([expect.stringContaining('http.auth.mtls: needs http.tls with cert, key and cacert')]);
  });

  it('a credentials file that is missing is named; its content never is', () => {
    const found = problems({ http: { auth: { ldap: { address: 'l', baseDN: 'b', userAttribute: 'uid', credentialsFile: 'no-such.json' } } } });
    expect(found).toEqual([expect.stringMatching(/http\.auth\.ldap\.credentialsFile: \/srv\/no-such\.json cannot be read \(ENOENT\)/)]);
  });
});

describe('the perch section', () => {
  it('has the documented defaults when absent', () => {
    expect(parse({}).config.perch).toEqual({
      auth: { challenge: 'basic', tokenKeyFile: '/secret/token.key', tokenKeyFileSet: false, tokenTTLSeconds: 300 },
      uploadTTLMs: 86_400_000,
      quota: { repositoryBytes: 0, totalBytes: 0 },
    });
  });

  it('selfSigned without hosts covers localhost', () => {
    expect(parse({ perch: { tls: { selfSigned: {} } } }).config.perch.tlsSelfSigned).toEqual({ hosts: ['localhost', '127.0.0.1'] });
  });

  it('a bearer challenge needs htpasswd to check credentials against', () => {
    expect(problems({ perch: { auth: { challenge: 'Bearer' } } })).toEqual([
      'perch.auth.challenge: "bearer" needs http.auth.htpasswd.path or http.auth.ldap: the token service checks those credentials before it issues a token',
    ]);
  });

  it('extensions.trust and perch.trust: defaults as zot has them, the pull policy needs cosign and a login, globs must compile', () => {
    expect(parse({ extensions: { trust: {} } }).config.extensions.trust).toEqual({ enable: true, cosign: false, notation: false });
    const loaded = parse({ extensions: { trust: { cosign: true } }, perch: { trust: { cosignKeys: ['keys/ci.pub'] } } });
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config.perch.trust?.cosignKeys[0]).toMatch(/^\/.*keys\/ci\.pub$/);
    expect(problems({ perch: { trust: { requireSignature: ['prod/**'] } } })).toEqual([
      'perch.trust.requireSignature: needs "extensions": {"trust": {"enable": true, "cosign": true}}: without cosign verification no image could ever be pulled from those repositories',
    ]);
    expect(problems({ extensions: { trust: { cosign: true } }, perch: { trust: { requireSignature: ['prod/**'] } } })[0]).toContain('needs a login (http.auth');
    expect(problems({ extensions: { trust: { cosign: true } }, http: { auth: { htpasswd: { path: '/x' } } }, perch: { trust: { requireSignature: ['prod/[a'] } } })[0]).toMatch(/^perch\.trust\.requireSignature: "prod\/\[a" /);
  });

  it('token lifetimes are whole seconds', () => {
    expect(parse({ perch: { auth: { tokenTTL: '90.5s' } } }).config.perch.auth.tokenTTLSeconds).toBe(90);
  });
});

describe('defaults and files', () => {
  const dir = tempDir('perch-config-');

  it('no path: port 5000 on 0.0.0.0, storage ./.perch-data under the working directory, log level info', () => {
    const { config, warnings } = loadConfig(undefined, { cwd: '/work/here' });
    expect(warnings).toEqual([]);
    expect(config).toEqual(defaultConfig('/work/here'));
    expect(config.http).toEqual({ address: '0.0.0.0', port: 5000, compat: [], readTimeoutMs: 60_000, writeTimeoutMs: 60_000 });
    expect(config.storage.rootDirectory).toBe('/work/here/.perch-data');
    expect(config.log).toEqual({ level: 'info' });
  });

  it('an empty object gets the same defaults', () => {
    expect(parse({}).config).toEqual(defaultConfig('/srv'));
  });

  it('relative paths resolve against the working directory; absolute ones stay', () => {
    const { config } = parse({ storage: { rootDirectory: 'data' }, http: { auth: { htpasswd: { path: '/etc/htpasswd' } } }, log: { output: 'logs/perch.log' } });
    expect([config.storage.rootDirectory, config.http.auth?.htpasswd?.path, config.log.output]).toEqual(['/srv/data', '/etc/htpasswd', '/srv/logs/perch.log']);
  });

  it('a file without a known extension is read as JSON, or else YAML', () => {
    writeFileSync(join(dir, 'zot-json'), '{"http":{"port":"6000"}}');
    writeFileSync(join(dir, 'zot-yaml'), 'http:\n  port: 6001\n');
    expect(loadConfig(join(dir, 'zot-json')).config.http.port).toBe(6000);
    expect(loadConfig(join(dir, 'zot-yaml')).config.http.port).toBe(6001);
  });

  it('a missing file says so and what to pass', () => {
    expect(() => loadConfig(join(dir, 'nope.json'))).toThrow(/nope\.json: cannot read the config file \(no such file\); pass the path of a zot-format config\.json/);
  });

  it('importing the loader does not load the yaml package until a YAML file is read', () => {
    const bundle = join(dir, 'config.js');
    execFileSync(join(ROOT, 'node_modules', '.bin', 'esbuild'), [join(ROOT, 'registry-image/src/config/index.ts'), '--bundle', '--platform=node', '--external:yaml', `--outfile=${bundle}`]);
    writeFileSync(join(dir, 'c.json'), '{}');
    writeFileSync(join(dir, 'c.yaml'), 'log: {level: info}\n');
    const script = `
      const { loadConfig } = require(${JSON.stringify(bundle)});
      const yamlLoaded = () => Object.keys(require.cache).some((k) => k.includes('/node_modules/yaml/'));
      loadConfig(${JSON.stringify(join(dir, 'c.json'))});
      const afterJson = yamlLoaded();
      loadConfig(${JSON.stringify(join(dir, 'c.yaml'))});
      console.log(JSON.stringify([afterJson, yamlLoaded()]));`;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') } });
    expect(JSON.parse(out)).toEqual([false, true]);
  });
});

describe('docs/config.md', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'config.md'), 'utf8');

  /** Every key perch reads, every key it warns about, every key it refuses, in the docs' notation. */
  function documentedPaths(node: KeyNode, path: string, inheritedIgnored: boolean, out: string[]): string[] {
    const ignored = node.status === 'ignored';
    if (path && !inheritedIgnored && (node.kind === 'value' || node.kind === 'free' || node.status === 'ignored' || node.status === 'refused')) out.push(path);
    if (ignored || node.status === 'refused') return out;
    if (node.kind === 'object') for (const [k, child] of Object.entries(node.keys)) documentedPaths(child, path ? `${path}.${k}` : k, inheritedIgnored, out);
    if (node.kind === 'map') documentedPaths(node.value, `${path}.<name>`, inheritedIgnored, out);
    if (node.kind === 'list') documentedPaths(node.item, `${path}[]`, inheritedIgnored, out);
    return out;
  }

  it('documents every key the loader knows about', () => {
    const paths = documentedPaths(ZOT_KEYS, '', false, []);
    expect(paths.length).toBeGreaterThan(60);
    expect(paths.filter((p) => !doc.includes('`' + p + '`'))).toEqual([]);
  });

  it('cites the zot commit the key set was read from', () => {
    expect(doc).toContain('6d19b445fed1c86c23fb7b351fac07cfd4717402');
  });
});
