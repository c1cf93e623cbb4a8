/**
 * The push side of two protocols, in one place so the handlers stay short:
 * - quotas: reserve the bytes a write adds before it happens, make them usage after
 *   (quota/admission.ts);
 * - online GC: refresh what is about to be referenced, check it, write the reference, all
 *   while holding the GC guard shared (the rules are at the top of gc/collector.ts).
 */
import type { PerchConfig } from '../config/types';
import { referenceGuard } from '../gc/guard';
import { StorageError, type BlobStat, type ReferrerDescriptor, type Store, type StoredManifest } from '../storage/types';
import { reserve } from './admission';

interface Parts {
  config: PerchConfig;
  store: Store;
}

/**
 * Finishes an upload session as `digest`. A session refused by a quota is cancelled (its bytes
 * can never be stored), one whose digest does not match is kept, as the store keeps it.
 */
export async function finishBlob(parts: Parts, repository: string, id: string, digest: string): Promise<BlobStat> {
  const { store } = parts;
  const session = await store.getUpload(repository, id);
  let reservation;
  try {
    reservation = await reserve(parts, repository, digest, session.size, 'blob');
  } catch (err) {
    await store.cancelUpload(repository, id).catch(() => {});
    throw err;
  }
  try {
    // finishUpload refreshes content that is already stored before linking it.
    const stat = await referenceGuard(store).shared(() => store.finishUpload(repository, id, digest));
    reservation.commit();
    return stat;
  } catch (err) {
    reservation.release();
    throw err;
  }
}

/** Gives `repository` the blob `source` holds; false when `source` does not hold it (then upload). */
export async function mountBlob(parts: Parts, source: string, repository: string, digest: string): Promise<boolean> {
  const { store } = parts;
  const held = await store.repositoryBlob(source, digest);
  if (!held) return false;
  const reservation = await reserve(parts, repository, digest, held.size, 'blob');
  try {
    const linked = await referenceGuard(store).shared(async () => {
      // Refresh, then check, then link: GC's re-stat sees the refresh (gc/collector.ts).
      if (!(await store.touchBlob(digest)) || !(await store.repositoryBlob(source, digest))) return false;
      try {
        await store.linkBlob(repository, digest);
        return true;
      } catch (err) {
        if (err instanceof StorageError && err.kind === 'NotFound') return false;
        throw err;
      }
    });
    if (linked) reservation.commit();
    else reservation.release();
    return linked;
  } catch (err) {
    reservation.release();
    throw err;
  }
}

/**
 * Stores a manifest (and its tag). `checkReferences` must refresh each blob and child it checks
 * before checking it (touchBlob); it runs inside the guard, with the write.
 */
export async function commitManifest(
  parts: Parts,
  repository: string,
  manifest: StoredManifest,
  subject: { digest: string; descriptor: ReferrerDescriptor } | undefined,
  tag: string | undefined,
  checkReferences: () => Promise<void>,
): Promise<void> {
  const { store } = parts;
  const reservation = await reserve(parts, repository, manifest.digest, manifest.body.length, 'manifest');
  try {
    await referenceGuard(store).shared(async () => {
      await checkReferences();
      await store.putManifest(repository, manifest, subject);
      if (tag !== undefined) await store.setTag(repository, tag, manifest.digest);
    });
    reservation.commit();
  } catch (err) {
    reservation.release();
    throw err;
  }
}
