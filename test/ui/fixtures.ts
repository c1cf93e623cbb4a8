/**
 * What the UI tests push besides the seed charts: a two-platform image index (with a BuildKit
 * style attestation beside the platforms) and an SBOM-like referrer, over the registry API
 * with Basic credentials, returning the sizes the UI must report computed from the bytes
 * pushed, not read back from the registry.
 */
import { createHash } from 'node:crypto';

export interface Login {
  username: string;
  password: string;
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function basic(login: Login): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}` };
}

async function expectStatus(res: Response, status: number, what: string): Promise<void> {
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${await res.text()}`);
}

export async function pushBlob(base: string, repo: string, bytes: Buffer, login: Login): Promise<{ digest: string; size: number }> {
  const digest = sha256(bytes);
  const res = await fetch(`${base}/v2/${repo}/blobs/uploads/?digest=${digest}`, {
    method: 'POST',
    body: new Uint8Array(bytes),
    headers: { ...basic(login), 'Content-Type': 'application/octet-stream' },
  });
  await expectStatus(res, 201, `push blob ${digest} to ${repo}`);
  return { digest, size: bytes.length };
}

export async function pushManifest(base: string, repo: string, ref: string, manifest: object, mediaType: string, login: Login): Promise<{ digest: string; size: number }> {
  const body = Buffer.from(JSON.stringify(manifest));
  const res = await fetch(`${base}/v2/${repo}/manifests/${ref}`, {
    method: 'PUT',
    body: new Uint8Array(body),
    headers: { ...basic(login), 'Content-Type': mediaType },
  });
  await expectStatus(res, 201, `push manifest ${repo}:${ref}`);
  return { digest: sha256(body), size: body.length };
}

export interface PushedImage {
  digest: string;
  manifestSize: number;
  /** Manifest + config + layers: what a pull of this image fetches. */
  pullBytes: number;
}

export async function pushImage(base: string, repo: string, ref: string, platform: { os: string; architecture: string; variant?: string }, layerText: string, login: Login): Promise<PushedImage> {
  const config = await pushBlob(base, repo, Buffer.from(JSON.stringify({ ...platform, created: '2024-05-01T12:00:00Z', rootfs: { type: 'layers', diff_ids: [] } })), login);
  const layer = await pushBlob(base, repo, Buffer.from(layerText.repeat(40)), login);
  const manifest = await pushManifest(
    base,
    repo,
    ref,
    {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer, annotations: { 'org.opencontainers.image.title': `${platform.architecture}.tar.gz` } }],
    },
    OCI_MANIFEST,
    login,
  );
  return { digest: manifest.digest, manifestSize: manifest.size, pullBytes: manifest.size + config.size + layer.size };
}

export interface PushedIndex {
  digest: string;
  size: number;
  amd64: PushedImage;
  arm64: PushedImage;
  attestation: PushedImage;
  /** Index + every child's pull bytes. */
  pullBytes: number;
}

/** An index with linux/amd64, linux/arm64/v8 and an attestation manifest (platform unknown/unknown), tagged `tag`. */
export async function pushPlatformIndex(base: string, repo: string, tag: string, login: Login): Promise<PushedIndex> {
  const amd64 = await pushImage(base, repo, 'build-amd64', { os: 'linux', architecture: 'amd64' }, 'amd64 layer ', login);
  const arm64 = await pushImage(base, repo, 'build-arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' }, 'arm64 layer ', login);
  const attestation = await pushImage(base, repo, 'build-attestation', { os: 'unknown', architecture: 'unknown' }, 'in-toto ', login);
  const index = await pushManifest(
    base,
    repo,
    tag,
    {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: amd64.digest, size: amd64.manifestSize, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: OCI_MANIFEST, digest: arm64.digest, size: arm64.manifestSize, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        {
          mediaType: OCI_MANIFEST,
          digest: attestation.digest,
          size: attestation.manifestSize,
          platform: { os: 'unknown', architecture: 'unknown' },
          annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd64.digest },
        },
      ],
    },
    OCI_INDEX,
    login,
  );
  return { digest: index.digest, size: index.size, amd64, arm64, attestation, pullBytes: index.size + amd64.pullBytes + arm64.pullBytes + attestation.pullBytes };
}

export const SBOM_TYPE = 'application/vnd.example.sbom.v1+json';

/** An artifact whose subject is `subject`, pushed by digest (what cosign, notation and oras attach do). */
export async function pushReferrer(base: string, repo: string, subject: { digest: string; size: number }, login: Login): Promise<{ digest: string; size: number }> {
  const empty = await pushBlob(base, repo, Buffer.from('{}'), login);
  const sbom = await pushBlob(base, repo, Buffer.from(JSON.stringify({ packages: ['busybox'] })), login);
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: SBOM_TYPE,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', ...empty },
    layers: [{ mediaType: 'application/json', ...sbom }],
    subject: { mediaType: OCI_INDEX, ...subject },
    annotations: { 'org.opencontainers.image.created': '2024-05-02T08:30:00Z' },
  };
  return pushManifest(base, repo, sha256(JSON.stringify(manifest)), manifest, OCI_MANIFEST, login);
}
