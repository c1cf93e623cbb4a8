/** The three servers every scenario runs against, with the same client and the same data folder parent. */
import type { S3DriverConfig } from '../../../registry-image/src/storage/object/driver-config';

export type ServerKind = 'ours' | 'peer' | 'ceiling';

export interface BasicAuthFile {
  /** An htpasswd file (bcrypt, from `htpasswd -Bbn`). */
  path: string;
  username: string;
  password: string;
}

export interface StartOptions {
  /** Empty folder for the server's storage (and its config and log). */
  dataDir: string;
  /** Turn on htpasswd basic auth. */
  auth?: BasicAuthFile;
  /** Store on this S3 bucket instead of in dataDir (scenario s3; every replica gets the same). */
  s3?: S3DriverConfig;
  /**
   * perch only (the others ignore it): merged into its zot config, objects key by key, anything
   * else replaced (the auth scenario's OpenID and LDAP variants: http.auth.openid or ldap, and
   * http.accessControl).
   */
  extraConfig?: Record<string, unknown>;
}

export interface RunningServer {
  kind: ServerKind;
  url: string;
  pid: number;
  /** Every replica's base URL (one unless servers/replicas.ts started several); url is the first. */
  urls: string[];
  /** Every replica's process, for CPU accounting; pid is the first. */
  pids: number[];
  dataDir: string;
  stop(): Promise<void>;
}

export interface ServerSpec {
  kind: ServerKind;
  /** How the report names it. */
  label: string;
  /** Why it cannot run on this machine, or undefined when it can. */
  unavailable(): string | undefined;
  supportsAuth: boolean;
  start(options: StartOptions): Promise<RunningServer>;
}
