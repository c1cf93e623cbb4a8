/**
 * `perch seed` as the bundled CLI runs it (registry-image/dist/perch.js, what the image and
 * scripts/start.sh run): the README's flow (serve, seed, then a plain `helm pull` from
 * localhost), a seed started before its registry, and the exit codes.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from '../helpers/ports';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildArtifacts, SEED_CHARTS } from '../../registry-image/src/seed';
import { PERCH_BUNDLE, startRegistry, type RunningRegistry } from '../helpers/registry';
import { runCommand } from '../helpers/run-command';
import { makeHelmHome } from './seed-helpers';

const CHARTS_DIR = join(__dirname, '../../registry-image/charts');


const perchSeed = (args: string[], timeoutMs = 60_000) =>
  runCommand(process.execPath, [PERCH_BUNDLE, 'seed', ...args], { allowFailure: true, timeoutMs });

describe('perch seed, the bundled CLI', () => {
  const running: RunningRegistry[] = [];
  afterEach(async () => {
    for (const r of running.splice(0)) await r.stop();
  });

  it('the README flow: perch serve, perch seed --registry http://localhost:PORT, then helm pull oci://localhost:PORT/… with no flags', async () => {
    const registry = await startRegistry();
    running.push(registry);
    const seeded = await perchSeed(['--registry', `http://localhost:${registry.port}`, '--timeout', '30s']);
    expect(seeded.stderr).toBe('');
    expect(seeded.code).toBe(0);
    expect(seeded.stdout).toContain('done: 4 pushed, 0 already present');

    const home = makeHelmHome();
    try {
      const out = home.folder('pulled');
      // Helm 3 speaks plain HTTP to localhost on its own, which is what the README shows.
      await home.helm('helm3', ['pull', `oci://localhost:${registry.port}/roost-test/nginx-test`, '--version', '1.0.0', '-d', out]);
      const [expected] = buildArtifacts([SEED_CHARTS[0]], CHARTS_DIR, `oci://localhost:${registry.port}/roost-test`);
      expect(readFileSync(join(out, 'nginx-test-1.0.0.tgz')).equals(expected.layer.data)).toBe(true);
      const multi = await home.helm('helm3', ['show', 'chart', `oci://localhost:${registry.port}/roost-test/multi-chart`, '--version', '1.0.0']);
      expect(multi.stdout).toContain(`repository: oci://localhost:${registry.port}/roost-test`);
    } finally {
      home.remove();
    }
  });

  it('started before its registry, it waits and then seeds', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [PERCH_BUNDLE, 'seed', '--registry', `http://127.0.0.1:${port}`, '--chart', 'redis-test', '--timeout', '30s'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stdout += c.toString()));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(child.exitCode).toBe(null);
    running.push(await startRegistry({ port }));
    const [code] = (await once(child, 'exit')) as [number];
    expect(stdout).toContain(`waiting for the registry at http://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port})`);
    expect(stdout).toContain(`127.0.0.1:${port}/roost-test/redis-test:1.0.0 pushed`);
    expect(code).toBe(0);
  });

  it('exit codes: 2 for a usage error, 1 for an unreachable registry', async () => {
    const usage = await perchSeed(['--registry']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('perch seed: --registry needs a value');
    const port = await freePort();
    const down = await perchSeed(['--registry', `127.0.0.1:${port}`, '--timeout', '500ms']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`perch seed: cannot reach the registry at http://127.0.0.1:${port}`);
  });
});
