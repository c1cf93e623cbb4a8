/**
 * An in-memory store behind the same interface, for fast tests of everything above storage.
 * It holds blobs as Buffers, so it is never used to serve real traffic.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { digestOf, parseDigest } from '../oci/digest';
import { pump } from './body-pump';
import { StorageError, type BlobStat, type ByteRange, type ReferrerDescriptor, type Store, type StoredManifest, type TagInfo, type UploadSession } from './types';

interface Repo {
  blobs: Set<string>;
  manifests: Map<string, { mediaType: string; subject?: string }>;
  /** Tag -> what it points at and when it was last set (the push date the UI shows). */
  tags: Map<string, TagInfo>;
  referrers: Map<string, Map<string, ReferrerDescriptor>>;
}

export class MemoryStore implements Store {
  private readonly blobs = new Map<string, { bytes: Buffer; modifiedMs: number }>();
  private readonly uploads = new Map<string, { session: UploadSession; chunks: Buffer[] }>();
  private readonly repos = new Map<string, Repo>();

  async init(): Promise<void> {}
  async checkWritable(): Promise<void> {}

  private repo(name: string, create = false): Repo | undefined {
    let repo = this.repos.get(name);
    if (!repo && create) {
      repo = { blobs: new Set(), manifests: new Map(), tags: new Map(), referrers: new Map() };
      this.repos.set(name, repo);
    }
    return repo;
  }

  async statBlob(digest: string): Promise<BlobStat | null> {
    const blob = this.blobs.get(digest);
    return blob ? { digest, size: blob.bytes.length, modifiedMs: blob.modifiedMs } : null;
  }

  async openBlob(digest: string, { range }: { range?: ByteRange } = {}): Promise<Readable> {
    const blob = this.blobs.get(digest);
    if (!blob) throw new StorageError('NotFound', `blob ${digest} not found`);
    if (range && (range.start > range.end || range.end >= blob.bytes.length)) throw new StorageError('RangeNotSatisfiable', `range outside ${blob.bytes.length} bytes`);
    return Readable.from([range ? blob.bytes.subarray(range.start, range.end + 1) : blob.bytes]);
  }

  async touchBlob(digest: string): Promise<boolean> {
    const blob = this.blobs.get(digest);
    if (blob) blob.modifiedMs = Date.now();
    return !!blob;
  }

  async deleteBlob(digest: string): Promise<boolean> {
    return this.blobs.delete(digest);
  }

  async *listBlobs(): AsyncIterable<BlobStat> {
    for (const digest of [...this.blobs.keys()]) {
      const st = await this.statBlob(digest);
      if (st) yield st;
    }
  }

  async repositoryBlob(repository: string, digest: string): Promise<BlobStat | null> {
    return this.repo(repository)?.blobs.has(digest) ? this.statBlob(digest) : null;
  }

  async touchRepositoryBlob(repository: string, digest: string): Promise<boolean> {
    return !!this.repo(repository)?.blobs.has(digest) && this.touchBlob(digest);
  }

  async linkBlob(repository: string, digest: string): Promise<void> {
    if (!(await this.touchBlob(digest))) throw new StorageError('NotFound', `blob ${digest} not found`);
    this.repo(repository, true)!.blobs.add(digest);
  }

  async unlinkBlob(repository: string, digest: string): Promise<boolean> {
    return this.repo(repository)?.blobs.delete(digest) ?? false;
  }

  async listRepositoryBlobs(repository: string): Promise<string[]> {
    return [...(this.repo(repository)?.blobs ?? [])].sort();
  }

  async startUpload(repository: string): Promise<UploadSession> {
    const now = Date.now();
    const session = { repository, id: randomUUID(), size: 0, startedMs: now, updatedMs: now };
    this.uploads.set(session.id, { session, chunks: [] });
    return { ...session };
  }

  private upload(repository: string, id: string) {
    const upload = this.uploads.get(id);
    if (!upload || upload.session.repository !== repository) throw new StorageError('UploadNotFound', `upload ${id} not found`);
    return upload;
  }

  async getUpload(repository: string, id: string): Promise<UploadSession> {
    return { ...this.upload(repository, id).session };
  }

