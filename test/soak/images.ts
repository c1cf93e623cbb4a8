/**
 * The soak's content: OCI images of one to three layers, from a few hundred bytes to a few
 * MiB. Some layers come from a small pool of base layers that images in every repository
 * share (so pushes meet content already stored, HEAD finds it, mounts find it, and GC must
 * keep a base layer that one tagged image still uses after another image lets go of it); the
 * rest are new bytes. Layer bytes are the benchmark's seeded PRNG (test/bench/client/content.ts),
 * so the model keeps only a seed and a size per layer and makes the bytes again when needed.
 */
import { prngBytes, sha256 } from '../bench/client/content';
import type { Rng } from './rng';

export const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json';
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';

const KiB = 1024;
const MiB = 1024 * KiB;

export interface BlobSpec {
  digest: string;
  size: number;
  /** PRNG seed of a layer's bytes; a config keeps its (small) bytes instead. */
  seed?: string;
  data?: Buffer;
  /** One of the shared base layers. */
  base?: boolean;
}

export interface ImageSpec {
  digest: string;
  manifest: Buffer;
  config: BlobSpec;
  layers: BlobSpec[];
}

export function blobBytes(blob: BlobSpec): Buffer {
  return blob.data ?? prngBytes(blob.seed!, blob.size);
}

export function blobsOf(image: ImageSpec): BlobSpec[] {
  return [image.config, ...image.layers];
}

/** What a pull fetches (the UI's "size"): manifest, config and layers. */
export function imageSize(image: ImageSpec): number {
  return image.manifest.length + image.config.size + image.layers.reduce((n, l) => n + l.size, 0);
}

/** Sizes of the shared base layers: odd sizes, so no chunk boundary lines up by luck. */
const BASE_SIZES = [700, 48 * KiB + 3, 300 * KiB + 17, 1 * MiB + 5, 2 * MiB + 77, 3 * MiB + 123];
/** Sizes of new layers, drawn with these weights: mostly small, some of a few MiB. */
const LAYER_SIZES: Array<[size: number, weight: number]> = [
  [211, 3],
  [3 * KiB + 1, 3],
  [40 * KiB + 9, 3],
  [250 * KiB + 33, 2],
  [900 * KiB + 1, 2],
  [2 * MiB + 311, 1],
  [4 * MiB - 13, 1],
];

export class ImageFactory {
  readonly baseLayers: BlobSpec[];
  private count = 0;

  constructor(
    private readonly runId: string,
    private readonly rng: Rng,
  ) {
    this.baseLayers = BASE_SIZES.map((size, i) => {
      const seed = `soak/${runId}/base${i}`;
      return { digest: sha256(prngBytes(seed, size)), size, seed, base: true };
    });
  }

  /** A new image: a config naming it, one to three layers. `bases` forces those base layers in. */
  next(bases: BlobSpec[] = []): ImageSpec {
    const id = `${this.runId}/${++this.count}`;
    const layers: BlobSpec[] = [...bases];
    const count = this.rng.int(1, 3);
    while (layers.length < count + bases.length) {
      if (this.rng.chance(0.35)) {
        const base = this.rng.pick(this.baseLayers);
        if (!layers.includes(base)) layers.push(base);
        continue;
      }
      const size = this.rng.weighted(LAYER_SIZES);
      const seed = `soak/${id}/layer${layers.length}`;
      layers.push({ digest: sha256(prngBytes(seed, size)), size, seed });
    }
    const configData = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        created: new Date().toISOString(),
        config: { Labels: { 'soak.image': id } },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      }),
    );
    const config: BlobSpec = { digest: sha256(configData), size: configData.length, data: configData };
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST_TYPE,
        config: { mediaType: CONFIG_TYPE, digest: config.digest, size: config.size },
        layers: layers.map((l) => ({ mediaType: LAYER_TYPE, digest: l.digest, size: l.size })),
      }),
    );
    return { digest: sha256(manifest), manifest, config, layers };
  }
}
