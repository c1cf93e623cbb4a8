/**
 * Reads a small JSON blob (an image config, a Helm chart's metadata) that a repository holds.
 * Configs are small, but a blob is whatever was pushed: anything over the limit, missing,
 * or not JSON reads as undefined and the page shows less, never fails.
 */
import type { Store } from '../storage/types';

/** Real configs are a few KiB; an image with a long history stays well under this. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export async function readJsonBlob(store: Store, repository: string, digest: string, limit = MAX_CONFIG_BYTES): Promise<unknown> {
  const stat = await store.repositoryBlob(repository, digest);
  if (!stat || stat.size > limit) return undefined;
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of await store.openBlob(digest)) {
      total += (chunk as Buffer).length;
      if (total > limit) return undefined;
      chunks.push(chunk as Buffer);
    }
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    // Gone since the stat (garbage collection) or not JSON: nothing to show.
    return undefined;
  }
}
