/**
 * perch/client, the JavaScript client library, against the bundled perch server (htpasswd
 * logins with Basic and with Bearer challenges) and against distribution's registry, checked
 * by other clients: what the library pushes, oras and helm pull byte for byte; what oras and
 * helm push, the library pulls. A wrong password gets a clear error without the password in
 * it; a blob altered on the way (a proxy flips a byte) is refused and never written.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import bcrypt from 'bcryptjs';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, RegistryError, HELM_CHART_MEDIA_TYPE, HELM_CONFIG_MEDIA_TYPE } from 'perch/client';
import { makeChart } from '../helpers/chart-dir';
import { makeClientHome, type ClientHome } from '../helpers/client-home';
import { startDistributionRegistry, type DistributionRegistry } from '../helpers/distribution-registry';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { runCommand } from '../helpers/run-command';
import { tempDir } from '../helpers/temp-dir';
import { makeHelmHome, type HelmHome } from '../seed/seed-helpers';

const USER = 'client-user';
const PASSWORD = 'Client-Lib-Pw-77';
const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function oras(home: ClientHome, args: string[], cwd?: string) {
  return (await runCommand('oras', [...args, '--plain-http'], { env: home.env, cwd, timeoutMs: 60_000 })).stdout;
}

async function chartTgz(helm: HelmHome, name: string, version: string): Promise<string> {
  const dir = tempDir('perch-client-chart-');
  const src = makeChart(dir, name, version);
  await helm.helm('helm3', ['package', src, '-d', dir]);
  return join(dir, `${name}-${version}.tgz`);
}

describe.each(['basic', 'bearer'] as const)('perch/client against perch with %s challenges', (challenge) => {
  let registry: RunningRegistry;
  let client: RegistryClient;
  let home: ClientHome;
  let work: string;

  beforeAll(async () => {
    work = tempDir('perch-client-');
    const entry = `${USER}:${bcrypt.hashSync(PASSWORD, 4).replace(/^\$2b\$/, '$2y$')}`;
    writeFileSync(join(work, 'htpasswd'), `${entry}\n`);
    registry = await startRegistry({
      config: {
        http: { auth: { htpasswd: { path: join(work, 'htpasswd') } } },
        perch: { auth: { challenge, tokenKeyFile: join(work, 'token.key') } },
      },
    });
    client = new RegistryClient(registry.url, { username: USER, password: PASSWORD });
    home = makeClientHome('perch-client-oras-');
    await runCommand('oras', ['login', registry.host, '-u', USER, '--password-stdin', '--plain-http'], { env: home.env, input: PASSWORD });
  });
  afterAll(async () => {
    client?.close();
    await registry?.stop();
    home?.remove();
  });

  it('pushArtifact (a file, bytes and a stream) is what oras pulls, byte for byte; listTags and listRepositories see it', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    big.write('start', 0);
    writeFileSync(join(work, 'big.bin'), big);
    const pushed = await client.pushArtifact('team/tools', 'v1', {
      artifactType: 'application/vnd.roost.tools',
      files: [
        { path: join(work, 'big.bin'), mediaType: 'application/octet-stream' },
        { data: 'hello from perch/client\n', title: 'hello.txt', mediaType: 'text/plain' },
        { stream: Readable.from([Buffer.from('streamed '), Buffer.from('bytes\n')]), title: 'streamed.txt', mediaType: 'text/plain' },
      ],
      annotations: { 'org.opencontainers.image.description': 'tools' },
    });
    expect(pushed.reference).toBe(`${registry.host}/team/tools:v1`);
    expect(pushed.blobsUploaded).toBe(4);
    const out = home.folder(`oras-pull-${challenge}`);
    await oras(home, ['pull', `${registry.host}/team/tools:v1`, '-o', out]);
    expect(readFileSync(join(out, 'big.bin')).equals(big)).toBe(true);
    expect(readFileSync(join(out, 'hello.txt'), 'utf8')).toBe('hello from perch/client\n');
    expect(readFileSync(join(out, 'streamed.txt'), 'utf8')).toBe('streamed bytes\n');
    const fetched = JSON.parse(await oras(home, ['manifest', 'fetch', '--descriptor', `${registry.host}/team/tools:v1`])) as { digest: string };
    expect(fetched.digest).toBe(pushed.digest);
    // A second push sends no blob again.
    const again = await client.pushArtifact('team/tools', 'v1', { artifactType: 'application/vnd.roost.tools', files: [{ path: join(work, 'big.bin'), mediaType: 'application/octet-stream' }] });
    expect(again.blobsUploaded).toBe(0);
    expect(await client.listTags('team/tools')).toEqual(['v1']);
    expect(await client.listRepositories()).toContain('team/tools');
  });

  it('pullArtifact of what oras pushed: files to a directory and as verified streams', async () => {
    const files = home.folder(`oras-push-${challenge}`);
    writeFileSync(join(files, 'readme.txt'), 'pushed by oras\n');
    writeFileSync(join(files, 'data.json'), '{"a":1}');
    const pushed = JSON.parse(
      await oras(home, ['push', '--format', 'json', '--artifact-type', 'application/vnd.roost.test', `${registry.host}/oras/art:v2`, 'readme.txt:text/plain', 'data.json:application/json'], files),
    ) as { digest: string };
    const dir = tempDir('perch-client-pull-');
    const art = await client.pullArtifact('oras/art', 'v2', { directory: dir });
    expect(art.digest).toBe(pushed.digest);
    expect(art.artifactType).toBe('application/vnd.roost.test');
    expect(readFileSync(join(dir, 'readme.txt'), 'utf8')).toBe('pushed by oras\n');
    expect(readFileSync(join(dir, 'data.json'), 'utf8')).toBe('{"a":1}');
    expect(readdirSync(dir).sort()).toEqual(['data.json', 'readme.txt']);
    const byDigest = await client.pullArtifact('oras/art', pushed.digest);
    const readme = byDigest.files.find((f) => f.title === 'readme.txt')!;
    expect((await readme.bytes()).toString()).toBe('pushed by oras\n');
  });

  it('referrers finds an artifact pushed with a subject; oras discover agrees; deleteManifest removes it', async () => {
    const subject = await client.resolve('team/tools', 'v1');
    expect(subject).toBeDefined();
    const sig = await client.pushArtifact('team/tools', null, { artifactType: 'application/vnd.roost.signature', files: [{ data: 'sig', title: 'sig.txt' }], subject });
    const found = await client.referrers('team/tools', subject!.digest);
    expect(found.map((d) => d.digest)).toEqual([sig.digest]);
    expect(found[0].artifactType).toBe('application/vnd.roost.signature');
    expect(await client.referrers('team/tools', subject!.digest, { artifactType: 'application/other' })).toEqual([]);
    const discovered = await oras(home, ['discover', '--format', 'json', `${registry.host}/team/tools:v1`]);
    expect(discovered).toContain(sig.digest);
    await client.tag('team/tools', 'v1', 'v1-copy');
    expect((await client.listTags('team/tools')).sort()).toEqual(['v1', 'v1-copy']);
    expect(await client.deleteManifest('team/tools', sig.digest)).toBe(sig.digest);
    expect(await client.referrers('team/tools', subject!.digest)).toEqual([]);
    const gone = await client.getManifest('team/tools', sig.digest).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(RegistryError);
    expect((gone as RegistryError).kind).toBe('not-found');
    expect((gone as RegistryError).code).toBe('MANIFEST_UNKNOWN');
  });

  it('a wrong password: "authentication failed" naming the user and the fix, never the password', async () => {
    const wrong = new RegistryClient(registry.url, { username: USER, password: `${PASSWORD}-wrong` });
    const err = (await wrong.listTags('team/tools').catch((e: unknown) => e)) as RegistryError;
    wrong.close();
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.kind).toBe('unauthorized');
    expect(err.message).toMatch(new RegExp(`^authentication failed: the registry at ${registry.url} did not accept the password of user "${USER}" \\(.*401.*\\)\\. Check the username and password$`));
    expect(JSON.stringify({ ...err, message: err.message, stack: err.stack })).not.toContain(PASSWORD);
    const anonymous = new RegistryClient(registry.url);
    const none = (await anonymous.listTags('team/tools').catch((e: unknown) => e)) as RegistryError;
    anonymous.close();
    expect(none.kind).toBe('unauthorized');
    expect(none.message).toContain('requires credentials');
    expect(none.message).toContain('pass { username, password } or { token }');
  });

  it('pushChart is what helm pulls and shows; pullChart gets what helm pushed, byte for byte', async () => {
    const helm = makeHelmHome('perch-client-helm-');
    try {
      await helm.helm('helm3', ['registry', 'login', registry.host, '--username', USER, '--password-stdin', '--plain-http'], { input: `${PASSWORD}\n` });
      const tgz = await chartTgz(helm, 'mychart', '0.1.0');
      const pushed = await client.pushChart('charts', tgz);
      expect(pushed).toMatchObject({ name: 'mychart', version: '0.1.0', repository: 'charts/mychart', tag: '0.1.0', reference: `${registry.host}/charts/mychart:0.1.0` });
      const manifest = (await client.getManifest('charts/mychart', '0.1.0')).manifest as { config: { mediaType: string }; layers: { mediaType: string }[] };
      expect(manifest.config.mediaType).toBe(HELM_CONFIG_MEDIA_TYPE);
      expect(manifest.layers[0].mediaType).toBe(HELM_CHART_MEDIA_TYPE);
      const pulled = tempDir('perch-client-helm-pull-');
      await helm.helm('helm3', ['pull', `oci://${registry.host}/charts/mychart`, '--version', '0.1.0', '-d', pulled, '--plain-http']);
      expect(readFileSync(join(pulled, 'mychart-0.1.0.tgz')).equals(readFileSync(tgz))).toBe(true);
      const shown = parse((await helm.helm('helm3', ['show', 'chart', `oci://${registry.host}/charts/mychart`, '--version', '0.1.0', '--plain-http'])).stdout) as { name: string; version: string };
      expect(shown).toMatchObject({ name: 'mychart', version: '0.1.0' });

      const helmTgz = await chartTgz(helm, 'helmchart', '1.2.0+build.7');
      await helm.helm('helm3', ['push', helmTgz, `oci://${registry.host}/charts`, '--plain-http']);
      const out = tempDir('perch-client-chart-pull-');
      const chart = await client.pullChart('charts/helmchart', '1.2.0+build.7', out);
      expect(chart).toMatchObject({ name: 'helmchart', version: '1.2.0+build.7', path: join(out, 'helmchart-1.2.0+build.7.tgz') });
      expect(readFileSync(chart.path).equals(readFileSync(helmTgz))).toBe(true);
      const notChart = (await client.pullChart('team/tools', 'v1', out).catch((e: unknown) => e)) as RegistryError;
      expect(notChart.message).toContain('is not a Helm chart');
    } finally {
      helm.remove();
    }
  });
});

/** Forwards to `target`, flipping the first byte of every blob body it passes back. */
async function corruptingProxy(target: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', target);
    const up = httpRequest(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      let first = /\/blobs\/sha256:/.test(url.pathname) && req.method === 'GET';
      upRes.on('data', (chunk: Buffer) => {
        if (first && chunk.length > 0) {
          chunk = Buffer.from(chunk);
          chunk[0] ^= 0xff;
          first = false;
        }
        res.write(chunk);
      });
      upRes.on('end', () => res.end());
    });
    req.pipe(up);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe("perch/client against distribution's registry", () => {
  let registry: DistributionRegistry;
  let client: RegistryClient;
  let home: ClientHome;

  beforeAll(async () => {
    registry = await startDistributionRegistry();
    client = new RegistryClient(registry.url);
    home = makeClientHome('perch-client-dist-');
  });
  afterAll(async () => {
    client?.close();
    await registry?.stop();
    home?.remove();
  });

  it('pushArtifact is what oras pulls; pullArtifact gets what oras pushed; referrers fall back to the sha256-<hex> tag', async () => {
    const pushed = await client.pushArtifact('dist/art', 'v1', { artifactType: 'application/vnd.roost.dist', files: [{ data: Buffer.from('distribution bytes'), title: 'd.bin' }] });
    const out = home.folder('dist-pull');
    await oras(home, ['pull', `${registry.host}/dist/art:v1`, '-o', out]);
    expect(readFileSync(join(out, 'd.bin'), 'utf8')).toBe('distribution bytes');

    const files = home.folder('dist-push');
    writeFileSync(join(files, 'o.txt'), 'oras to distribution\n');
    await oras(home, ['push', '--artifact-type', 'application/vnd.roost.o', `${registry.host}/dist/oras:v1`, 'o.txt:text/plain'], files);
    const dir = tempDir('perch-client-dist-');
    await client.pullArtifact('dist/oras', 'v1', { directory: dir });
    expect(readFileSync(join(dir, 'o.txt'), 'utf8')).toBe('oras to distribution\n');

    await oras(home, ['attach', '--artifact-type', 'application/vnd.roost.sig', `${registry.host}/dist/art:v1`, 'o.txt:text/plain'], files);
    const found = await client.referrers('dist/art', pushed.digest);
    expect(found.map((d) => d.artifactType)).toEqual(['application/vnd.roost.sig']);
    expect(await client.listTags('dist/art')).toContain('v1');
  });

  it('a blob altered on the way is refused: nothing written to the directory, the stream fails', async () => {
    const content = 'the real bytes, which a proxy will alter\n';
    await client.pushArtifact('dist/corrupt', 'v1', { files: [{ data: content, title: 'file.txt' }] });
    const proxy = await corruptingProxy(registry.url);
    const through = new RegistryClient(proxy.url);
    try {
      const dir = tempDir('perch-client-corrupt-');
      const err = (await through.pullArtifact('dist/corrupt', 'v1', { directory: dir }).catch((e: unknown) => e)) as RegistryError;
      expect(err).toBeInstanceOf(RegistryError);
      expect(err.kind).toBe('digest-mismatch');
      expect(err.message).toMatch(/^refused blob sha256:[0-9a-f]{64} from dist\/corrupt: the registry sent bytes whose digest is sha256:[0-9a-f]{64}, not sha256:/);
      expect(readdirSync(dir)).toEqual([]);
      expect(existsSync(join(dir, 'file.txt'))).toBe(false);
      const art = await through.pullArtifact('dist/corrupt', 'v1');
      await expect(art.files[0].bytes()).rejects.toThrow(/digest is sha256:/);
      // The registry's own copy is intact.
      expect((await (await client.pullArtifact('dist/corrupt', 'v1')).files[0].bytes()).toString()).toBe(content);
      expect(sha256(content)).toBe(art.files[0].digest);
    } finally {
      through.close();
      proxy.server.close();
    }
  });

  it('pushChart to distribution is what helm pulls', async () => {
    const helm = makeHelmHome('perch-client-dist-helm-');
    try {
      const tgz = await chartTgz(helm, 'distchart', '0.2.0');
      await client.pushChart('charts', tgz);
      const pulled = tempDir('perch-client-dist-helm-pull-');
      await helm.helm('helm3', ['pull', `oci://${registry.host}/charts/distchart`, '--version', '0.2.0', '-d', pulled, '--plain-http']);
      expect(readFileSync(join(pulled, 'distchart-0.2.0.tgz')).equals(readFileSync(tgz))).toBe(true);
    } finally {
      helm.remove();
    }
  });
});
