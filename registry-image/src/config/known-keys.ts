/**
 * Every key zot's config knows, and what perch does with each one.
 *
 * Read from zot's own structs at commit 6d19b445fed1c86c23fb7b351fac07cfd4717402
 * (v2.1.20-25-g6d19b445, 2026-08-21):
 *   pkg/api/config/config.go             Config, StorageConfig, HTTPConfig, AuthConfig, AccessControlConfig, ...
 *   pkg/extensions/config/config.go      ExtensionConfig (search, sync, metrics, scrub, lint, ui, mgmt, apikey, trust, events)
 *   pkg/extensions/config/sync/config.go sync.Config, RegistryConfig, Content, Tags
 *   pkg/cli/server/root.go               LoadConfiguration: viper (which lowercases every key, so matching is
 *                                        case-insensitive) then UnmarshalExact (so unknown keys are refused)
 *
 * The spelling here is the one zot's examples use; any case is accepted when reading.
 *
 * Status, per DESIGN.md "Config":
 *   implemented  perch reads it.
 *   ignored      zot has it, perch does not implement it: the config loads with a warning naming it.
 *   refused      zot has it, perch does not implement it, and ignoring it would weaken security
 *                (an auth method, a part of access control): an error until perch implements it.
 *   perch        perch's own section; zot refuses a config that has it.
 * A node without a status inherits its parent's. Children of an ignored node are still checked for
 * spelling (a key zot does not know is an error everywhere), but they warn only once, at the top.
 */

export type KeyStatus = 'implemented' | 'ignored' | 'refused' | 'perch';

interface NodeBase {
  status?: KeyStatus;
  /** For ignored and refused keys: what the key is in zot, said in the warning or error. */
  what?: string;
  /** For refused keys: what to do instead, said in the error. */
  instead?: string;
}

/** A section with fixed key names. */
export interface ObjectNode extends NodeBase {
  kind: 'object';
  keys: Record<string, KeyNode>;
}
/** A section whose keys the user names (repository globs, group names, sub-path routes). */
export interface MapNode extends NodeBase {
  kind: 'map';
  value: KeyNode;
}
/** A list of sections. */
export interface ListNode extends NodeBase {
  kind: 'list';
  item: KeyNode;
}
/** A scalar or a list of scalars. */
export interface ValueNode extends NodeBase {
  kind: 'value';
}
/** Free-form content zot hands to a driver without checking its keys (storageDriver, sinks, ...). */
export interface FreeNode extends NodeBase {
  kind: 'free';
}

export type KeyNode = ObjectNode | MapNode | ListNode | ValueNode | FreeNode;

const value = (status?: KeyStatus, what?: string, instead?: string): ValueNode => ({ kind: 'value', status, what, instead });
const free = (status?: KeyStatus, what?: string, instead?: string): FreeNode => ({ kind: 'free', status, what, instead });
const obj = (keys: Record<string, KeyNode>, status?: KeyStatus, what?: string): ObjectNode => ({ kind: 'object', keys, status, what });
const map = (node: KeyNode, status?: KeyStatus, what?: string): MapNode => ({ kind: 'map', value: node, status, what });
const list = (item: KeyNode): ListNode => ({ kind: 'list', item });

const ignored = (what: string) => value('ignored', what);

/** zot's KeepTagsPolicy and KeepUntaggedPolicy share these. */
const keepRules = () => ({
  pulledWithin: value(),
  pushedWithin: value(),
  mostRecentlyPushedCount: value(),
  mostRecentlyPulledCount: value(),
});

const retention = () =>
  obj({
    dryRun: value(),
    delay: value(),
    policies: list(
      obj({
        repositories: value(),
        deleteReferrers: value(),
        deleteUntagged: value(),
        keepTags: list(obj({ patterns: value(), ...keepRules() })),
        keepUntagged: obj(keepRules()),
      }),
    ),
  });

/**
 * zot's `storage.storageDriver`, handed to distribution's s3, gcs and azure drivers: their key
 * spellings (read by config/read-storage-driver.ts); tuning keys those drivers have and perch's
 * drivers choose for themselves are accepted and ignored.
 */
