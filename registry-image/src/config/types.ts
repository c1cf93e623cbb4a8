/**
 * The registry's configuration after loading: zot's `config.json` keys, normalised
 * (ports as numbers, durations in milliseconds, defaults filled in), plus perch's own
 * `perch` section. `config/load.ts` is the only place that builds one.
 */
import type { ObjectDriverConfig } from '../storage/object/driver-config';
import type { AuthConfig } from './auth-types';

export type * from './auth-types';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** zot's access-control actions. */
export type PolicyAction = 'read' | 'create' | 'update' | 'delete';

export interface Policy {
  users: string[];
  groups: string[];
  actions: PolicyAction[];
}

export interface RepositoryPolicy {
  policies: Policy[];
  defaultPolicy: PolicyAction[];
  anonymousPolicy: PolicyAction[];
}

export interface AccessControlConfig {
  /** zot: `accessControl.groups.<name>.users` */
  groups: Record<string, { users: string[] }>;
  /** Glob keys (`**`, `*`, `tmp/**`); the longest matching key wins. */
  repositories: Record<string, RepositoryPolicy>;
  adminPolicy: Policy;
  /**
   * zot: `accessControl.metrics.users` and `anonymousPolicy` (["read"] lets anyone scrape);
   * absent means any authenticated user.
   */
  metrics?: { users: string[]; anonymousRead: boolean };
}

export interface TlsConfig {
  cert?: string;
  key?: string;
  cacert?: string;
}

/** zot's KeepTagsPolicy / KeepUntaggedPolicy rules; `*Within` keeps the Go duration as written, `*WithinMs` the same in milliseconds. */
export interface RetentionKeepRules {
  mostRecentlyPushedCount?: number;
  mostRecentlyPulledCount?: number;
  pulledWithin?: string;
  pushedWithin?: string;
  pulledWithinMs?: number;
  pushedWithinMs?: number;
}

export interface RetentionPolicy {
  repositories: string[];
  deleteReferrers: boolean;
  deleteUntagged: boolean;
  keepTags: Array<{ patterns: string[]; mostRecentlyPushedCount?: number; pulledWithin?: string; pushedWithin?: string } & RetentionKeepRules>;
  /** zot: retention.policies[].keepUntagged */
  keepUntagged?: RetentionKeepRules;
}

export interface PerchConfig {
  distSpecVersion: string;
  http: {
    address: string;
    port: number;
    /** Public base URL (zot: http.externalUrl), used in Location headers and the token realm. */
    externalUrl?: string;
    realm?: string;
    compat: string[];
    /** Longest a request's headers or body may go without a byte (zot: http.readTimeout; http/stall-guard.ts). */
    readTimeoutMs: number;
    /** Longest a response may wait for the client to take a byte (zot: http.writeTimeout). */
    writeTimeoutMs: number;
    tls?: TlsConfig;
    /** zot: http.auth, the login methods (auth-types.ts). */
    auth?: AuthConfig;
    accessControl?: AccessControlConfig;
    /** zot: http.ratelimit; requests per second overall and per method. */
    ratelimit?: { rate?: number; methods: Array<{ method: string; rate: number }> };
  };
  storage: {
    rootDirectory: string;
    /** fsync before acknowledging (zot: storage.commit). */
    commit: boolean;
    dedupe: boolean;
    gc: boolean;
    gcDelayMs: number;
    gcIntervalMs: number;
    retention?: { dryRun: boolean; delay?: number; policies: RetentionPolicy[] };
    /** zot: storage.maxRepos; 0 means unlimited. */
    maxRepos: number;
    /**
     * zot: storage.storageDriver, an object store instead of the filesystem (rootDirectory then
     * holds only local files: a self-signed certificate). Absent: the filesystem.
     */
    driver?: ObjectDriverConfig;
    /** zot: storage.redirectBlobURL; blob GETs answer 307 to a presigned URL (object stores only). */
    redirectBlobURL?: boolean;
  };
  log: { level: LogLevel; output?: string; audit?: string };
  extensions: {
    metrics?: { enable: boolean; prometheus: { path: string } };
    ui?: { enable: boolean };
    /** zot: extensions.trust; present when the section is (docs/trust.md). */
    trust?: { enable: boolean; cosign: boolean; notation: boolean };
  };
  perch: {
    auth: {
      challenge: 'basic' | 'bearer';
      tokenKeyFile: string;
      /**
       * Whether the config names tokenKeyFile. The default path may simply hold no key (a
       * Basic registry then runs without a token service); a path someone chose must work.
       */
      tokenKeyFileSet: boolean;
      tokenTTLSeconds: number;
    };
    /** Upload sessions untouched this long are abandoned (GC purges them). */
    uploadTTLMs: number;
    /** Byte quotas; 0 means unlimited. */
    quota: { repositoryBytes: number; totalBytes: number };
    /** Generate a self-signed certificate when http.tls names none. */
    tlsSelfSigned?: { hosts: string[] };
    /** The S3-compatible API (docs/s3api.md); present when the config has the section. */
    s3api?: S3ApiConfig;
    /** perch.trust (docs/trust.md): cosign public keys from files (absolute paths), and the pull policy's repository globs. */
    trust?: { cosignKeys: string[]; requireSignature: string[] };
  };
}

/** perch.s3api: its own listener; each access key acts as a registry user. */
export interface S3ApiConfig {
  enable: boolean;
  /** Absent: http.address. */
  address?: string;
  port: number;
  region: string;
  /** Base domain for virtual-host-style requests (`<bucket>.<domain>`); absent: path style only. */
  domain?: string;
  credentials: Array<{ accessKey: string; secretKeyFile: string; user: string }>;
}

/** A loaded configuration and what the loader had to say about it. */
export interface LoadedConfig {
  config: PerchConfig;
  /** Keys zot has that perch does not implement yet: loaded, ignored, reported. */
  warnings: string[];
}
