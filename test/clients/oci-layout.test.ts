/**
 * The layouts the client suites push are only evidence if real tools read them as users'
 * images: GNU tar lists our layers, and skopeo (containers/image) parses the index, the
 * per-platform manifests and the configs, before any registry is involved.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeClientHome } from '../helpers/client-home';
import { MEDIA, readOciLayout, readTarGz, sha256, writeTwoPlatformLayout } from '../helpers/oci-layout';
import { runCommand } from '../helpers/run-command';
import { tempDir } from '../helpers/temp-dir';

describe('test/helpers/oci-layout.ts', () => {
  const work = tempDir('perch-layout-');
  const home = makeClientHome();
  afterAll(() => home.remove());

  it('writes gzip layers that GNU tar lists and extracts', async () => {
    const built = writeTwoPlatformLayout(join(work, 'two'), 'v1');
    const layer = built.images[1].layers[1];
    const blob = join(built.dir, 'blobs/sha256', layer.digest.slice(7));
    const listing = await runCommand('tar', ['-tvzf', blob]);
    expect(listing.stdout).toMatch(/etc\/perch-test\/arm64\.txt/);
    const content = await runCommand('tar', ['-xzOf', blob, 'etc/perch-test/arm64.txt']);
    expect(content.stdout).toBe('perch built for linux/arm64\n');
    // our reader agrees with GNU tar, and diff_ids hash the uncompressed tar
    expect(readTarGz(readFileSync(blob)).get('etc/perch-test/arm64.txt')?.toString()).toBe(content.stdout);
  });

  it('writes an index that skopeo reads as a two-platform image', async () => {
    const built = writeTwoPlatformLayout(join(work, 'skopeo'), 'v1');
    const raw = await runCommand('skopeo', ['--policy', home.skopeoPolicy, 'inspect', '--raw', `oci:${built.dir}:v1`], { env: home.env });
    expect(sha256(raw.stdout)).toBe(built.index.digest);
    const index = JSON.parse(raw.stdout) as { mediaType: string; manifests: { platform: { architecture: string } }[] };
    expect(index.mediaType).toBe(MEDIA.ociIndex);
    expect(index.manifests.map((m) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
    for (const image of built.images) {
      const arch = image.platform.architecture;
      const info = await runCommand(
        'skopeo',
        ['--policy', home.skopeoPolicy, '--override-arch', arch, '--override-os', 'linux', 'inspect', `oci:${built.dir}:v1`],
        { env: home.env },
      );
      // (skopeo 1.9 reports the index's digest as Digest here, so the layers identify the image)
      const parsed = JSON.parse(info.stdout) as { Architecture: string; Layers: string[] };
      expect(parsed.Architecture).toBe(arch);
      expect(parsed.Layers).toEqual(image.layers.map((l) => l.digest));
    }
    const layout = readOciLayout(built.dir);
    expect(layout.tagged('v1')?.digest).toBe(built.index.digest);
    // index + 2 manifests + 2 configs + 4 layers, the base layer identical on both platforms
    expect(layout.reachable(built.index.digest).size).toBe(1 + 2 + 2 + 3);
  });
});
