/**
 * Is the storage full? The one answer /readyz (handlers/health.ts) and /health
 * (handlers/health-report.ts) give; docs/operations.md "Full disk" says what users see.
 *
 * Full means a push cannot be stored now. Either the filesystem says so (under
 * FULL_FREE_BYTES left, no inode left, or the probe write refused with ENOSPC), or, /health
 * only, a push was refused for lack of space (507) and nothing has been stored since
 * (no-space-watch.ts): a layer larger than what is left fails while the percentages still
 * look fine.
 *
 * A full disk keeps /readyz ready (200, with `"storage":"full"`): reads need no space, and
 * Kubernetes takes a pod that is not ready out of its Service, so a registry that can no
 * longer take pushes would stop serving pulls too, the node's own image pulls included.
 * /health fails (503) instead, for people and monitors.
 */
import type { StatsFs } from 'node:fs';
import { statfs } from 'node:fs/promises';

/**
 * Under this much free space the storage counts as full: a manifest still fits, a layer of
 * most real images does not. On volumes above 50 MiB the disk check's 2% floor fails first.
 */
export const FULL_FREE_BYTES = 1024 * 1024;

export interface FreeSpace {
  freeBytes: number;
  totalBytes: number;
  /** Files that may still be made; absent where the filesystem has no fixed count (btrfs). */
  freeInodes?: number;
}

/** What an unprivileged process may still write (`bavail`) on the filesystem holding `root`. */
export async function freeSpace(root: string, statfsOf: (path: string) => Promise<StatsFs> = statfs): Promise<FreeSpace> {
  const fs = await statfsOf(root);
  return { freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize, ...(fs.files > 0 ? { freeInodes: fs.ffree } : {}) };
}

/**
 * Why the filesystem is full, or undefined. No inode left is full too: every blob, link and
 * upload is a file, and the kernel answers ENOSPC for a file it cannot make.
 */
export function fullness(space: FreeSpace): string | undefined {
  if (space.freeInodes === 0) return 'no inode left';
  if (space.freeBytes < FULL_FREE_BYTES) return `${bytesText(space.freeBytes)} free`;
  return undefined;
}

/** Bytes for people: 12 KiB, 3.4 MiB. */
export function bytesText(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} bytes` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
