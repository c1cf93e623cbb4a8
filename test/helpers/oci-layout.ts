/**
 * Writes and reads OCI image layouts on disk (image-spec `image-layout.md`): the `oci-layout`
 * marker, `index.json`, and content-addressed `blobs/sha256/<hex>`. Client tests build their
 * input here (real tar+gzip layers, configs, per-platform manifests, an image index) so that
 * skopeo, crane and regctl push something a user could have built, and read back what the
 * clients pulled to compare digests.
 *
 * Everything is deterministic (fixed mtimes, fixed gzip level), so the same spec gives the same
 * digests on every run; tests still compute expectations from what was written, never from
 * constants.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** image-spec annotations.md: the tag name of an index.json entry. */
export const REF_NAME = 'org.opencontainers.image.ref.name';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  artifactType?: string;
}

export interface LayerFile {
  path: string;
  content: string | Buffer;
  /** Default 0o644. */
  mode?: number;
}

export interface ImageSpec {
  platform: Platform;
  /** One entry per layer, each a list of files (the layer's tar contents). */
  layers: LayerFile[][];
  /** Image config `config.Cmd`. */
  cmd?: string[];
}

export interface BuiltImage {
  platform: Platform;
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  /** Uncompressed layer digests, as the config's rootfs.diff_ids lists them. */
  diffIds: string[];
}

export interface BuiltIndex {
  index: Descriptor;
  images: BuiltImage[];
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

// --- tar (POSIX ustar) -----------------------------------------------------------------------

const BLOCK = 512;
/** A fixed mtime (2024-01-01) keeps layer digests stable from run to run. */
const MTIME = 1_704_067_200;

function octal(value: number, width: number): string {
  // width includes the terminating NUL
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function tarHeader(path: string, size: number, mode: number, type: '0' | '5'): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  if (Buffer.byteLength(path) > 100) throw new Error(`tar path too long for this writer (max 100 bytes): ${path}`);
  h.write(path, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(MTIME, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum field counts as spaces while summing
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/** A tar archive of `files`, with a directory entry for each parent folder, in path order. */
export function makeTar(files: LayerFile[]): Buffer {
  const parts: Buffer[] = [];
  const dirs = new Set<string>();
  for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    const segments = f.path.split('/');
    for (let i = 1; i < segments.length; i++) {
      const dir = `${segments.slice(0, i).join('/')}/`;
      if (!dirs.has(dir)) {
        dirs.add(dir);
        parts.push(tarHeader(dir, 0, 0o755, '5'));
      }
    }
    const body = Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content);
    parts.push(tarHeader(f.path, body.length, f.mode ?? 0o644, '0'), body);
    const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0)); // end-of-archive marker
  return Buffer.concat(parts);
}

/** The regular files in a tar archive (directories skipped), by path. */
export function readTar(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    const h = tar.subarray(offset, offset + BLOCK);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const prefix = h.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim() || '0', 8);
    const type = String.fromCharCode(h[156]);
    offset += BLOCK;
    if (type === '0' || type === '\0') {
      files.set(prefix ? `${prefix}/${name}` : name, Buffer.from(tar.subarray(offset, offset + size)));
    }
    offset += Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}

export function readTarGz(gz: Buffer): Map<string, Buffer> {
  return readTar(gunzipSync(gz));
}

// --- writing a layout ------------------------------------------------------------------------

export class OciLayoutWriter {
  private readonly entries: Descriptor[] = [];
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  }

  /** Stores a blob under its digest and returns the digest. */
  blob(data: Buffer | string): { digest: string; size: number } {
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
    const digest = sha256(buf);
    writeFileSync(join(this.dir, 'blobs/sha256', digest.slice('sha256:'.length)), buf);
    return { digest, size: buf.length };
  }

  /** A single-platform image: gzip layers, a config naming their diff_ids, an OCI manifest. */
  image(spec: ImageSpec): BuiltImage {
    const layers: Descriptor[] = [];
    const diffIds: string[] = [];
    for (const files of spec.layers) {
      const tar = makeTar(files);
      diffIds.push(sha256(tar));
      const gz = gzipSync(tar, { level: 6 });
      layers.push({ mediaType: MEDIA.ociLayerGzip, ...this.blob(gz) });
    }
    const configJson = JSON.stringify({
      created: new Date(MTIME * 1000).toISOString(),
      architecture: spec.platform.architecture,
      os: spec.platform.os,
      ...(spec.platform.variant ? { variant: spec.platform.variant } : {}),
      config: { Cmd: spec.cmd ?? ['/bin/sh'], Env: ['PATH=/usr/local/bin:/usr/bin:/bin'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: diffIds.map(() => ({ created: new Date(MTIME * 1000).toISOString(), created_by: 'perch test layer' })),
    });
    const config: Descriptor = { mediaType: MEDIA.ociConfig, ...this.blob(configJson) };
    const manifestJson = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers });
    const manifest: Descriptor = { mediaType: MEDIA.ociManifest, ...this.blob(manifestJson), platform: spec.platform };
    return { platform: spec.platform, manifest, config, layers, diffIds };
  }

  /** An OCI image index over `images`, each entry carrying its platform. */
  index(images: BuiltImage[]): BuiltIndex {
    const indexJson = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociIndex,
      manifests: images.map((i) => ({ ...i.manifest, platform: i.platform })),
    });
    return { index: { mediaType: MEDIA.ociIndex, ...this.blob(indexJson) }, images };
  }

  /** Names `target` as `tag` in index.json (what `oci:DIR:tag` and `ocidir://DIR:tag` resolve). */
  tag(tag: string, target: BuiltImage | BuiltIndex): Descriptor {
    const d = 'index' in target ? target.index : target.manifest;
    const entry: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size, annotations: { [REF_NAME]: tag } };
    this.entries.push(entry);
    return entry;
  }

  /** Writes `oci-layout` and `index.json`; call after the last tag(). */
  save(): void {
    writeFileSync(join(this.dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(
      join(this.dir, 'index.json'),
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: this.entries }),
    );
  }
}

