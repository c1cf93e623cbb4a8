/**
 * Write-then-rename: a reader sees the old file or the new one, never half of either.
 * With `durable` (zot's storage.commit) the data and the directory entry are fsynced before
 * the call returns, so the write survives power loss too; without it a killed process still
 * never leaves a torn file, which is DESIGN.md's crash model.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';

export async function fsyncPath(path: string): Promise<void> {
  const handle = await fs.open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a rename or unlink in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  await fsyncPath(dir);
}

export async function writeFileAtomic(path: string, data: string | Buffer, tmpDir: string, durable: boolean): Promise<void> {
  const tmp = join(tmpDir, randomUUID());
  try {
    await fs.writeFile(tmp, data);
    if (durable) await fsyncPath(tmp);
    // The target folder may not exist yet (or an emptied repository's was just removed).
    await withParent(path, () => fs.rename(tmp, path));
  } catch (err) {
    // A write that failed (a full disk fails it after the file was made) leaves nothing in tmp/:
    // the space goes back now, not at the next start (FsStore.init empties tmp/).
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
  if (durable) await fsyncDir(dirname(path));
}

/**
 * Runs `create`; when the parent folder is missing, makes it and runs `create` again. A few
 * times: a delete that empties a repository removes its folders (FsStore.removeFromRepository)
 * and may do so between this mkdir and the retry.
 */
export async function withParent(path: string, create: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await create();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 3) throw err;
      await fs.mkdir(dirname(path), { recursive: true });
    }
  }
}

export function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
