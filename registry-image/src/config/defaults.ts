/**
 * What perch uses for every key a config leaves out. Where zot has a default, perch keeps it
 * (dedupe, gc, gcDelay, gcInterval, the metrics path); where perch differs, the reason is beside
 * the value. docs/config.md lists the same table for users.
 */
import { resolve } from 'node:path';
import type { PerchConfig } from './types';

const HOUR_MS = 3_600_000;

export const DEFAULTS = {
  distSpecVersion: '1.1.1', // the distribution-spec release zot's go.mod pins (v1.1.1)
  // zot listens on 127.0.0.1:8080; perch takes the container interface shared with zot's image
  // (DESIGN.md: port 5000), on every interface, since a pod is only reached through its IP.
  address: '0.0.0.0',
  port: 5000,
  rootDirectory: './.perch-data',
  gcDelayMs: HOUR_MS, // zot storage/constants DefaultGCDelay
  gcIntervalMs: HOUR_MS, // zot storage/constants DefaultGCInterval
  // zot's own default is debug, which floods a pod's log; a config that wants it says so.
  logLevel: 'info',
  metricsPath: '/metrics', // zot api/constants DefaultMetricsExtensionRoute
  challenge: 'basic',
  tokenKeyFile: '/secret/token.key',
  tokenTTLSeconds: 300,
  uploadTTLMs: 24 * HOUR_MS,
  // Not a bound on a transfer's length but on its silence (http/stall-guard.ts): a minute with
  // no byte from a client that owes one is a client that is gone. Node's own headersTimeout.
  readTimeoutMs: 60_000,
  writeTimeoutMs: 60_000,
  selfSignedHosts: ['localhost', '127.0.0.1'],
  // The port S3-compatible servers commonly take (MinIO, Garage's web UI aside), so client
  // examples written for them work with only the host changed.
  s3apiPort: 9000,
  s3apiRegion: 'us-east-1',
} as const;

/** The configuration perch runs with when given no file. Relative paths resolve against `cwd`. */
export function defaultConfig(cwd: string = process.cwd()): PerchConfig {
  return {
    distSpecVersion: DEFAULTS.distSpecVersion,
    http: { address: DEFAULTS.address, port: DEFAULTS.port, compat: [], readTimeoutMs: DEFAULTS.readTimeoutMs, writeTimeoutMs: DEFAULTS.writeTimeoutMs },
    storage: {
      rootDirectory: resolve(cwd, DEFAULTS.rootDirectory),
      commit: false,
      dedupe: true,
      gc: true,
      gcDelayMs: DEFAULTS.gcDelayMs,
      gcIntervalMs: DEFAULTS.gcIntervalMs,
      maxRepos: 0,
      redirectBlobURL: false,
    },
    log: { level: DEFAULTS.logLevel },
    extensions: {},
    perch: {
      auth: { challenge: DEFAULTS.challenge, tokenKeyFile: DEFAULTS.tokenKeyFile, tokenKeyFileSet: false, tokenTTLSeconds: DEFAULTS.tokenTTLSeconds },
      uploadTTLMs: DEFAULTS.uploadTTLMs,
      quota: { repositoryBytes: 0, totalBytes: 0 },
    },
  };
}
