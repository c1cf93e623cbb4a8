/**
 * perch's own small state files beside the registry's data (`<root>/_perch/apikeys.json`,
 * `_perch/trust.json`): JSON replaced atomically and durably (write a temp file, fsync it,
 * rename it over the old one, fsync the folder), readable by perch's user only (folder 0700,
 * file 0600). A reader sees the old file or the new one, never half of either, and a write
 * that returned survives power loss.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function writePrivateJson(path: string, value: unknown): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const file = await open(temp, 'w', 0o600);
  try {
    await file.writeFile(JSON.stringify(value, null, 1) + '\n');
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