/** The two-platform (linux/amd64 + linux/arm64) index most client tests push, tagged `tag`. */
export function writeTwoPlatformLayout(dir: string, tag: string, label = 'perch'): BuiltIndex & { dir: string } {
  const layout = new OciLayoutWriter(dir);
  const images = (['amd64', 'arm64'] as const).map((architecture) =>
    layout.image({
      platform: { os: 'linux', architecture },
      layers: [
        [{ path: 'etc/perch-test/base.txt', content: `${label} base layer\n` }],
        [{ path: `etc/perch-test/${architecture}.txt`, content: `${label} built for linux/${architecture}\n` }],
      ],
      cmd: ['/bin/cat', `/etc/perch-test/${architecture}.txt`],
    }),
  );
  const built = layout.index(images);
  layout.tag(tag, built);
  layout.save();
  return { ...built, dir };
}

/** A single linux/amd64 image, tagged `tag`. */
export function writeSingleImageLayout(dir: string, tag: string, label = 'perch'): BuiltImage & { dir: string } {
  const layout = new OciLayoutWriter(dir);
  const image = layout.image({
    platform: { os: 'linux', architecture: 'amd64' },
    layers: [[{ path: 'hello.txt', content: `${label}: hello from a single-platform image\n` }]],
    cmd: ['/bin/cat', '/hello.txt'],
  });
  layout.tag(tag, image);
  layout.save();
  return { ...image, dir };
}

// --- reading a layout ------------------------------------------------------------------------

export interface OciLayout {
  dir: string;
  /** index.json's entries. */
  entries: Descriptor[];
  /** The entry tagged `tag` (by org.opencontainers.image.ref.name), or undefined. */
  tagged(tag: string): Descriptor | undefined;
  blob(digest: string): Buffer;
  hasBlob(digest: string): boolean;
  /** Every digest reachable from `digest`: itself, child manifests, configs, layers. */
  reachable(digest: string): Set<string>;
}

function blobPath(dir: string, digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return join(dir, 'blobs', algorithm, hex);
}

export function readOciLayout(dir: string): OciLayout {
  if (!existsSync(join(dir, 'oci-layout'))) {
    throw new Error(`${dir} is not an OCI image layout (no oci-layout file); contents: ${readdirSync(dir).join(', ')}`);
  }
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests?: Descriptor[] };
  const entries = index.manifests ?? [];
  const blob = (digest: string) => {
    const data = readFileSync(blobPath(dir, digest));
    const actual = sha256(data);
    if (digest.startsWith('sha256:') && actual !== digest) throw new Error(`${dir}: blob ${digest} holds content with digest ${actual}`);
    return data;
  };
  const reachable = (digest: string, seen = new Set<string>()): Set<string> => {
    if (seen.has(digest)) return seen;
    seen.add(digest);
    const doc = JSON.parse(blob(digest).toString('utf8')) as {
      manifests?: Descriptor[];
      config?: Descriptor;
      layers?: Descriptor[];
    };
    for (const child of doc.manifests ?? []) reachable(child.digest, seen);
    if (doc.config) seen.add(doc.config.digest);
    for (const layer of doc.layers ?? []) seen.add(layer.digest);
    return seen;
  };
  return {
    dir,
    entries,
    tagged: (tag) => entries.find((e) => e.annotations?.[REF_NAME] === tag),
    blob,
    hasBlob: (digest) => existsSync(blobPath(dir, digest)),
    reachable: (digest) => reachable(digest),
  };
}