const storageDriverKeys = () => {
  const tuning = (what: string) => ignored(`${what} (perch's object-storage drivers choose it themselves)`);
  return obj({
    name: value(),
    rootdirectory: value(),
    // s3
    region: value(),
    regionendpoint: value(),
    bucket: value(),
    forcepathstyle: value(),
    secure: value(),
    skipverify: value(),
    accesskey: value(),
    secretkey: value(),
    sessiontoken: value(),
    v4auth: ignored('S3 signature version switch (perch always signs with Signature Version 4)'),
    chunksize: tuning('the multipart chunk size'),
    multipartcopychunksize: tuning('the multipart copy chunk size'),
    multipartcopymaxconcurrency: tuning('the multipart copy concurrency'),
    multipartcopythresholdsize: tuning('the multipart copy threshold'),
    maxrequestspersecond: tuning('the request rate limit'),
    maxretries: tuning('the retry count'),
    storageclass: ignored('S3 storage class (objects get the bucket\'s default class)'),
    encrypt: ignored('S3 server-side encryption switch (use the bucket\'s default encryption)'),
    keyid: ignored('S3 KMS key id (use the bucket\'s default encryption)'),
    usedualstack: ignored('S3 dual-stack endpoints'),
    accelerate: ignored('S3 transfer acceleration'),
    loglevel: ignored('AWS SDK log level'),
    // gcs
    credentialsfile: value(),
    keyfile: value(),
    endpoint: value(),
    // azure
    accountname: value(),
    accountkey: value(),
    container: value(),
    realm: value(),
    serviceurl: value(),
    credentials: obj({ type: value(), clientid: ignored('Azure client id (use workload identity)'), tenantid: ignored('Azure tenant id (use workload identity)'), secret: ignored('Azure client secret (use workload identity)') }),
  });
};

/** zot's StorageConfig, also the shape of each `storage.subPaths` entry. */
const storageKeys = (): Record<string, KeyNode> => ({
  rootDirectory: value(),
  maxRepos: value(),
  dedupe: value(),
  remoteCache: ignored('remote (shared) dedupe cache'),
  redirectBlobURL: value(),
  gc: value(),
  commit: value(),
  gcDelay: value(),
  gcInterval: value(),
  gcTimeWindow: ignored('garbage-collection time window'),
  retention: retention(),
  storageDriver: storageDriverKeys(),
  cacheDriver: free('ignored', 'dedupe cache driver (boltdb, redis, dynamodb)'),
});

const policyKeys = (): Record<string, KeyNode> => ({
  users: value(),
  actions: value(),
  groups: value(),
  // A condition narrows a grant; ignoring it would grant more than the config says.
  conditions: free(
    'refused',
    'policy conditions (CEL expressions that narrow a grant)',
    'express the rule with separate repository patterns and policies, or run zot for this config',
  ),
});

const tlsKeys = () => ({ cert: value(), key: value(), cacert: value() });

const enable = () => ({ enable: value() });

