/**
 * The browse UI's pure parts (what a manifest is, a chart's metadata, the pull command), the
 * embedded page files, and Store.tagInfo (the push date) on both stores.
 */
import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { FsStore } from '../../registry-image/src/storage/fs-store';
import { MemoryStore } from '../../registry-image/src/storage/memory-store';
import type { Store, StoredManifest } from '../../registry-image/src/storage/types';
import { HELM_CONFIG_MEDIA_TYPE, manifestFacts, ownBytes, platformName } from '../../registry-image/src/ui/artifact';
import { ICON_SVG } from '../../registry-image/src/ui/assets/icon';
import { PAGE_HTML } from '../../registry-image/src/ui/assets/page';
import { APP_SCRIPT } from '../../registry-image/src/ui/assets/script';
import { STYLES_CSS } from '../../registry-image/src/ui/assets/styles';
import { chartView } from '../../registry-image/src/ui/helm-chart';
import { mapLimit } from '../../registry-image/src/map-limit';
import { pullCommand } from '../../registry-image/src/ui/pull-command';
import { tempDir } from '../helpers/temp-dir';
import { sha256 } from './fixtures';

const D = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

function stored(mediaType: string, body: unknown): StoredManifest {
  const bytes = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return { digest: sha256(bytes), mediaType, body: bytes };
}

