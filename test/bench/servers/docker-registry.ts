/**
 * The peer: Debian's `docker-registry` (distribution v2.8), filesystem storage in the same
 * parent folder as the others, log level warn with the access log off (perch at warn logs no
 * requests either), in-memory blob descriptor cache as Debian's own config has it, and the
 * storage health check off (it would add background writes). Its filesystem driver fsyncs
 * every file it writes; the benchmark keeps all storage on tmpfs by default, where fsync is
 * a no-op, so neither side pays for durability (see docs/bench.md).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { freePort, launch } from './launch';
import type { ServerSpec } from './types';

function which(cmd: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export function dockerRegistrySpec(): ServerSpec {
  const bin = which('docker-registry');
  return {
    kind: 'peer',
    label: 'docker-registry',
    supportsAuth: true,
    unavailable: () => (bin ? undefined : 'docker-registry is not installed (scripts/install-tools.sh apt)'),
    async start({ dataDir, auth }) {
      const port = await freePort();
      const lines = [
        'version: 0.1',
        'log:',
        '  level: warn',
        '  accesslog:',
        '    disabled: true',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${JSON.stringify(dataDir)}`,
        '  cache:',
        '    blobdescriptor: inmemory',
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: 127.0.0.1:${port}`,
        'health:',
        '  storagedriver:',
        '    enabled: false',
      ];
      if (auth) lines.push('auth:', '  htpasswd:', '    realm: bench', `    path: ${JSON.stringify(auth.path)}`);
      const configPath = `${dataDir}.docker-registry.yml`;
      writeFileSync(configPath, `${lines.join('\n')}\n`);
      // A clean environment: REGISTRY_* variables would override the config file.
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
      return launch({ kind: 'peer', command: bin!, args: ['serve', configPath], port, dataDir, env });
    },
  };
}
