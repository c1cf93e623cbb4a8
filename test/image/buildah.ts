/**
 * buildah with a private image store: `--root`/`--runroot` in the run's temporary folder and
 * the vfs driver (no overlay mounts to leak, works on any filesystem), builds isolated with
 * chroot (no user namespaces or cgroups needed; RUN steps share the host's network, which the
 * build stage's `npm ci` needs). skopeo reads the same store to push what was built.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { onCleanup } from './cleanup';
import { unmountUnder } from './mounts';
import { runCommand, type CommandResult } from '../helpers/run-command';

export interface BuildOptions {
  dockerfile: string;
  context: string;
  tag: string;
  buildArgs?: Record<string, string>;
  timeoutMs?: number;
}

export interface Buildah {
  dir: string;
  /** Builds; never pulls (the base must already be in this store). Returns the output and time taken. */
  bud(options: BuildOptions): Promise<CommandResult & { ms: number }>;
  /** Copies an image out of this store to a registry over plain HTTP. */
  push(tag: string, destination: string, credentials?: { username: string; password: string }): Promise<void>;
  /** The image as skopeo names it in this store. */
  storageRef(tag: string): string;
  /** Removes the store; safe to call twice. */
  remove(): void;
}

export function createBuildah(dir: string): Buildah {
  const root = join(dir, 'root');
  const runroot = join(dir, 'runroot');
  const tmp = join(dir, 'tmp');
  for (const d of [root, runroot, tmp]) mkdirSync(d, { recursive: true });
  const global = ['--root', root, '--runroot', runroot, '--storage-driver', 'vfs'];
  // Large temporary files (layer diffs, blobs on their way out) stay inside the folder too.
  const env = { ...process.env, TMPDIR: tmp, BUILDAH_ISOLATION: 'chroot' };
  let removed = false;

  const remove = () => {
    if (removed) return;
    removed = true;
    spawnSync('buildah', [...global, 'rm', '--all'], { stdio: 'ignore', env, timeout: 60_000 });
    const stuck = unmountUnder(dir);
    if (stuck.length > 0) throw new Error(`left ${dir} in place: still mounted: ${stuck.join(', ')}`);
    rmSync(dir, { recursive: true, force: true });
  };
  onCleanup(`buildah store in ${dir}`, remove);

  return {
    dir,
    async bud(options) {
      const args = [...global, 'bud', '--isolation', 'chroot', '--pull=never', '-f', options.dockerfile, '-t', options.tag];
      for (const [k, v] of Object.entries(options.buildArgs ?? {})) args.push('--build-arg', `${k}=${v}`);
      args.push(options.context);
      const started = Date.now();
      const result = await runCommand('buildah', args, { env, timeoutMs: options.timeoutMs ?? 480_000 });
      return { ...result, ms: Date.now() - started };
    },
    async push(tag, destination, credentials) {
      const args = ['copy', '--quiet', '--dest-tls-verify=false'];
      if (credentials) args.push('--dest-creds', `${credentials.username}:${credentials.password}`);
      args.push(this.storageRef(tag), `docker://${destination}`);
      await runCommand('skopeo', args, { env, timeoutMs: 180_000 });
    },
    storageRef(tag) {
      return `containers-storage:[vfs@${root}+${runroot}]${tag}`;
    },
    remove,
  };
}
