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
  await fs.writeFile(tmp, data);
  if (durable) await fsyncPath(tmp);
  try {
    await fs.rename(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // The target folder does not exist yet: make it and try once more.
    await fs.mkdir(dirname(path), { recursive: true });
    await fs.rename(tmp, path);
  }
  if (durable) await fsyncDir(dirname(path));
}

export function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
