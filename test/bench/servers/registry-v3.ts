/**
 * The object-storage peer (scenario s3): distribution's registry v3.1.2 (`registry-v3 serve
 * config.yml`, built by `bash scripts/install-tools.sh storage`) on the same SeaweedFS bucket
 * perch gets, with the settings of the filesystem peer (docker-registry.ts: log level warn,
 * access log off, in-memory blob descriptor cache, storage health check off), plus:
 * - `redirect: disable`: by default it answers a blob GET with a 307 to a presigned S3 URL;
 *   perch serves the bytes itself (redirectBlobURL is off), so both do;
 * - one `http.secret` per spec: its replicas sign upload state with it, and a PUT that lands
 *   on another replica than its POST needs the same secret to go on.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort, launch } from './launch';
import type { ServerSpec } from './types';

export const REGISTRY_V3 = join(process.env.PERCH_TOOLS ?? join(homedir(), '.cache', 'perch-tools'), 'bin', 'registry-v3');

/** "registry-v3 github.com/distribution/distribution/v3 v3.1.2", or why not. */
export function registryV3Version(): string {
  try {
    return execFileSync(REGISTRY_V3, ['--version'], { encoding: 'utf8' }).trim().split('\n')[0].replace(/^\S*\//, '');
  } catch (err) {
    return `registry-v3 (version unknown: ${(err as Error).message.split('\n')[0]})`;
  }
}

export function registryV3Spec(): ServerSpec {
  const secret = randomBytes(24).toString('hex');
  return {
    kind: 'peer',
    label: 'registry-v3',
    supportsAuth: false,
    unavailable: () => (existsSync(REGISTRY_V3) ? undefined : `${REGISTRY_V3} is missing (bash scripts/install-tools.sh storage)`),
    async start({ dataDir, s3 }) {
      if (!s3) throw new Error('registry-v3 runs on an S3 bucket only in the benchmark');
      const port = await freePort();
      const q = (v: string | undefined) => JSON.stringify(v ?? '');
      const lines = [
        'version: 0.1',
        'log:',
        '  level: warn',
        '  accesslog:',
        '    disabled: true',
        'storage:',
        '  s3:',
        `    regionendpoint: ${q(s3.regionEndpoint)}`,
        `    region: ${q(s3.region)}`,
        `    bucket: ${q(s3.bucket)}`,
        `    rootdirectory: ${q(`/${s3.rootDirectory}`)}`,
        `    forcepathstyle: ${s3.forcePathStyle}`,
        `    secure: ${s3.secure}`,
        `    accesskey: ${q(s3.accessKey)}`,
        `    secretkey: ${q(s3.secretKey)}`,
        '  cache:',
        '    blobdescriptor: inmemory',
        '  delete:',
        '    enabled: true',
        '  redirect:',
        '    disable: true',
        'http:',
        `  addr: 127.0.0.1:${port}`,
        `  secret: ${secret}`,
        'health:',
        '  storagedriver:',
        '    enabled: false',
      ];
      const configPath = `${dataDir}.registry-v3.yml`;
      writeFileSync(configPath, `${lines.join('\n')}\n`);
      // A clean environment: REGISTRY_* and AWS_* variables would override the config file.
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
      return launch({ kind: 'peer', command: REGISTRY_V3, args: ['serve', configPath], port, dataDir, env });
    },
  };
}
