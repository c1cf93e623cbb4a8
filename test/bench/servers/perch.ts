/**
 * perch, as the image runs it: `node FLAGS registry-image/dist/perch.js serve CONFIG` (FLAGS
 * from the Dockerfile's ENTRYPOINT), with a zot
 * config whose storage has `commit: false` (no fsync, like the peer on tmpfs and the
 * ceiling) and log level warn (no per-request log lines, like the others). On an S3 bucket
 * (scenario s3) the config gets zot's `storage.storageDriver` block, nothing else changes.
 * `extraConfig` (the auth scenario's OpenID and LDAP variants) is merged in last.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageNodeFlags } from './image-node-flags';
import { freePort, launch } from './launch';
import type { ServerSpec } from './types';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `extra` merged into `base`: objects key by key, anything else (arrays included) replaced. */
function merged(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const old = out[key];
    out[key] = isObject(old) && isObject(value) ? merged(old, value) : value;
  }
  return out;
}

export function perchSpec(repoRoot: string): ServerSpec {
  const bundle = join(repoRoot, 'registry-image/dist/perch.js');
  return {
    kind: 'ours',
    label: 'perch',
    supportsAuth: true,
    unavailable: () => (existsSync(bundle) ? undefined : `${bundle} is missing (npm run build)`),
    async start({ dataDir, auth, s3, extraConfig }) {
      const port = await freePort();
      const storageDriver = s3 && {
        name: 's3',
        bucket: s3.bucket,
        region: s3.region,
        regionendpoint: s3.regionEndpoint,
        rootdirectory: s3.rootDirectory,
        forcepathstyle: s3.forcePathStyle,
        secure: s3.secure,
        accesskey: s3.accessKey,
        secretkey: s3.secretKey,
      };
      const base: Record<string, unknown> = {
        distSpecVersion: '1.1.1',
        http: {
          address: '127.0.0.1',
          port: String(port),
          ...(auth ? { auth: { htpasswd: { path: auth.path } } } : {}),
        },
        storage: { rootDirectory: dataDir, commit: false, ...(storageDriver ? { storageDriver } : {}) },
        log: { level: 'warn' },
      };
      const config = extraConfig ? merged(base, extraConfig) : base;
      const configPath = `${dataDir}.perch.json`;
      writeFileSync(configPath, JSON.stringify(config, null, 2));
      return launch({ kind: 'ours', command: process.execPath, args: [...imageNodeFlags(repoRoot), bundle, 'serve', configPath], port, dataDir });
    },
  };
}
