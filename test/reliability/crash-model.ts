/**
 * What the kill -9 loop (crash-loop.test.ts) may expect of the registry after each restart:
 * for every tag, the manifests it may point at (one once its last change was acknowledged; two
 * while a change was in flight when the kill came, since either outcome is right), and for
 * every chunked upload left open, the bytes the server acknowledged to the client.
 */
import { randomBytes } from 'node:crypto';
import { sha256 } from '../helpers/oci-client';

export interface Image {
  digest: string;
  manifest: Buffer;
  blobs: Array<{ digest: string; size: number }>;
}

/** A tag's possible states; `null` is "not there". */
export class TagModel {
  private readonly tags = new Map<string, Set<Image | null>>();

  /** Before a change is sent: from now on either state is right. */
  maybe(tag: string, next: Image | null): void {
    const states = this.tags.get(tag) ?? new Set<Image | null>([null]);
    states.add(next);
    this.tags.set(tag, states);
  }

  /** The change was acknowledged: one state again. */
  settle(tag: string, state: Image | null): void {
    if (state === null) this.tags.delete(tag);
    else this.tags.set(tag, new Set([state]));
  }

  /** The tags whose state is known for certain, with it. */
  certain(): Array<[string, Image]> {
    const out: Array<[string, Image]> = [];
    for (const [tag, states] of this.tags) {
      const [only] = states;
      if (states.size === 1 && only) out.push([tag, only]);
    }
    return out;
  }

  /** Every tag and what it may be. */
  entries(): Array<[string, Set<Image | null>]> {
    return [...this.tags];
  }

  /** A deleted manifest takes every tag that certainly points at it. */
  dropDigest(digest: string): void {
    for (const [tag, states] of this.tags) for (const state of states) if (state?.digest === digest) this.maybe(tag, null);
  }
}

/** A chunked upload the client keeps open across kills. */
export interface OpenUpload {
  repo: string;
  location: string;
  bytes: Buffer;
  /** The offset of the last 202 the client received. */
  acknowledged: number;
  /** Length of a PATCH that got no answer (the kill came first), if any. */
  unanswered?: number;
}

export function randomImage(salt: string): { image: Image; config: Buffer; layers: Buffer[] } {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', salt }));
  const layers = Array.from({ length: 1 + Math.floor(Math.random() * 2) }, () => randomBytes(1024 + Math.floor(Math.random() * 200 * 1024)));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(l), size: l.length })),
    }),
  );
  const blobs = [config, ...layers].map((b) => ({ digest: sha256(b), size: b.length }));
  return { image: { digest: sha256(manifest), manifest, blobs }, config, layers };
}
