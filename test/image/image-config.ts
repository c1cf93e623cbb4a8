/**
 * Reads an image's config (USER, ENTRYPOINT, CMD, ExposedPorts) from the registry it was
 * pushed to, i.e. exactly what containerd pulled, rather than from the builder's own store.
 */
import type { ImageConfig } from './pod-run-spec';

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface PulledImage {
  digest: string;
  manifest: { config: { digest: string }; layers: Array<{ digest: string; size: number }> };
  config: ImageConfig;
}

export async function fetchImageConfig(registryUrl: string, repository: string, tag: string, authorization?: string): Promise<PulledImage> {
  const headers: Record<string, string> = { Accept: MANIFEST_TYPES };
  if (authorization) headers.Authorization = authorization;
  const res = await fetch(`${registryUrl}/v2/${repository}/manifests/${tag}`, { headers });
  if (!res.ok) throw new Error(`GET manifest ${repository}:${tag} answered ${res.status}: ${await res.text()}`);
  const manifest = (await res.json()) as PulledImage['manifest'];
  const blob = await fetch(`${registryUrl}/v2/${repository}/blobs/${manifest.config.digest}`, {
    headers: authorization ? { Authorization: authorization } : {},
  });
  if (!blob.ok) throw new Error(`GET config blob ${manifest.config.digest} answered ${blob.status}`);
  const config = ((await blob.json()) as { config?: ImageConfig }).config ?? {};
  return { digest: res.headers.get('docker-content-digest') ?? '', manifest, config };
}

/** "65532:65532" -> { uid: 65532, gid: 65532 }; a name instead of a number is an error (Kubernetes' runAsNonRoot cannot check names). */
export function numericUser(user: string | undefined): { uid: number; gid?: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(user ?? '');
  if (!m) throw new Error(`the image's USER is "${user ?? ''}"; it must be numeric (uid or uid:gid) so runAsNonRoot can verify it`);
  return m[2] === undefined ? { uid: Number(m[1]) } : { uid: Number(m[1]), gid: Number(m[2]) };
}
