/**
 * Benchmark content: layer bytes from a seeded PRNG (the AES-128-CTR keystream of a key
 * derived from the seed), so every image has distinct, incompressible bytes and distinct
 * digests, the same on every server within a run and new in every run, generated at memory
 * speed. Everything, digests included, is computed before the clock starts.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';

export interface Blob {
  digest: string;
  size: number;
  data: Buffer;
}

export interface Image {
  repo: string;
  tag: string;
  config: Blob;
  layers: Blob[];
  manifest: Buffer;
  manifestDigest: string;
  /** Bytes of all blobs (config and layers), what push and pull move besides the manifest. */
  blobBytes: number;
}

export const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json';
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';

export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** `size` pseudo-random bytes determined by `seed`. */
export function prngBytes(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

function blob(data: Buffer): Blob {
  return { digest: sha256(data), size: data.length, data };
}

/** One OCI image: a small config that names the seed, and `layerCount` PRNG layers. */
export function makeImage(seed: string, repo: string, tag: string, layerCount: number, layerSize: number): Image {
  const layers = Array.from({ length: layerCount }, (_, i) => blob(prngBytes(`${seed}/layer${i}`, layerSize)));
  const config = blob(
    Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { seed } }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } })),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: { mediaType: CONFIG_TYPE, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: LAYER_TYPE, digest: l.digest, size: l.size })),
    }),
  );
  return {
    repo,
    tag,
    config,
    layers,
    manifest,
    manifestDigest: sha256(manifest),
    blobBytes: config.size + layers.reduce((n, l) => n + l.size, 0),
  };
}

/** Writes a big PRNG file in pieces (never all in memory) and returns its digest. */
export async function writePrngFile(path: string, seed: string, size: number): Promise<string> {
  const piece = 8 * 1024 * 1024;
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  const zeros = Buffer.alloc(piece);
  for (let done = 0; done < size; done += piece) {
    const chunk = cipher.update(zeros.subarray(0, Math.min(piece, size - done)));
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return `sha256:${hash.digest('hex')}`;
}
