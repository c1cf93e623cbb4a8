/**
 * Small records kept as the *target* of a symbolic link rather than in a file: a tag's digest,
 * a manifest link's media type. A symlink's target is an arbitrary string (up to 4095 bytes,
 * no NUL) that the kernel stores and returns whole, so:
 *   create     symlink(value, path)                  1 system call  (a file: open, write, close)
 *   replace    symlink(value, tmp); rename(tmp, path) 2              (a file: 4)
 *   read       readlink(path)                        1              (a file: open, fstat, read, close)
 * Each call is a trip through libuv's thread pool, and on a registry's hot path (a manifest
 * PUT writes a link and a tag, a GET by tag reads both) those trips are most of the latency.
 * Crash model: symlink() creates the link with its whole target or not at all, and rename()
 * replaces it atomically, so a reader sees the old record or the new one, never part of one.
 *
 * Stores written before records became symlinks hold them as regular files; readlink on a
 * regular file fails with EINVAL, and those are read as files.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncDir, isNotFound, withParent } from './atomic-file';

/** The record at `path`, or null when there is none. */
export async function readRecord(path: string): Promise<string | null> {
  try {
    return await fs.readlink(path);
  } catch (err) {
    if (isNotFound(err)) return null;
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
  }
  try {
    return (await fs.readFile(path, 'utf8')).trim(); // a record from an older store
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** The record and when it was last set, read so both describe the same version of it. */
export async function readRecordWithTime(path: string): Promise<{ value: string; modifiedMs: number } | null> {
  // A concurrent writeRecord renames a new link over `path`: stat before and after the read,
  // and read again if the link changed in between.
  for (;;) {
    const before = await lstatOrNull(path);
    if (!before) return null;
    const value = await readRecord(path);
    const after = await lstatOrNull(path);
    if (value === null || !after) return null;
    if (after.ino === before.ino) return { value, modifiedMs: after.mtimeMs };
  }
}

/**
 * Sets the record, replacing any old one atomically; makes the parent folder if needed. A new
 * record (a tag pushed for the first time, a manifest link) is created in place, in one call.
 * `unlessSame`: an existing record that already says `value` is left alone, for records named
 * after content (a manifest link), where rewriting changes nothing. True when there was no
 * record before (the caller may take back a record it made when the rest of its write fails).
 */
export async function setRecord(path: string, value: string, tmpDir: string, durable: boolean, options: { unlessSame?: boolean } = {}): Promise<boolean> {
  try {
    await withParent(path, () => fs.symlink(value, path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    if (options.unlessSame && (await readRecord(path)) === value) return false;
    await replaceRecord(path, value, tmpDir, durable);
    return false;
  }
  if (durable) await fsyncDir(dirname(path));
  return true;
}

/** Replaces an existing record atomically: a new link under a temporary name, renamed over it. */
async function replaceRecord(path: string, value: string, tmpDir: string, durable: boolean): Promise<void> {
  const tmp = join(tmpDir, randomUUID());
  await fs.symlink(value, tmp);
  try {
    await withParent(path, () => fs.rename(tmp, path));
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
  if (durable) await fsyncDir(dirname(path));
}

async function lstatOrNull(path: string) {
  try {
    return await fs.lstat(path);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}