  async appendUpload(repository: string, id: string, offset: number, data: Readable, expectedLength?: number): Promise<UploadSession> {
    const upload = this.upload(repository, id);
    if (offset !== upload.session.size) throw new StorageError('RangeMismatch', `upload is at ${upload.session.size} bytes, chunk starts at ${offset}`);
    const chunks: Buffer[] = [];
    const bytes = await pump(data, { maxBytes: expectedLength, onChunk: (chunk) => chunks.push(chunk) });
    if (expectedLength !== undefined && bytes !== expectedLength) throw new StorageError('SizeMismatch', `expected ${expectedLength} bytes, received ${bytes}`);
    upload.chunks.push(...chunks);
    upload.session.size += bytes;
    upload.session.updatedMs = Date.now();
    return { ...upload.session };
  }

  async finishUpload(repository: string, id: string, digest: string): Promise<BlobStat> {
    const upload = this.upload(repository, id);
    const parsed = parseDigest(digest);
    const bytes = Buffer.concat(upload.chunks);
    const actual = parsed ? digestOf(bytes, parsed.algorithm) : '';
    if (actual !== digest) throw new StorageError('DigestMismatch', `upload hashes to ${actual}, not ${digest}`);
    if (!(await this.touchBlob(digest))) this.blobs.set(digest, { bytes, modifiedMs: Date.now() });
    this.repo(repository, true)!.blobs.add(digest);
    this.uploads.delete(id);
    return { digest, size: bytes.length, modifiedMs: Date.now() };
  }

  async cancelUpload(repository: string, id: string): Promise<void> {
    this.upload(repository, id);
    this.uploads.delete(id);
  }

  async *listUploads(): AsyncIterable<UploadSession> {
    for (const { session } of [...this.uploads.values()]) yield { ...session };
  }

  async putManifest(repository: string, manifest: StoredManifest, subject?: { digest: string; descriptor: ReferrerDescriptor }): Promise<void> {
    if (!(await this.touchBlob(manifest.digest))) this.blobs.set(manifest.digest, { bytes: Buffer.from(manifest.body), modifiedMs: Date.now() });
    const repo = this.repo(repository, true)!;
    repo.manifests.set(manifest.digest, { mediaType: manifest.mediaType, subject: subject?.digest });
    if (subject) {
      if (!repo.referrers.has(subject.digest)) repo.referrers.set(subject.digest, new Map());
      repo.referrers.get(subject.digest)!.set(manifest.digest, subject.descriptor);
    }
  }

  async getManifest(repository: string, digest: string): Promise<StoredManifest | null> {
    const link = this.repo(repository)?.manifests.get(digest);
    const blob = this.blobs.get(digest);
    return link && blob ? { digest, mediaType: link.mediaType, body: blob.bytes } : null;
  }

  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    const repo = this.repo(repository);
    const link = repo?.manifests.get(digest);
    if (!repo || !link) return false;
    for (const [tag, target] of repo.tags) if (target.digest === digest) repo.tags.delete(tag);
    if (link.subject) repo.referrers.get(link.subject)?.delete(digest);
    repo.manifests.delete(digest);
    return true;
  }

  async listManifests(repository: string): Promise<string[]> {
    return [...(this.repo(repository)?.manifests.keys() ?? [])].sort();
  }

  async setTag(repository: string, tag: string, digest: string): Promise<void> {
    this.repo(repository, true)!.tags.set(tag, { digest, modifiedMs: Date.now() });
  }

  async resolveTag(repository: string, tag: string): Promise<string | null> {
    return this.repo(repository)?.tags.get(tag)?.digest ?? null;
  }

  async tagInfo(repository: string, tag: string): Promise<TagInfo | null> {
    const info = this.repo(repository)?.tags.get(tag);
    return info ? { ...info } : null;
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    return this.repo(repository)?.tags.delete(tag) ?? false;
  }

  async listTags(repository: string): Promise<string[]> {
    return [...(this.repo(repository)?.tags.keys() ?? [])].sort();
  }

  async listReferrers(repository: string, digest: string): Promise<ReferrerDescriptor[]> {
    const map = this.repo(repository)?.referrers.get(digest);
    return map ? [...map.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, d]) => d) : [];
  }

  async listRepositories(): Promise<string[]> {
    return [...this.repos.entries()].filter(([, r]) => r.blobs.size || r.manifests.size).map(([name]) => name).sort();
  }

  async repositoryExists(repository: string): Promise<boolean> {
    const repo = this.repo(repository);
    return !!repo && (repo.blobs.size > 0 || repo.manifests.size > 0);
  }
}
