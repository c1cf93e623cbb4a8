/**
 * How many bytes a pull fetches: for an image or artifact its manifest, config and layers;
 * for an index its own body plus every child it lists (each counted once). Layers shared
 * between platforms are counted per platform, as a pull of every platform would fetch them.
 */
import type { Store, StoredManifest } from '../storage/types';
import { manifestFacts, ownBytes, type ManifestFacts } from './artifact';

/** Indexes of indexes exist (the conformance suite pushes one); deeper is not worth reading. */
const MAX_DEPTH = 3;

export async function artifactSize(store: Store, repository: string, manifest: StoredManifest, facts: ManifestFacts = manifestFacts(manifest), depth = 0): Promise<number> {
  if (facts.kind !== 'index') return ownBytes(manifest, facts);
  let total = manifest.body.length;
  const seen = new Set<string>();
  for (const child of facts.children) {
    if (seen.has(child.digest)) continue;
    seen.add(child.digest);
    const stored = depth < MAX_DEPTH ? await store.getManifest(repository, child.digest) : null;
    total += stored ? await artifactSize(store, repository, stored, undefined, depth + 1) : child.size;
  }
  return total;
}
