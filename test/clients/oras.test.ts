/**
 * oras (oras-go, the library helm uses for OCI charts) against the registry with
 * `--plain-http`: push an artifact with its own artifactType, fetch its descriptor, pull the
 * files back, tag it, list tags and repositories, attach a referrer and discover it, delete.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClientHome, type ClientHome } from '../helpers/client-home';
import { MEDIA, sha256 } from '../helpers/oci-layout';
import { getManifest, listTags, manifestError } from '../helpers/registry-api';
import { showRegistryLogsOnFailure, startRegistryUnderTest, type RegistryUnderTest } from '../helpers/registry-under-test';
import { runCommand } from '../helpers/run-command';

interface OrasDescriptor {
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
}

describe('oras', () => {
  let registry: RegistryUnderTest;
  let home: ClientHome;
  const oras = async (args: string[], cwd?: string) =>
    (await runCommand('oras', [...args, '--plain-http'], { env: home.env, cwd, timeoutMs: 60_000 })).stdout;

  beforeAll(async () => {
    registry = await startRegistryUnderTest();
    home = makeClientHome('perch-oras-');
  });
  afterAll(async () => {
    await registry?.stop();
    home?.remove();
  });
  showRegistryLogsOnFailure(() => registry);

  it('push, fetch, pull, tag, repo tags/ls, attach, discover and manifest delete of an artifact', async () => {
    const repo = 'oras/artifact';
    const ref = `${registry.host}/${repo}`;
    const files = home.folder('files');
    const readme = 'roost test artifact\n';
    const data = JSON.stringify({ chart: 'nginx-test', version: '1.0.0' });
    writeFileSync(join(files, 'readme.txt'), readme);
    writeFileSync(join(files, 'data.json'), data);

    const pushed = JSON.parse(
      await oras(['push', '--format', 'json', '--artifact-type', 'application/vnd.roost.test', `${ref}:v1`, 'readme.txt:text/plain', 'data.json:application/json'], files),
    ) as OrasDescriptor;
    const served = await getManifest(registry.url, repo, 'v1');
    expect(served.status).toBe(200);
    expect(served.digest).toBe(pushed.digest);
    expect(sha256(served.body)).toBe(pushed.digest);
    expect(served.contentType).toBe(MEDIA.ociManifest);
    const manifest = JSON.parse(served.body.toString('utf8')) as { artifactType?: string; layers: { digest: string }[] };
    expect(manifest.artifactType).toBe('application/vnd.roost.test');
    expect(manifest.layers.map((l) => l.digest).sort()).toEqual([sha256(readme), sha256(data)].sort());

    const descriptor = JSON.parse(await oras(['manifest', 'fetch', '--descriptor', `${ref}:v1`])) as OrasDescriptor;
    expect(descriptor).toMatchObject({ digest: pushed.digest, mediaType: MEDIA.ociManifest, size: served.body.length });

    const out = home.folder('pulled');
    await oras(['pull', '-o', out, `${ref}:v1`]);
    expect(readFileSync(join(out, 'readme.txt'), 'utf8')).toBe(readme);
    expect(readFileSync(join(out, 'data.json'), 'utf8')).toBe(data);

    await oras(['tag', `${ref}:v1`, 'v2', 'latest']);
    expect(await listTags(registry.url, repo)).toEqual(['latest', 'v1', 'v2']);
    expect((await oras(['repo', 'tags', ref])).trim().split('\n')).toEqual(['latest', 'v1', 'v2']);
    expect((await oras(['repo', 'ls', `${registry.host}/oras`])).trim().split('\n')).toContain('artifact');

    // A referrer (what signatures and SBOMs are): oras attach sets `subject`, discover finds it.
    writeFileSync(join(files, 'signature.txt'), 'not really a signature\n');
    const attached = JSON.parse(
      await oras(['attach', '--format', 'json', '--artifact-type', 'application/vnd.roost.signature', `${ref}:v1`, 'signature.txt:text/plain'], files),
    ) as OrasDescriptor;
    const discovered = JSON.parse(await oras(['discover', '--format', 'json', `${ref}:v1`])) as { referrers?: OrasDescriptor[] };
    expect(discovered.referrers?.map((r) => [r.digest, r.artifactType])).toEqual([[attached.digest, 'application/vnd.roost.signature']]);
    if (registry.name === 'perch') {
      // perch implements the OCI 1.1 referrers API, so oras must not have needed the tag fallback.
      const res = await fetch(`${registry.url}/v2/${repo}/referrers/${pushed.digest}`);
      expect(res.status).toBe(200);
      const index = (await res.json()) as { manifests: OrasDescriptor[] };
      expect(index.manifests.map((m) => m.digest)).toEqual([attached.digest]);
    }

    await oras(['manifest', 'delete', '--force', `${ref}@${pushed.digest}`]);
    expect(await manifestError(registry.url, repo, pushed.digest)).toEqual({ status: 404, code: 'MANIFEST_UNKNOWN' });
    expect(await manifestError(registry.url, repo, 'v1')).toEqual({ status: 404, code: 'MANIFEST_UNKNOWN' });
    const tagsAfter = (await oras(['repo', 'tags', ref])).trim().split('\n').filter(Boolean);
    expect(tagsAfter.filter((t) => ['latest', 'v1', 'v2'].includes(t))).toEqual([]);
  });
});