describe('manifestFacts', () => {
  it('a Helm chart: its config media type decides, layers keep their titles, sizes add up', () => {
    const m = stored('application/vnd.oci.image.manifest.v1+json', {
      schemaVersion: 2,
      config: { mediaType: HELM_CONFIG_MEDIA_TYPE, digest: D(1), size: 120 },
      layers: [{ mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', digest: D(2), size: 3000, annotations: { 'org.opencontainers.image.title': 'c-1.0.0.tgz' } }],
    });
    const facts = manifestFacts(m);
    expect(facts.kind).toBe('helm-chart');
    expect(facts.layers).toEqual([{ mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', digest: D(2), size: 3000, title: 'c-1.0.0.tgz' }]);
    expect(ownBytes(m, facts)).toBe(m.body.length + 120 + 3000);
  });

  it('an image (OCI or Docker config); an artifactType or a foreign config makes it an artifact', () => {
    const image = (configType: string, extra: object = {}) =>
      manifestFacts(stored('application/vnd.oci.image.manifest.v1+json', { schemaVersion: 2, config: { mediaType: configType, digest: D(1), size: 2 }, layers: [], ...extra }));
    expect(image('application/vnd.oci.image.config.v1+json').kind).toBe('image');
    expect(image('application/vnd.docker.container.image.v1+json').kind).toBe('image');
    expect(image('application/vnd.oci.image.config.v1+json', { artifactType: 'application/x-sbom' })).toMatchObject({ kind: 'artifact', artifactType: 'application/x-sbom' });
    expect(image('application/vnd.oci.empty.v1+json').kind).toBe('artifact');
  });

  it('an index: children with platforms (variant and os.version kept), attestations marked, bad entries skipped', () => {
    const facts = manifestFacts(
      stored('application/vnd.oci.image.index.v1+json', {
        schemaVersion: 2,
        manifests: [
          { mediaType: 'm', digest: D(1), size: 10, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
          { mediaType: 'm', digest: D(2), size: 11, platform: { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.2527' } },
          { mediaType: 'm', digest: D(3), size: 12, platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } },
          { mediaType: 'm', digest: D(4), size: 13 },
          { digest: D(5) },
          'junk',
        ],
        subject: { mediaType: 'm', digest: D(9), size: 1 },
      }),
    );
    expect(facts.kind).toBe('index');
    expect(facts.subject).toBe(D(9));
    expect(facts.children.map((c) => [c.platform ? platformName(c.platform) : null, c.attestation ?? false])).toEqual([
      ['linux/arm/v7', false],
      ['windows/amd64', false],
      ['unknown/unknown', true],
      [null, false],
    ]);
    expect(facts.children[1].platform?.osVersion).toBe('10.0.20348.2527');
  });

  it('a body that is not JSON is an artifact with nothing inside, not a crash', () => {
    expect(manifestFacts(stored('application/vnd.example+json', 'not json'))).toEqual({ kind: 'artifact', mediaType: 'application/vnd.example+json', layers: [], children: [] });
  });
});

describe('chartView', () => {
  it('keeps the metadata a person reads, dependencies in order', () => {
    const view = chartView({
      name: 'multi',
      version: '1.2.3',
      description: 'two charts',
      appVersion: '4.5',
      apiVersion: 'v2',
      type: 'application',
      keywords: ['a', 7, 'b'],
      maintainers: [{ name: 'Team', email: 't@example.com' }, { junk: 1 }],
      dependencies: [
        { name: 'nginx-test', version: '1.1.0', repository: 'oci://h/roost-test', condition: 'nginx-test.enabled' },
        { name: 'redis-test', version: '1.0.0', repository: 'oci://h/roost-test', alias: 'cache' },
        { version: 'no name' },
      ],
      deprecated: true,
    });
    expect(view).toEqual({
      name: 'multi',
      version: '1.2.3',
      description: 'two charts',
      appVersion: '4.5',
      apiVersion: 'v2',
      type: 'application',
      keywords: ['a', 'b'],
      sources: [],
      maintainers: [{ name: 'Team', email: 't@example.com' }],
      dependencies: [
        { name: 'nginx-test', version: '1.1.0', repository: 'oci://h/roost-test', condition: 'nginx-test.enabled' },
        { name: 'redis-test', version: '1.0.0', repository: 'oci://h/roost-test', alias: 'cache' },
      ],
      deprecated: true,
    });
  });

  it('anything that is not chart metadata (no name or version, wrong types) is undefined', () => {
    for (const junk of [undefined, null, 'x', [], {}, { name: 'a' }, { version: '1' }, { name: 3, version: '1' }]) expect(chartView(junk)).toBeUndefined();
    expect(chartView({ name: 'a', version: '1', description: { html: '<b>' } })!.description).toBeUndefined();
  });
});

describe('pullCommand', () => {
  const base = { host: 'registry.example:5000', repository: 'roost-test/nginx-test', digest: D(1), plainHttp: false };
  it('helm pulls a chart by version, turning the tag back into it (helm stores "+" as "_")', () => {
    expect(pullCommand({ ...base, kind: 'helm-chart', tag: '1.0.0' })).toBe('helm pull oci://registry.example:5000/roost-test/nginx-test --version 1.0.0');
    expect(pullCommand({ ...base, kind: 'helm-chart', tag: '1.0.0_build.5' })).toBe('helm pull oci://registry.example:5000/roost-test/nginx-test --version 1.0.0+build.5');
    expect(pullCommand({ ...base, kind: 'helm-chart', plainHttp: true, tag: '1.0.0' })).toBe('helm pull oci://registry.example:5000/roost-test/nginx-test --version 1.0.0 --plain-http');
    expect(pullCommand({ ...base, kind: 'helm-chart' })).toBe(`helm pull oci://registry.example:5000/roost-test/nginx-test@${D(1)}`);
  });
  it('docker pulls images and indexes by tag or digest (no flag: docker has none for plain HTTP); oras pulls the rest', () => {
    expect(pullCommand({ ...base, kind: 'image', plainHttp: true, tag: 'v1' })).toBe('docker pull registry.example:5000/roost-test/nginx-test:v1');
    expect(pullCommand({ ...base, kind: 'index' })).toBe(`docker pull registry.example:5000/roost-test/nginx-test@${D(1)}`);
    expect(pullCommand({ ...base, kind: 'artifact', tag: 'sbom', plainHttp: true })).toBe('oras pull registry.example:5000/roost-test/nginx-test:sbom --plain-http');
  });
});

describe('mapLimit', () => {
  it('keeps input order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n * 2));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(peak).toBe(3);
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
  });
});

describe('embedded page files', () => {
  it('the script is valid JavaScript, and was not cut short by template syntax', () => {
    expect(() => new Script(APP_SCRIPT)).not.toThrow();
    expect(APP_SCRIPT).not.toMatch(/`|\$\{/);
    expect(APP_SCRIPT.trim().endsWith('})();')).toBe(true);
  });

  it('the script never turns strings into markup (what the Trusted Types policy would refuse)', () => {
    expect(APP_SCRIPT).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
  });

  it('nothing is loaded from anywhere but the registry itself (no CDN, no inline script or style)', () => {
    for (const [name, text] of Object.entries({ PAGE_HTML, APP_SCRIPT, STYLES_CSS, ICON_SVG })) {
      // The SVG namespace is an identifier, never fetched.
      const external = text.replace('http://www.w3.org/2000/svg', '').match(/https?:\/\/[a-z0-9[]|["'(=]\/\/[a-z0-9]/gi) ?? [];
      expect(external, name).toEqual([]);
      expect(text, name).not.toMatch(/@import|url\(/);
    }
    expect(PAGE_HTML).not.toMatch(/<script>|<style|style="|\son[a-z]+=/i);
    const loaded = [...PAGE_HTML.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(loaded.filter((u) => !u.startsWith('#'))).toEqual(['/_ui/icon.svg', '/_ui/app.css', '/_ui/app.js', '/_ui/icon.svg']);
  });
});

describe('Store.tagInfo (the push date)', () => {
  const stores: Array<[string, () => Store]> = [
    ['MemoryStore', () => new MemoryStore()],
    ['FsStore', () => new FsStore(tempDir('perch-taginfo-'))],
  ];
  for (const [name, make] of stores) {
    it(`${name}: the digest and when the tag was last set; null for no tag`, async () => {
      const store = make();
      await store.init();
      const a = stored('application/vnd.oci.image.manifest.v1+json', { schemaVersion: 2, config: { mediaType: 'x', digest: D(1), size: 1 }, layers: [] });
      const b = stored('application/vnd.oci.image.manifest.v1+json', { schemaVersion: 2, config: { mediaType: 'x', digest: D(2), size: 1 }, layers: [] });
      await store.putManifest('r', a);
      await store.putManifest('r', b);
      expect(await store.tagInfo('r', 'v1')).toBeNull();
      expect(await store.tagInfo('nothing', 'v1')).toBeNull();
      const before = Date.now();
      await store.setTag('r', 'v1', a.digest);
      const first = (await store.tagInfo('r', 'v1'))!;
      expect(first.digest).toBe(a.digest);
      expect(first.modifiedMs).toBeGreaterThanOrEqual(before - 1000); // file systems round mtimes
      expect(first.modifiedMs).toBeLessThanOrEqual(Date.now() + 1000);
      await new Promise((r) => setTimeout(r, 30));
      await store.setTag('r', 'v1', b.digest);
      const second = (await store.tagInfo('r', 'v1'))!;
      expect(second.digest).toBe(b.digest);
      expect(second.modifiedMs).toBeGreaterThan(first.modifiedMs);
      await store.deleteTag('r', 'v1');
      expect(await store.tagInfo('r', 'v1')).toBeNull();
    });
  }
});
