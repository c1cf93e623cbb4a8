/**
 * A rerun with nothing changed changes nothing (DESIGN.md "The Kubernetes side"): the program
 * run twice in fresh module instances, with the same values from the random resources Pulumi
 * keeps in state, registers the same resources with deep-equal inputs. And what does change
 * when one input changes: an htpasswd change leaves the Deployment alone (the registry reloads
 * it live), a config or token-key change rolls it through the checksum annotation.
 */
import { describe, expect, it } from 'vitest';
import { renderProgram, type MockValues, type RenderProgramOptions, type RenderedProgram } from './render';

function inputsByResource(rendered: RenderedProgram): Map<string, unknown> {
  return new Map(rendered.resources.map((r) => [`${r.type} ${r.name}`, r.inputs]));
}

/** The resources whose inputs differ between two runs. */
function changed(a: RenderedProgram, b: RenderedProgram): string[] {
  const left = inputsByResource(a);
  const right = inputsByResource(b);
  expect([...right.keys()].sort()).toEqual([...left.keys()].sort());
  return [...left.keys()].filter((key) => JSON.stringify(left.get(key)) !== JSON.stringify(right.get(key))).sort();
}

const EVERYTHING: RenderProgramOptions = {
  config: {
    authMode: 'token',
    anonymousRead: true,
    serviceType: 'NodePort',
    externalHost: '10.0.0.106',
    ingressHost: 'registry.example.com',
    httpRouteHost: 'registry.gw.example.com',
    httpRouteParentRefs: ['infra/gateway'],
    localRegistryHosting: true,
  },
};

describe('no diff on rerun', () => {
  for (const [label, options] of [
    ['default config', {}],
    ['token mode with every toggle', EVERYTHING],
    ['password from stack config', { config: { password: 'fixed-Passw0rd' }, secretKeys: ['password'] }],
  ] as Array<[string, RenderProgramOptions]>) {
    it(`${label}: two runs register deep-equal inputs for every resource`, async () => {
      const first = await renderProgram(options);
      const second = await renderProgram(options);
      expect(first.resources.length).toBeGreaterThan(8);
      const a = inputsByResource(first);
      const b = inputsByResource(second);
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      for (const [key, inputs] of a) expect(b.get(key), key).toEqual(inputs);
      expect(second.outputs).toEqual(first.outputs);
    });
  }
});

describe('what a change touches', () => {
  const withMocks = (mocks: MockValues): RenderProgramOptions => ({ ...EVERYTHING, mocks });

  it('a different salt source changes the htpasswd line and nothing else', async () => {
    const before = await renderProgram(withMocks({}));
    const after = await renderProgram(withMocks({ saltBase64: Buffer.from('another 16 bytes').toString('base64') }));
    const line = (r: RenderedProgram) => r.secretData('zot-registry-htpasswd').htpasswd;
    expect(line(after)).not.toBe(line(before));
    expect(changed(before, after)).toEqual(['kubernetes:core/v1:Secret zot-registry-htpasswd']);
  });

  it('a different token key changes its Secret and rolls the Deployment', async () => {
    const before = await renderProgram(withMocks({}));
    const after = await renderProgram(withMocks({ tokenKeyHex: '0f'.repeat(32) }));
    expect(changed(before, after)).toEqual([
      'kubernetes:apps/v1:Deployment zot-registry-deployment',
      'kubernetes:core/v1:Secret zot-registry-token-key',
    ]);
  });

  it('a new password changes the two Secrets\' data and nothing else: no Deployment, no Job', async () => {
    // On a real cluster the provider updates both Secrets in place (Pulumi.yaml makes Secrets
    // mutable), the registry re-reads htpasswd, and the Jobs that already ran stay.
    const before = await renderProgram({ config: { password: 'first-Passw0rd' }, secretKeys: ['password'] });
    const after = await renderProgram({ config: { password: 'second-Passw0rd' }, secretKeys: ['password'] });
    expect(changed(before, after)).toEqual([
      'kubernetes:core/v1:Secret zot-registry-htpasswd',
      'kubernetes:core/v1:Secret zot-registry-seed-credentials',
    ]);
  });

  it('a new registry image rolls the Deployment and leaves the seed Jobs alone', async () => {
    const before = await renderProgram(EVERYTHING);
    const after = await renderProgram({ config: { ...EVERYTHING.config, registryImage: 'perch:0.1.1' } });
    expect(changed(before, after)).toEqual(['kubernetes:apps/v1:Deployment zot-registry-deployment']);
  });

  it('a config change rewrites the ConfigMap and rolls the Deployment', async () => {
    const before = await renderProgram(EVERYTHING);
    const after = await renderProgram({ config: { ...EVERYTHING.config, logLevel: 'debug' } });
    expect(changed(before, after)).toEqual([
      'kubernetes:apps/v1:Deployment zot-registry-deployment',
      'kubernetes:core/v1:ConfigMap zot-registry-config',
    ]);
  });
});
