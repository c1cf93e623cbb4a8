/** Small request helpers for tests that speak the registry API directly. */
import { createHash } from 'node:crypto';

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export interface PushedImage {
  manifest: Buffer;
  digest: string;
  blobs: Array<{ digest: string; bytes: Buffer }>;
}

/** Pushes a blob monolithically (POST ?digest=); returns its digest. */
export async function pushBlob(base: string, repo: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const res = await fetch(`${base}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: new Uint8Array(bytes), headers: { 'Content-Type': 'application/octet-stream' } });
  if (res.status !== 201) throw new Error(`push blob ${digest}: ${res.status} ${await res.text()}`);
  return digest;
}

/** Pushes a small OCI image (config + layers + manifest) under `tag`. */
export async function pushImage(base: string, repo: string, tag: string, layers: Buffer[], extra: Record<string, unknown> = {}): Promise<PushedImage> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const blobs: Array<{ digest: string; bytes: Buffer }> = [{ digest: await pushBlob(base, repo, config), bytes: config }];
  for (const layer of layers) blobs.push({ digest: await pushBlob(base, repo, layer), bytes: layer });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: blobs[0].digest, size: config.length },
      layers: blobs.slice(1).map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: b.digest, size: b.bytes.length })),
      ...extra,
    }),
  );
  const res = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: new Uint8Array(manifest), headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
  if (res.status !== 201) throw new Error(`push manifest: ${res.status} ${await res.text()}`);
  return { manifest, digest: sha256(manifest), blobs };
}
