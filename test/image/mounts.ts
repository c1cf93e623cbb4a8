/**
 * Mounts left under a folder the suite is about to delete (containerd's snapshot mounts of a
 * container that was not removed cleanly). Deleting through a mount point would delete what
 * is mounted there, so callers unmount first and keep the folder if anything stays mounted.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Unmounts anything still mounted under dir, deepest first; returns what is still mounted. */
export function unmountUnder(dir: string): string[] {
  const under = () =>
    readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1])
      .filter((m): m is string => !!m)
      .map((m) => m.replace(/\\040/g, ' '))
      .filter((m) => m === dir || m.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
  for (const m of under()) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
  return under();
}
