/**
 * crane (go-containerregistry, the library behind ko, kaniko and many CI tools) against the
 * registry: push an OCI layout holding a two-platform index, then digest, manifest, blob,
 * pull, copy, tag, ls, catalog and delete, each checked from the registry's side.
 * go-containerregistry talks plain HTTP to 127.0.0.1 by itself; the LAN-address suite covers
 * `--insecure`.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClientHome, type ClientHome } from '../helpers/client-home';
import { MEDIA, readOciLayout, readTarGz, sha256, writeTwoPlatformLayout } from '../helpers/oci-layout';
import { catalog, getManifest, listTags, manifestError } from '../helpers/registry-api';
import { showRegistryLogsOnFailure, startRegistryUnderTest, type RegistryUnderTest } from '../helpers/registry-under-test';
import { runCommand } from '../helpers/run-command';

describe('crane', () => {
  let registry: RegistryUnderTest;
  let home: ClientHome;
  const craneBytes = async (args: string[]) => (await runCommand('crane', args, { env: home.env, timeoutMs: 60_000 })).stdoutBytes;
  const crane = async (args: string[]) => (await craneBytes(args)).toString().trim();

  beforeAll(async () => {
    registry = await startRegistryUnderTest();
    home = makeClientHome('perch-crane-');
  });
  afterAll(async () => {
    await registry?.stop();
    home?.remove();
  });
  showRegistryLogsOnFailure(() => registry);

  it('push, digest, manifest, blob, pull, copy, tag, ls, catalog and delete of a two-platform index', async () => {
    const built = writeTwoPlatformLayout(home.folder('source'), 'v1', 'crane');
    const ref = `${registry.host}/crane/multi`;

    // crane push prints the pushed reference by digest.
    expect(await crane(['push', built.dir, `${ref}:v1`])).toBe(`${ref}@${built.index.digest}`);
    const served = await getManifest(registry.url, 'crane/multi', 'v1');
    expect({ status: served.status, digest: served.digest, type: served.contentType }).toEqual({
      status: 200,
      digest: built.index.digest,
      type: MEDIA.ociIndex,
    });

    // crane digest does a HEAD: Docker-Content-Digest, Content-Type and Content-Length must be right.
    expect(await crane(['digest', `${ref}:v1`])).toBe(built.index.digest);
    expect(await crane(['digest', '--platform', 'linux/arm64', `${ref}:v1`])).toBe(built.images[1].manifest.digest);
    expect(sha256(await craneBytes(['manifest', `${ref}:v1`]))).toBe(built.index.digest);
    const config = await craneBytes(['config', '--platform', 'linux/amd64', `${ref}:v1`]);
    expect(sha256(config)).toBe(built.images[0].config.digest);
    const layer = await craneBytes(['blob', `${ref}@${built.images[0].layers[1].digest}`]);
    expect(sha256(layer)).toBe(built.images[0].layers[1].digest);
    expect(readTarGz(layer).get('etc/perch-test/amd64.txt')?.toString()).toBe('crane built for linux/amd64\n');

    // Pull the whole index into an OCI layout: same digests all the way down.
    const pulled = join(home.dir, 'pulled');
    await crane(['pull', '--format', 'oci', `${ref}:v1`, pulled]);
    const layout = readOciLayout(pulled);
    expect(layout.entries.map((e) => e.digest)).toEqual([built.index.digest]);
    expect([...layout.reachable(built.index.digest)].sort()).toEqual([...readOciLayout(built.dir).reachable(built.index.digest)].sort());

    // Copy to another repository (cross-repository blob mount where the registry offers it).
    await crane(['copy', `${ref}:v1`, `${registry.host}/crane/copied:v1`]);
    expect(await crane(['digest', `${registry.host}/crane/copied:v1`])).toBe(built.index.digest);
    for (const image of built.images) {
      expect((await getManifest(registry.url, 'crane/copied', image.manifest.digest)).status).toBe(200);
    }

    await crane(['tag', `${ref}:v1`, 'v2']);
    expect(await listTags(registry.url, 'crane/multi')).toEqual(['v1', 'v2']);
    expect((await crane(['ls', ref])).split('\n')).toEqual(['v1', 'v2']);
    expect((await crane(['catalog', registry.host])).split('\n')).toEqual(expect.arrayContaining(['crane/copied', 'crane/multi']));
    expect(await catalog(registry.url)).toEqual(expect.arrayContaining(['crane/copied', 'crane/multi']));

    // Delete by digest: both tags went with it; the copy is untouched.
    await crane(['delete', `${ref}@${built.index.digest}`]);
    expect(await manifestError(registry.url, 'crane/multi', built.index.digest)).toEqual({ status: 404, code: 'MANIFEST_UNKNOWN' });
    expect(await manifestError(registry.url, 'crane/multi', 'v2')).toEqual({ status: 404, code: 'MANIFEST_UNKNOWN' });
    const gone = await runCommand('crane', ['manifest', `${ref}:v1`], { env: home.env, allowFailure: true });
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('MANIFEST_UNKNOWN');
    expect(await listTags(registry.url, 'crane/multi')).toEqual([]);
    expect(await crane(['digest', `${registry.host}/crane/copied:v1`])).toBe(built.index.digest);
  });
});
