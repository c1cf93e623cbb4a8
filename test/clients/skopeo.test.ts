/**
 * skopeo (containers/image, what podman and buildah use) against the registry: a two-platform
 * OCI index copied in and back out with `--all --preserve-digests`, and a single image
 * converted to Docker schema 2 on the way in. Every step is checked from the registry's side
 * (digests, Content-Type, tag list) and the delete must leave a 404 MANIFEST_UNKNOWN.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClientHome, type ClientHome } from '../helpers/client-home';
import { MEDIA, readOciLayout, readTarGz, sha256, writeSingleImageLayout, writeTwoPlatformLayout } from '../helpers/oci-layout';
import { getManifest, listTags, manifestError } from '../helpers/registry-api';
import { showRegistryLogsOnFailure, startRegistryUnderTest, type RegistryUnderTest } from '../helpers/registry-under-test';
import { runCommand } from '../helpers/run-command';

describe('skopeo', () => {
  let registry: RegistryUnderTest;
  let home: ClientHome;
  const skopeo = (args: string[]) =>
    runCommand('skopeo', ['--policy', home.skopeoPolicy, ...args], { env: home.env, timeoutMs: 60_000 });

  beforeAll(async () => {
    registry = await startRegistryUnderTest();
    home = makeClientHome('perch-skopeo-');
  });
  afterAll(async () => {
    await registry?.stop();
    home?.remove();
  });
  showRegistryLogsOnFailure(() => registry);

  it('copies a linux/amd64 + linux/arm64 OCI index in and out with --all --preserve-digests', async () => {
    const repo = 'skopeo/multi';
    const built = writeTwoPlatformLayout(home.folder('source'), 'v1', 'skopeo');
    await skopeo(['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `oci:${built.dir}:v1`, `docker://${registry.host}/${repo}:v1`]);

    // The registry serves the index byte for byte under the tag, and each platform's manifest.
    const top = await getManifest(registry.url, repo, 'v1');
    expect(top.status).toBe(200);
    expect(top.digest).toBe(built.index.digest);
    expect(sha256(top.body)).toBe(built.index.digest);
    expect(top.contentType).toBe(MEDIA.ociIndex);
    for (const image of built.images) {
      const child = await getManifest(registry.url, repo, image.manifest.digest);
      expect(child.status, `manifest for ${image.platform.architecture}`).toBe(200);
      expect(child.digest).toBe(image.manifest.digest);
      expect(child.contentType).toBe(MEDIA.ociManifest);
    }
    expect(await listTags(registry.url, repo)).toEqual(['v1']);
    const tags = JSON.parse((await skopeo(['list-tags', '--tls-verify=false', `docker://${registry.host}/${repo}`])).stdout) as { Tags: string[] };
    expect(tags.Tags).toEqual(['v1']);

    // Back out to a fresh layout: the same index digest and the same set of blobs.
    const backDir = join(home.dir, 'back');
    await skopeo(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${registry.host}/${repo}:v1`, `oci:${backDir}:v1`]);
    const back = readOciLayout(backDir);
    expect(back.tagged('v1')?.digest).toBe(built.index.digest);
    const original = readOciLayout(built.dir);
    expect([...back.reachable(built.index.digest)].sort()).toEqual([...original.reachable(built.index.digest)].sort());
    const armLayer = built.images[1].layers[1].digest;
    expect(readTarGz(back.blob(armLayer)).get('etc/perch-test/arm64.txt')?.toString()).toBe('skopeo built for linux/arm64\n');

    // Delete by digest: the index and its tag are gone.
    await skopeo(['delete', '--tls-verify=false', `docker://${registry.host}/${repo}@${built.index.digest}`]);
    expect(await manifestError(registry.url, repo, built.index.digest)).toEqual({ status: 404, code: 'MANIFEST_UNKNOWN' });
    expect(await manifestError(registry.url, repo, 'v1')).toEqual({ status: 404, code: 'MANIFEST_UNKNOWN' });
    expect(await listTags(registry.url, repo)).not.toContain('v1');
  });

  it('pushes a single-platform image as Docker schema 2 (--format v2s2) and reads it back', async () => {
    const repo = 'skopeo/docker-v2s2';
    const image = writeSingleImageLayout(home.folder('single'), 'single', 'skopeo');
    const digestFile = join(home.dir, 'v2s2.digest');
    await skopeo(['copy', '--format', 'v2s2', '--digestfile', digestFile, '--dest-tls-verify=false', `oci:${image.dir}:single`, `docker://${registry.host}/${repo}:1.0`]);
    const pushed = readFileSync(digestFile, 'utf8').trim();

    const served = await getManifest(registry.url, repo, '1.0');
    expect(served.status).toBe(200);
    expect(served.digest).toBe(pushed);
    expect(sha256(served.body)).toBe(pushed);
    expect(served.contentType).toBe(MEDIA.dockerManifest);
    const manifest = JSON.parse(served.body.toString('utf8')) as {
      mediaType: string;
      config: { mediaType: string; digest: string };
      layers: { mediaType: string; digest: string }[];
    };
    expect(manifest.mediaType).toBe(MEDIA.dockerManifest);
    // Conversion rewrites only the manifest: config and layer bytes (so digests) are unchanged.
    expect(manifest.config).toMatchObject({ mediaType: MEDIA.dockerConfig, digest: image.config.digest });
    expect(manifest.layers.map((l) => [l.mediaType, l.digest])).toEqual(image.layers.map((l) => [MEDIA.dockerLayerGzip, l.digest]));
    expect(await listTags(registry.url, repo)).toEqual(['1.0']);

    const inspected = JSON.parse((await skopeo(['inspect', '--tls-verify=false', `docker://${registry.host}/${repo}:1.0`])).stdout) as {
      Digest: string;
      Layers: string[];
      Architecture: string;
    };
    expect(inspected).toMatchObject({ Digest: pushed, Layers: image.layers.map((l) => l.digest), Architecture: 'amd64' });

    // Pull into a plain directory: the layer arrives intact.
    const dirCopy = join(home.dir, 'v2s2-dir');
    await skopeo(['copy', '--src-tls-verify=false', `docker://${registry.host}/${repo}:1.0`, `dir:${dirCopy}`]);
    const layer = readFileSync(join(dirCopy, image.layers[0].digest.slice('sha256:'.length)));
    expect(sha256(layer)).toBe(image.layers[0].digest);
    expect(readTarGz(layer).get('hello.txt')?.toString()).toBe('skopeo: hello from a single-platform image\n');

    await skopeo(['delete', '--tls-verify=false', `docker://${registry.host}/${repo}:1.0`]);
    expect(await manifestError(registry.url, repo, pushed)).toEqual({ status: 404, code: 'MANIFEST_UNKNOWN' });
    expect(await listTags(registry.url, repo)).not.toContain('1.0');
  });

  it('turns the two-platform index into a Docker manifest list (--all --format v2s2)', async () => {
    const repo = 'skopeo/docker-list';
    const built = writeTwoPlatformLayout(home.folder('list-source'), 'v1', 'skopeo-list');
    const digestFile = join(home.dir, 'list.digest');
    await skopeo(['copy', '--all', '--format', 'v2s2', '--digestfile', digestFile, '--dest-tls-verify=false', `oci:${built.dir}:v1`, `docker://${registry.host}/${repo}:v1`]);
    const pushed = readFileSync(digestFile, 'utf8').trim();
    const list = await getManifest(registry.url, repo, 'v1');
    expect({ status: list.status, digest: list.digest, type: list.contentType }).toEqual({ status: 200, digest: pushed, type: MEDIA.dockerManifestList });
    const parsed = JSON.parse(list.body.toString('utf8')) as { manifests: { mediaType: string; digest: string; platform: { architecture: string } }[] };
    expect(parsed.manifests.map((m) => [m.mediaType, m.platform.architecture])).toEqual([
      [MEDIA.dockerManifest, 'amd64'],
      [MEDIA.dockerManifest, 'arm64'],
    ]);
    for (const [i, child] of parsed.manifests.entries()) {
      const served = await getManifest(registry.url, repo, child.digest);
      expect(served.contentType).toBe(MEDIA.dockerManifest);
      const layers = (JSON.parse(served.body.toString('utf8')) as { layers: { digest: string }[] }).layers.map((l) => l.digest);
      expect(layers).toEqual(built.images[i].layers.map((l) => l.digest));
    }
    await skopeo(['delete', '--tls-verify=false', `docker://${registry.host}/${repo}@${pushed}`]);
    expect(await manifestError(registry.url, repo, 'v1')).toEqual({ status: 404, code: 'MANIFEST_UNKNOWN' });
  });
});
