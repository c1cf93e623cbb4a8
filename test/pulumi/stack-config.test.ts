/**
 * Stack config: the keys the program reads are exactly the keys Pulumi.yaml declares, the
 * declared defaults mean what leaving a key out means, and Pulumi.dev.yaml (the request's own
 * stack) is valid, commits no secret and gives the URL it promises.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { describe, expect, it } from 'vitest';
import perchPackage from 'perch/package.json';
import { parseParentRef, readStackConfig, type ConfigReader } from '../../components/stack-config';
import { projectConfig, renderProgram, stackFileConfig, PROJECT, type RenderedProgram } from './render';

/** A ConfigReader that answers from a map and remembers every key asked for. */
class RecordingReader implements ConfigReader {
  readonly read = new Set<string>();
  constructor(private readonly values: Record<string, string> = {}) {}
  get(key: string): string | undefined {
    this.read.add(key);
    return this.values[key];
  }
  requireSecret(key: string): pulumi.Output<string> {
    this.read.add(key);
    return pulumi.secret(this.values[key]!);
  }
}

describe('config keys', () => {
  it('the program reads exactly the keys Pulumi.yaml declares', () => {
    const declared = Object.keys(projectConfig()).sort();
    for (const values of [{}, { password: 'set-to-read-it-as-a-secret' }] as Array<Record<string, string>>) {
      const reader = new RecordingReader(values);
      readStackConfig(reader);
      expect([...reader.read].sort()).toEqual(declared);
    }
  });

  it('Pulumi.yaml gives every key a type the CLI knows, a default and a description', () => {
    for (const [key, declared] of Object.entries(projectConfig())) {
      expect(['string', 'integer', 'boolean', 'array'], key).toContain(declared.type);
      expect(declared.default, key).not.toBeUndefined();
      expect(declared.description?.length ?? 0, key).toBeGreaterThan(10);
      if (declared.type === 'array') expect((declared as any).items, key).toEqual({ type: 'string' });
      if (declared.type === 'integer') expect(Number.isInteger(declared.default), key).toBe(true);
      if (declared.type === 'boolean') expect(typeof declared.default, key).toBe('boolean');
      // The CLI refuses a secret key whose value (here: the default) is not encrypted.
      expect((declared as any).secret, key).toBeUndefined();
    }
  });

  it("the image defaults are perch tagged with registry-image/package.json's version", () => {
    const config = projectConfig();
    expect(config.registryImage!.default).toBe(`perch:${perchPackage.version}`);
    expect(config.seedImage!.default).toBe(`perch:${perchPackage.version}`);
  });

  it("Pulumi.yaml's defaults mean the same as leaving every key out", async () => {
    const inputs = (r: RenderedProgram) => Object.fromEntries(r.resources.map((x) => [`${x.type} ${x.name}`, x.inputs]));
    const withDefaults = await renderProgram({ applyProjectDefaults: true });
    const without = await renderProgram({ applyProjectDefaults: false });
    expect(inputs(without)).toEqual(inputs(withDefaults));
    expect(without.outputs).toEqual(withDefaults.outputs);
  });

  it('Gateway parentRefs are written [namespace/]name[:sectionName]', () => {
    expect(parseParentRef('k', 'gw')).toEqual({ name: 'gw' });
    expect(parseParentRef('k', 'infra/gw')).toEqual({ name: 'gw', namespace: 'infra' });
    expect(parseParentRef('k', 'infra/gw:https')).toEqual({ name: 'gw', namespace: 'infra', sectionName: 'https' });
    expect(() => parseParentRef('httpRouteParentRefs', 'a/b/c')).toThrow(/\[namespace\/\]name\[:sectionName\]/);
  });

  it('a list key that is not a JSON list of strings is refused with how to set it', () => {
    expect(() => readStackConfig(new RecordingReader({ seedCharts: 'nginx-test@1.0.0' }))).toThrow(
      /Invalid config "seedCharts": is not a list of strings; set items with: pulumi config set --path 'seedCharts\[0\]'/,
    );
  });
});

describe('Pulumi.dev.yaml, the request\'s stack', () => {
  const text = readFileSync(join(__dirname, '..', '..', 'Pulumi.dev.yaml'), 'utf8');

  it('sets only declared keys of this project and commits no secret', () => {
    const declared = Object.keys(projectConfig());
    const config = stackFileConfig('Pulumi.dev.yaml');
    for (const key of Object.keys(config)) expect(declared, key).toContain(key);
    expect(text).not.toMatch(/secure:/);
    expect(text).not.toMatch(/encryptionsalt/);
    expect(config.password).toBeUndefined();
    for (const line of text.split('\n').filter((l) => /^\s+\S+:/.test(l))) expect(line.trim().startsWith(`${PROJECT}:`), line).toBe(true);
  });

  it('deploys to zot-registry as roost-test with 10Gi, a LoadBalancer not awaited, and the URL on 10.0.0.106', async () => {
    const rendered = await renderProgram({ config: stackFileConfig('Pulumi.dev.yaml') });
    expect(rendered.outputs.namespace).toBe('zot-registry');
    expect(rendered.outputs.username).toBe('roost-test');
    expect(rendered.find('kubernetes:core/v1:PersistentVolumeClaim').inputs.spec.resources.requests.storage).toBe('10Gi');
    const service = rendered.find('kubernetes:core/v1:Service').inputs;
    expect(service.spec.type).toBe('LoadBalancer');
    expect(service.metadata.annotations).toEqual({ 'pulumi.com/skipAwait': 'true' });
    expect(service.spec.ports[0].nodePort).toBe(30500);
    expect(rendered.outputs.registryUrl).toBe('http://10.0.0.106:5000');
    expect(rendered.outputs.helmLoginCommand).toBe('helm registry login 10.0.0.106:5000 --username roost-test --password-stdin --plain-http');
  });
});
