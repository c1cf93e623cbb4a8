/**
 * regctl (regclient) against the registry: copy a two-platform index in from an OCI layout
 * (`ocidir://`) and back out, digest, raw manifest, tag ls, copy to a new tag, tag delete,
 * repo ls and manifest delete. regctl keeps per-registry settings in ~/.regctl/config.json,
 * so plain HTTP is `regctl registry set HOST --tls disabled` in the test's own HOME.
 *
 * regctl is optional (the Go module proxy may not serve it); without it the test is reported
 * as skipped with the reason.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClientHome, type ClientHome } from '../helpers/client-home';
import { readOciLayout, sha256, writeTwoPlatformLayout } from '../helpers/oci-layout';
import { getManifest, listTags, manifestError } from '../helpers/registry-api';
import { showRegistryLogsOnFailure, startRegistryUnderTest, type RegistryUnderTest } from '../helpers/registry-under-test';
import { runCommand } from '../helpers/run-command';

const REGCTL = join(process.env.PERCH_TOOLS ?? join(homedir(), '.cache/perch-tools'), 'bin/regctl');

describe('regctl', () => {
  let registry: RegistryUnderTest | undefined;
  let home: ClientHome;
  const regctl = async (args: string[]) => (await runCommand(REGCTL, args, { env: home.env, timeoutMs: 60_000 })).stdoutBytes;
  const text = async (args: string[]) => (await regctl(args)).toString().trim();

  beforeAll(async () => {
    if (!existsSync(REGCTL)) return;
    registry = await startRegistryUnderTest();
    home = makeClientHome('perch-regctl-');
  });
  afterAll(async () => {
    await registry?.stop();
    home?.remove();
  });
  showRegistryLogsOnFailure(() => registry);

  it('copies a two-platform index in and out, tags, lists and deletes', async (ctx) => {
    if (!registry) {
      ctx.skip(`regctl is not installed at ${REGCTL} (scripts/install-tools.sh go installs it when the Go module proxy serves it)`);
      return;
    }
    const host = registry.host;
    const ref = `${host}/regctl/multi`;
    await regctl(['registry', 'set', host, '--tls', 'disabled']);
    const built = writeTwoPlatformLayout(home.folder('source'), 'v1', 'regctl');

    await regctl(['image', 'copy', `ocidir://${built.dir}:v1`, `${ref}:v1`]);
    expect(await text(['image', 'digest', `${ref}:v1`])).toBe(built.index.digest);
    expect(sha256(await regctl(['manifest', 'get', '--format', 'raw-body', `${ref}:v1`]))).toBe(built.index.digest);
    expect(await text(['image', 'digest', '--platform', 'linux/arm64', `${ref}:v1`])).toBe(built.images[1].manifest.digest);
    expect((await getManifest(registry.url, 'regctl/multi', 'v1')).digest).toBe(built.index.digest);

    await regctl(['image', 'copy', `${ref}:v1`, `${ref}:v2`]);
    expect((await text(['tag', 'ls', ref])).split('\n')).toEqual(['v1', 'v2']);
    expect((await text(['repo', 'ls', host])).split('\n')).toContain('regctl/multi');

    // Tag delete must remove only the tag, never the manifest the other tag still names.
    await regctl(['tag', 'delete', `${ref}:v2`]);
    expect(await listTags(registry.url, 'regctl/multi')).toEqual(['v1']);
    expect((await getManifest(registry.url, 'regctl/multi', 'v1')).digest).toBe(built.index.digest);

    const backDir = join(home.dir, 'back');
    await regctl(['image', 'copy', `${ref}:v1`, `ocidir://${backDir}:v1`]);
    const back = readOciLayout(backDir);
    expect(back.tagged('v1')?.digest).toBe(built.index.digest);
    expect([...back.reachable(built.index.digest)].sort()).toEqual([...readOciLayout(built.dir).reachable(built.index.digest)].sort());

    await regctl(['manifest', 'delete', `${ref}@${built.index.digest}`]);
    expect(await manifestError(registry.url, 'regctl/multi', 'v1')).toEqual({ status: 404, code: 'MANIFEST_UNKNOWN' });
    expect(await manifestError(registry.url, 'regctl/multi', built.index.digest)).toEqual({ status: 404, code: 'MANIFEST_UNKNOWN' });
    expect(await listTags(registry.url, 'regctl/multi')).toEqual([]);
  });
});
