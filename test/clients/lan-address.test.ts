/**
 * The registry on a loopback address that is not 127.0.0.1 (here 127.0.0.2). Clients allow
 * plain HTTP to localhost and 127.0.0.1 on their own; any other address behaves like a LAN
 * host (a user's 10.0.0.106), where they insist on HTTPS unless told otherwise. These are the
 * flags docs/clients.md tells users to pass: crane --insecure, skopeo --tls-verify=false,
 * oras --plain-http, regctl registry set --tls disabled.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClientHome, type ClientHome } from '../helpers/client-home';
import { sha256, writeSingleImageLayout, writeTwoPlatformLayout } from '../helpers/oci-layout';
import { getManifest, listTags, manifestError } from '../helpers/registry-api';
import { showRegistryLogsOnFailure, startRegistryUnderTest, type RegistryUnderTest } from '../helpers/registry-under-test';
import { runCommand } from '../helpers/run-command';

const LAN_ADDRESS = '127.0.0.2';
const REGCTL = join(process.env.PERCH_TOOLS ?? join(homedir(), '.cache/perch-tools'), 'bin/regctl');

describe(`clients against a registry on ${LAN_ADDRESS} (a non-localhost address)`, () => {
  let registry: RegistryUnderTest;
  let home: ClientHome;
  const run = async (cmd: string, args: string[], cwd?: string) =>
    (await runCommand(cmd, args, { env: home.env, cwd, timeoutMs: 60_000 })).stdout.trim();

  beforeAll(async () => {
    registry = await startRegistryUnderTest({ address: LAN_ADDRESS });
    home = makeClientHome('perch-lan-');
  });
  afterAll(async () => {
    await registry?.stop();
    home?.remove();
  });
  showRegistryLogsOnFailure(() => registry);

  it('crane needs --insecure here, and works with it', async () => {
    const ref = `${registry.host}/lan/crane`;
    // Without the flag crane speaks HTTPS to this address: proof it is not on the localhost path.
    const refused = await runCommand('crane', ['digest', `${ref}:v1`], { env: home.env, allowFailure: true, timeoutMs: 30_000 });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/https:\/\/|HTTP response to HTTPS client/);

    const built = writeTwoPlatformLayout(home.folder('crane-src'), 'v1', 'lan');
    expect(await run('crane', ['push', '--insecure', built.dir, `${ref}:v1`])).toBe(`${ref}@${built.index.digest}`);
    expect(await run('crane', ['digest', '--insecure', `${ref}:v1`])).toBe(built.index.digest);
    await run('crane', ['tag', '--insecure', `${ref}:v1`, 'stable']);
    expect((await run('crane', ['ls', '--insecure', ref])).split('\n').sort()).toEqual(['stable', 'v1']);
    await run('crane', ['delete', '--insecure', `${ref}@${built.index.digest}`]);
    expect(await manifestError(registry.url, 'lan/crane', 'stable')).toEqual({ status: 404, code: 'MANIFEST_UNKNOWN' });
  });

  it('skopeo copies in and out with --dest-tls-verify=false / --src-tls-verify=false', async () => {
    const image = writeSingleImageLayout(home.folder('skopeo-src'), 'single', 'lan');
    const ref = `docker://${registry.host}/lan/skopeo:1.0`;
    const skopeo = (args: string[]) => run('skopeo', ['--policy', home.skopeoPolicy, ...args]);
    await skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${image.dir}:single`, ref]);
    expect((await getManifest(registry.url, 'lan/skopeo', '1.0')).digest).toBe(image.manifest.digest);
    const inspected = JSON.parse(await skopeo(['inspect', '--tls-verify=false', ref])) as { Digest: string };
    expect(inspected.Digest).toBe(image.manifest.digest);
    const back = join(home.dir, 'skopeo-back');
    await skopeo(['copy', '--src-tls-verify=false', ref, `dir:${back}`]);
    expect(sha256(readFileSync(join(back, 'manifest.json')))).toBe(image.manifest.digest);
    await skopeo(['delete', '--tls-verify=false', ref]);
    expect(await listTags(registry.url, 'lan/skopeo')).toEqual([]);
  });

  it('oras pushes and pulls with --plain-http', async () => {
    const files = home.folder('oras-files');
    writeFileSync(join(files, 'notes.txt'), 'pushed over plain HTTP to a LAN address\n');
    const ref = `${registry.host}/lan/oras:v1`;
    const pushed = JSON.parse(await run('oras', ['push', '--plain-http', '--format', 'json', ref, 'notes.txt:text/plain'], files)) as { digest: string };
    expect((await getManifest(registry.url, 'lan/oras', 'v1')).digest).toBe(pushed.digest);
    const out = home.folder('oras-out');
    await run('oras', ['pull', '--plain-http', '-o', out, ref]);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('pushed over plain HTTP to a LAN address\n');
    expect((await run('oras', ['repo', 'tags', '--plain-http', `${registry.host}/lan/oras`])).split('\n')).toEqual(['v1']);
  });

  it('regctl works after `regctl registry set HOST --tls disabled`', async (ctx) => {
    if (!existsSync(REGCTL)) ctx.skip(`regctl is not installed at ${REGCTL}`);
    const image = writeSingleImageLayout(home.folder('regctl-src'), 'single', 'lan-regctl');
    await run(REGCTL, ['registry', 'set', registry.host, '--tls', 'disabled']);
    await run(REGCTL, ['image', 'copy', `ocidir://${image.dir}:single`, `${registry.host}/lan/regctl:v1`]);
    expect(await run(REGCTL, ['image', 'digest', `${registry.host}/lan/regctl:v1`])).toBe(image.manifest.digest);
    expect(await run(REGCTL, ['tag', 'ls', `${registry.host}/lan/regctl`])).toBe('v1');
  });
});
