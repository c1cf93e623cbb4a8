/**
 * One perch serve per storage root (storage/root-claim.ts), with the bundle:
 *   - `perch gc` beside a live server refuses, naming it, while pushes go on (nothing lost, no
 *     5xx); its --dry-run runs; once the server stops, or was killed, it collects.
 *   - a second `perch serve` on the same root waits for the first and gives up naming it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PERCH_BUNDLE, startRegistry as startBundle, type RunningRegistry, type StartOptions } from '../helpers/registry';
import { runCommand } from '../helpers/run-command';
import { pullWhole, pushImage, randomBlob, type Pushed } from './registry-client';

/** Every server a test starts is stopped after the file, also when an assertion failed first. */
const started: RunningRegistry[] = [];
afterAll(async () => {
  await Promise.all(started.map((r) => r.stop('SIGKILL')));
});
async function startRegistry(options?: StartOptions): Promise<RunningRegistry> {
  const registry = await startBundle(options);
  started.push(registry);
  return registry;
}

describe('one perch serve per storage root', () => {
  it('perch gc refuses beside a live server and names it, while pushes go on; it runs once the server is stopped or killed', async () => {
    const server = await startRegistry({ config: { storage: { gc: false } } });
    // Claimed before the store opened; the port the system chose is written just after listening.
    const claim = () => JSON.parse(readFileSync(join(server.dataDir, 'perch-serve.json'), 'utf8'));
    await expect.poll(claim).toMatchObject({ pid: server.process.pid, address: '127.0.0.1', port: server.port });
    const perchGc = (...args: string[]) => runCommand(process.execPath, [PERCH_BUNDLE, 'gc', ...args, server.configPath], { allowFailure: true });

    // A push load beside the refused collections.
    const pushed: Pushed[] = [];
    const failures: string[] = [];
    let pushing = true;
    const load = (async () => {
      for (let i = 0; pushing; i++) {
        try {
          pushed.push(await pushImage(server.url, 'beside/app', `t${i}`, [randomBlob(4096)]));
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    })();
    const refused = await perchGc();
    const dry = await perchGc('--dry-run');
    pushing = false;
    await load;
    expect(failures).toEqual([]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`is in use by perch serve (pid ${server.process.pid} on host `);
    expect(refused.stderr).toContain(`listening on 127.0.0.1:${server.port}`);
    expect(refused.stderr).toContain('storage.gc: true');
    expect(refused.stdout).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('perch gc --dry-run: would remove');
    for (const image of pushed) await pullWhole(server.url, image);

    // Stopped cleanly: the claim goes with it.
    await server.stop();
    expect(existsSync(join(server.dataDir, 'perch-serve.json'))).toBe(false);
    expect((await perchGc()).code).toBe(0);

    // Killed: the claim stays, but names a process that is gone.
    const again = await startRegistry({ dataDir: server.dataDir, config: { storage: { gc: false } } });
    await again.stop('SIGKILL');
    expect(existsSync(join(server.dataDir, 'perch-serve.json'))).toBe(true);
    const afterKill = await runCommand(process.execPath, [PERCH_BUNDLE, 'gc', again.configPath], { allowFailure: true });
    expect(afterKill.stderr).toBe('');
    expect(afterKill.code).toBe(0);
    const restarted = await startRegistry({ dataDir: server.dataDir });
    for (const image of pushed) await pullWhole(restarted.url, image);
    await restarted.stop();
  });

  it('a second perch serve on the same root waits for the first, then gives up naming it', async () => {
    const first = await startRegistry();
    const second = runCommand(process.execPath, [PERCH_BUNDLE, 'serve', first.configPath], { allowFailure: true, timeoutMs: 90_000 });
    const result = await second;
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain('"message":"storage in use"');
    expect(result.stdout + result.stderr).toContain(`used by perch serve (pid ${first.process.pid}`);
    expect(result.stdout + result.stderr).toContain('one perch serve per storage root');
    // The first one was never disturbed.
    expect((await fetch(`${first.url}/v2/`)).status).toBe(200);
    await first.stop();
  }, 90_000);
});
