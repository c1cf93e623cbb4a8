/**
 * Temporary folders that remove themselves: `tempDir(prefix)` makes one under the system's
 * temp folder and removes it after the test file that made it has finished.
 *
 * Removal is one vitest `afterAll`, registered when a test file first imports this module
 * (imports run while vitest collects the file, so the hook lands on the file's root suite).
 * Each file has its own copy of this module (vitest isolates files), hence its own list. Root
 * `afterAll` hooks run in reverse order of registration (vitest's default `sequence.hooks`,
 * "stack"), and this one is registered before any hook of the file, so it runs last: after the
 * file has stopped the servers that write into these folders.
 *
 * Folders live until the end of the file, not of the test, because a file may make a folder in
 * one test (or in beforeAll) and read it in the next.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made = new Set<string>();

afterAll(() => {
  for (const dir of made) {
    try {
      // A child process stopped a moment ago may still be closing files in it: retry briefly.
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    } catch (err) {
      // Not a failure of any test; say which folder stayed behind so someone can look.
      console.warn(`could not remove temporary folder ${dir}: ${(err as Error).message}`);
    }
  }
  made.clear();
});

/** A new empty folder `<tmpdir>/<prefix>XXXXXX`, removed after this test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}
