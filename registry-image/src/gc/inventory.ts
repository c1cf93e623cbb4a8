/**
 * The collector's read-only look at a store: every blob with its size and age, every
 * repository's tags, manifests (with what each references) and blob links, and every upload
 * session. Taken without any lock while the registry serves, so it may miss what is written
 * during it; the protocol in gc/collector.ts is why that is safe (anything written later was
 * refreshed first, so it is young, and young things are never removed).
 */
import { ManifestInvalid, parseManifest } from '../oci/manifest';
import type { BlobStat, Store, UploadSession } from '../storage/types';

export interface ManifestFacts {
  digest: string;
  mediaType: string;
  /** Bytes of the manifest itself. */
  size: number;
  /** The manifest blob's mtime: when it was last pushed or referenced (push time for retention). */
  modifiedMs: number;
  /** Config and distributable layers. */
  blobs: string[];
  /** An index's child manifests. */
  children: string[];
  subject?: string;
  /** False when the body could not be read or parsed, so what it references is unknown. */
  understood: boolean;
}

export interface RepositoryInventory {
  name: string;
  /** tag -> digest */
  tags: Map<string, string>;
  manifests: Map<string, ManifestFacts>;
  /** Blobs the repository was given (its `_layers` links). */
  links: string[];
}

export interface Inventory {
  takenMs: number;
  blobs: Map<string, BlobStat>;
  repositories: RepositoryInventory[];
  uploads: UploadSession[];
}

export async function takeInventory(store: Store, signal?: AbortSignal): Promise<Inventory> {
  const takenMs = Date.now();
  // Blobs first: a manifest pushed while the repositories are read is then stat'ed on its own.
  const blobs = new Map<string, BlobStat>();
  for await (const blob of store.listBlobs()) {
    signal?.throwIfAborted();
    blobs.set(blob.digest, blob);
  }
  const repositories: RepositoryInventory[] = [];
  for (const name of await store.listRepositories()) {
    signal?.throwIfAborted();
    repositories.push(await repositoryInventory(store, name, blobs, takenMs));
  }
  const uploads: UploadSession[] = [];
  for await (const upload of store.listUploads()) uploads.push(upload);
  return { takenMs, blobs, repositories, uploads };
}

async function repositoryInventory(store: Store, name: string, blobs: Map<string, BlobStat>, takenMs: number): Promise<RepositoryInventory> {
  const tags = new Map<string, string>();
  await eachLimited(await store.listTags(name), async (tag) => {
    const digest = await store.resolveTag(name, tag);
    if (digest) tags.set(tag, digest);
  });
  const manifests = new Map<string, ManifestFacts>();
  const digests = await store.listManifests(name);
  await eachLimited(digests, async (digest) => {
    manifests.set(digest, await manifestFacts(store, name, digest, blobs, takenMs));
  });
  // Listing order, whatever order the reads finished in: plans (and dry runs) come out alike.
  const ordered = new Map(digests.filter((d) => manifests.has(d)).map((d) => [d, manifests.get(d)!]));
  return { name, tags, manifests: ordered, links: await store.listRepositoryBlobs(name) };
}

/** Small reads, a few at a time: a collection should not wait on one file read after another. */
const READS_IN_FLIGHT = 8;

async function eachLimited<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(READS_IN_FLIGHT, items.length) }, worker));
}

async function manifestFacts(store: Store, repository: string, digest: string, blobs: Map<string, BlobStat>, takenMs: number): Promise<ManifestFacts> {
  const stored = await store.getManifest(repository, digest);
  const stat = blobs.get(digest) ?? (await store.statBlob(digest));
  // A manifest whose body cannot be read is treated as just pushed: never removed on a guess.
  if (!stored || !stat) return { digest, mediaType: stored?.mediaType ?? '', size: 0, modifiedMs: takenMs, blobs: [], children: [], understood: false };
  const facts: ManifestFacts = { digest, mediaType: stored.mediaType, size: stored.body.length, modifiedMs: stat.modifiedMs, blobs: [], children: [], understood: true };
  try {
    const parsed = parseManifest(stored.body, stored.mediaType);
    facts.blobs = parsed.blobs.map((d) => d.digest);
    facts.children = parsed.children.map((d) => d.digest);
    if (parsed.subject) facts.subject = parsed.subject.digest;
  } catch (err) {
    if (!(err instanceof ManifestInvalid)) throw err;
    facts.understood = false;
  }
  return facts;
}