export const ZOT_KEYS: ObjectNode = obj(
  {
    distSpecVersion: value(),
    goVersion: ignored('build information (zot fills it in itself)'),
    commit: ignored('build information (zot fills it in itself; the fsync switch is storage.commit)'),
    releaseTag: ignored('build information (zot fills it in itself)'),
    binaryType: ignored('build information (zot fills it in itself)'),

    storage: obj({
      ...storageKeys(),
      subPaths: map(obj(storageKeys()), 'ignored', 'per-route storage (sub-paths); perch keeps every repository under storage.rootDirectory'),
      fastRestart: ignored('fast restart (skipping the start-up storage walk)'),
    }),

    http: obj({
      address: value(),
      externalUrl: value(),
      port: value(),
      allowOrigin: ignored('CORS allowed origin'),
      readTimeout: value(),
      writeTimeout: value(),
      tls: obj(tlsKeys()),
      auth: obj({
        failDelay: value(),
        htpasswd: obj({ path: value() }),
        ldap: obj({
          credentialsFile: value(),
          address: value(),
          port: value(),
          insecure: value(),
          startTLS: value(),
          skipVerify: value(),
          subtreeSearch: value(),
          baseDN: value(),
          userAttribute: value(),
          userFilter: value(),
          userGroupAttribute: value(),
          caCert: value(),
          // zot reads these only from credentialsFile; perch takes them inline too (tests, Pulumi).
          bindDN: value('perch'),
          bindPassword: value('perch'),
          cacheTTL: value('perch'),
        }),
        bearer: obj({
          realm: value(),
          service: value(),
          cert: value(),
          oidc: list(
            obj({
              issuer: value(),
              audiences: value(),
              claimMapping: obj({
                username: value(),
                groups: value(),
                variables: free('refused', 'CEL claim variables', 'map the username and groups from claims directly'),
                validations: free('refused', 'CEL claim validations', 'limit who may do what with http.accessControl'),
              }),
              certificateAuthority: value(),
              certificateAuthorityFile: value(),
              skipIssuerVerification: value(),
            }),
          ),
          upstreamTokenEndpoint: free('refused', 'an upstream token endpoint', 'point clients at the issuer with realm, or run zot for this config'),
          awsSecretsManager: free('refused', 'bearer keys from AWS Secrets Manager', 'mount the issuer\'s certificate and name it in cert'),
        }),
        openid: obj({
          providers: map(
            obj({
              credentialsFile: value(),
              name: value(),
              clientid: value(),
              clientsecret: value(),
              keypath: ignored('OAuth2 key path'),
              issuer: value(),
              authurl: value('refused', 'OAuth2 (not OpenID Connect) providers such as GitHub', 'use an OpenID Connect provider with an issuer'),
              tokenurl: value('refused', 'OAuth2 (not OpenID Connect) providers such as GitHub', 'use an OpenID Connect provider with an issuer'),
              scopes: value(),
              audiences: value('perch'),
              claimMapping: obj({ username: value(), groups: value() }),
            }),
          ),
          callbackAllowOrigins: value(),
        }),
        apikey: value(),
        mtls: obj({
          identityAttributes: value(),
          uriSanPattern: value(),
          uriSanIndex: value(),
          dnsSanIndex: value(),
          emailSanIndex: value(),
        }),
        sessionKeysFile: value(),
        sessionDriver: free('ignored', 'session store for UI login sessions (perch keeps sessions in signed cookies)'),
        secureSession: value(),
      }),
      accessControl: obj({
        repositories: map(
          obj({
            policies: list(obj(policyKeys())),
            defaultPolicy: value(),
            anonymousPolicy: value(),
          }),
        ),
        adminPolicy: obj(policyKeys()),
        groups: map(obj({ users: value() })),
        metrics: obj({
          users: value(),
          anonymousPolicy: value(),
        }),
      }),
      realm: value(),
      ratelimit: obj({
        rate: value(),
        methods: list(obj({ method: value(), rate: value() })),
      }),
      compat: value(),
    }),

    log: obj({ level: value(), output: value(), audit: value() }),

    extensions: obj({
      search: obj(
        {
          ...enable(),
          cve: obj({
            updateInterval: value(),
            trivy: obj({
              dbRepository: value(),
              javaDBRepository: value(),
              vulnSeveritySources: value(),
              sbom: obj({ enable: value(), format: value() }),
            }),
          }),
        },
        'ignored',
        'search extension (GraphQL search, CVE scanning)',
      ),
      sync: obj(
        {
          ...enable(),
          credentialsFile: value(),
          downloadDir: value(),
          registries: list(
            obj({
              urls: value(),
              pollInterval: value(),
              content: list(
                obj({
                  prefix: value(),
                  tags: obj({ regex: value(), excludeRegex: value(), semver: value() }),
                  destination: value(),
                  stripPrefix: value(),
                }),
              ),
              tlsVerify: value(),
              onDemand: value(),
              manifestCheckInterval: value(),
              certDir: value(),
              maxRetries: value(),
              retryDelay: value(),
              maxRetryDelay: value(),
              onlySigned: value(),
              syncLegacyCosignTags: value(),
              credentialHelper: value(),
              oauth2CredentialHelper: free(),
              preserveDigest: value(),
              syncTimeout: value(),
              reqConcurrent: value(),
              reqPerSec: value(),
              disableHTTP2: value(),
              maxIdleConnsPerHost: value(),
            }),
          ),
        },
        'ignored',
        'sync extension (mirroring other registries)',
      ),
      metrics: obj({ ...enable(), prometheus: obj({ path: value() }) }),
      scrub: obj({ ...enable(), interval: value() }, 'ignored', 'scrub extension (periodic integrity checks)'),
      lint: obj({ ...enable(), mandatoryAnnotations: value() }, 'ignored', 'lint extension (mandatory annotations)'),
      ui: obj(enable()),
      mgmt: obj(enable(), 'ignored', 'mgmt extension (zot itself ignores it now)'),
      apikey: obj(enable(), 'ignored', 'apikey extension (zot itself ignores it now; API keys live under http.auth.apikey)'),
      trust: obj({ ...enable(), cosign: value(), notation: value() }), // docs/trust.md
      // zot decodes sinks with its own loose decoder (events/decoder.go), so their keys are not checked there either.
      events: obj({ ...enable(), sinks: free() }, 'ignored', 'events extension (CloudEvents sinks)'),
    }),

    scheduler: obj({ numWorkers: value() }, 'ignored', 'task scheduler tuning'),
    cluster: obj({ members: value(), hashKey: value(), tls: obj(tlsKeys()) }, 'ignored', 'scale-out cluster'),

    // Everything perch has that zot has not (DESIGN.md "Config"); see docs/config.md.
    perch: obj(
      {
        auth: obj({ challenge: value(), tokenKeyFile: value(), tokenTTL: value() }),
        uploadTTL: value(),
        quota: obj({ repositoryBytes: value(), totalBytes: value() }),
        tls: obj({ selfSigned: obj({ hosts: value() }) }),
        s3api: obj({
          enable: value(),
          address: value(),
          port: value(),
          region: value(),
          domain: value(),
          credentials: list(obj({ accessKey: value(), secretKeyFile: value(), user: value() })),
        }),
        trust: obj({ cosignKeys: value(), requireSignature: value() }),
      },
      'perch',
    ),
  },
  'implemented',
);

/** Where the zot source above was read; docs/config.md cites the same. */
export const ZOT_SOURCE = {
  repository: 'project-zot/zot',
  commit: '6d19b445fed1c86c23fb7b351fac07cfd4717402',
  describe: 'v2.1.20-25-g6d19b445',
} as const;
