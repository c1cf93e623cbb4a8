/**
 * runc's view of the containers a test run started. The suite gives ctr its own runc root
 * (`ctr run --runc-root`), so this lists exactly those, even when containerd itself is gone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Kills and deletes every runc container whose state lives under root. containerd's shim
 * keeps one runc root per containerd namespace: <root>/<namespace>/<container id>.
 */
export function killRuncContainers(root: string): void {
  if (!existsSync(root)) return;
  for (const namespace of readdirSync(root)) {
    const nsRoot = join(root, namespace);
    const list = spawnSync('runc', ['--root', nsRoot, 'list', '--quiet'], { encoding: 'utf8', timeout: 15_000 });
    for (const id of (list.stdout ?? '').split('\n').filter(Boolean)) {
      spawnSync('runc', ['--root', nsRoot, 'kill', id, 'KILL'], { stdio: 'ignore', timeout: 15_000 });
      spawnSync('runc', ['--root', nsRoot, 'delete', '--force', id], { stdio: 'ignore', timeout: 15_000 });
    }
  }
}
