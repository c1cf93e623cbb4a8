/**
 * Leftovers of an earlier run whose worker died before any handler could run (SIGKILL, an OOM
 * kill, a machine reboot mid-run). Each run works in one folder, $TMPDIR/perch-image-test-*,
 * that names its owner's pid and the processes it started; the next run finds folders whose
 * owner is gone and ends exactly what that run started: the runc containers in the folder's
 * runc root, the processes whose command line names the folder (containerd, its shims,
 * buildah, skopeo) and the processes recorded in it (whose command line must still match, so
 * a reused pid is left alone). Then it unmounts what is mounted there and removes the folder.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unmountUnder } from './mounts';
import { killRuncContainers } from './runc';

export const RUN_DIR_PREFIX = 'perch-image-test-';
const OWNER_FILE = 'owner.pid';
const PROCESSES_DIR = 'processes';

/** Marks dir as this process's run folder. */
export function claimRunDir(dir: string): void {
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
  mkdirSync(join(dir, PROCESSES_DIR), { recursive: true });
}

/** Records a process this run started, by pid and command line. */
export function recordProcess(dir: string, pid: number | undefined): void {
  if (pid === undefined) return;
  const cmdline = commandLine(pid);
  if (cmdline !== undefined) writeFileSync(join(dir, PROCESSES_DIR, String(pid)), cmdline);
}

function commandLine(pid: number | string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  return commandLine(pid) !== undefined;
}

/** Cleans up every run folder whose owner is gone; returns the folders removed. */
export function sweepStaleRuns(parent: string = tmpdir()): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(RUN_DIR_PREFIX)) continue;
    const dir = join(parent, name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue; // not claimed (yet): may belong to a run that is just starting
    }
    if (!Number.isInteger(owner) || owner === process.pid || alive(owner)) continue;

    killRuncContainers(join(dir, 'containerd', 'runc'));
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      if (commandLine(pid)?.includes(`${dir}/`)) kill(Number(pid));
    }
    const recorded = join(dir, PROCESSES_DIR);
    for (const pid of existsSync(recorded) ? readdirSync(recorded) : []) {
      if (commandLine(pid) === readFileSync(join(recorded, pid), 'utf8')) kill(Number(pid));
    }
    if (unmountUnder(dir).length > 0) continue; // never delete through a mount point
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}
