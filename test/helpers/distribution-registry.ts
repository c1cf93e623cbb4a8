/**
 * Starts distribution's registry v2.8 (Debian's `docker-registry`), the reference peer, on a
 * loopback port with deletes enabled. Client suites can run against it
 * (PERCH_TEST_REGISTRY=distribution) to tell a client quirk from a perch bug: a test that
 * fails against both is a test bug.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { freePort } from './ports';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

export interface DistributionRegistry {
  url: string;
  host: string;
  logs: string[];
  stop(): Promise<void>;
}


export async function startDistributionRegistry(options: { address?: string } = {}): Promise<DistributionRegistry> {
  const address = options.address ?? '127.0.0.1';
  const port = await freePort(address);
  const dir = mkdtempSync(join(tmpdir(), 'distribution-'));
  const config = join(dir, 'config.yml');
  // Deletes are off by default in distribution; the client suites delete manifests.
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${address}:${port}`,
      '',
    ].join('\n'),
  );
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const onData = (c: Buffer) => logs.push(...c.toString().split('\n').filter(Boolean));
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const url = `http://${address}:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}:\n${logs.join('\n')}`);
    try {
      if ((await fetch(`${url}/v2/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not answer ${url}/v2/ in 10s:\n${logs.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    host: `${address}:${port}`,
    logs,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
