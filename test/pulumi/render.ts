/**
 * Render the Pulumi program or the ZotRegistry component under Pulumi's mocks and return every
 * resource it registered, with its inputs, plus the awaited outputs. No engine, no cluster.
 *
 * For other suites (e.g. the containerd runs of the Pod and Job specs):
 *
 *   import { renderComponent, registryPodSpec, seedJobSpecs } from '../pulumi/render';
 *   const rendered = await renderComponent({ authMode: 'token' });
 *   const pod = registryPodSpec(rendered);          // Deployment.spec.template.spec
 *   const jobs = seedJobSpecs(rendered);            // [{ name, spec: Job.spec.template.spec }]
 *   const cm = rendered.configMapData('zot-registry-config')['config.json'];
 *
 *   // The whole program from stack config, as `pulumi up` would run it:
 *   const program = await renderProgram({ config: { serviceType: 'NodePort', externalHost: '10.0.0.106' } });
 *   program.outputs.registryUrl  // 'http://10.0.0.106:31789'
 *
 * renderProgram re-imports index.ts in a fresh module instance each time (vi.resetModules),
 * so it runs inside vitest; renderComponent works anywhere.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { ZotRegistryArgs } from '../../components/args';
import { ZOT_REGISTRY_TYPE, ZotRegistry } from '../../components/zot-registry';
import { RecordingMocks, type MockValues, type RecordedResource } from './mocks';

export type { MockValues, RecordedResource } from './mocks';

export const PROJECT = 'roost-registry';
const ROOT = join(__dirname, '..', '..');
const PROGRAM_MODULE = '../../index';

/** Stack config as `pulumi config set KEY VALUE` would write it (no project prefix). */
export type StackConfig = Record<string, string | number | boolean | string[]>;

export interface Rendered<O> {
  resources: RecordedResource[];
  /** Every URN the mock engine handed out; a child's URN names its parent's type before `$`. */
  urns: string[];
  /** Output names the component published with registerOutputs. */
  componentOutputKeys: string[];
  outputs: O;
  /** The one resource of this type (and logical name); throws if there is not exactly one. */
  find(type: string, name?: string): RecordedResource;
  all(type: string): RecordedResource[];
  /** A ConfigMap's data by its Kubernetes name. */
  configMapData(k8sName: string): Record<string, string>;
  /** A Secret's stringData by its Kubernetes name. */
  secretData(k8sName: string): Record<string, string>;
}

export interface ProgramOutputs {
  registryUrl: string;
  registryHost: string;
  username: string;
  password: string | undefined;
  namespace: string;
  healthCheckUrl: string;
  tokenEndpoint: string | undefined;
  helmLoginCommand: string;
  seededCharts: string[];
  inClusterUrl: string;
}

export interface RenderedProgram extends Rendered<ProgramOutputs> {
  /** The program's exports as Outputs, for secret checks. */
  exports: Record<string, unknown>;
}

/** An Output's value, awaited (mocks run with preview off, so every value is known). */
export function outputValue<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => {
    pulumi.output(output).apply((value) => {
      resolve(value as T);
      return value;
    });
  });
}

interface EngineView {
  urns: string[];
  componentOutputKeys: string[];
}

/**
 * Waits until every registration the program started has reached the mocks (the SDK's
 * disconnect drains its queue of outstanding resource RPCs first), then reads what the mock
 * engine recorded: the URNs and the component's registered outputs.
 */
async function waitForRegistrations(): Promise<EngineView> {
  // The SDK's mock monitor keeps a map urn -> {state}; it is not exported as a type.
  const monitor = pulumi.runtime.getMonitor() as unknown as { resources: Map<string, { state: any }> };
  await pulumi.runtime.disconnect();
  const urns = [...monitor.resources.keys()];
  const component = urns.find((urn) => urn.split('::')[2] === ZOT_REGISTRY_TYPE);
  const state = component === undefined ? undefined : monitor.resources.get(component)!.state;
  const outputs = state?.toJavaScript?.() ?? state ?? {};
  return { urns, componentOutputKeys: Object.keys(outputs).sort() };
}

function makeRendered<O>(resources: RecordedResource[], outputs: O, engine: EngineView): Rendered<O> {
  const custom = resources.filter((r) => !r.type.startsWith('pulumi:providers:'));
  const find = (type: string, name?: string) => {
    const found = custom.filter((r) => r.type === type && (name === undefined || r.name === name));
    if (found.length !== 1) {
      throw new Error(`expected one ${type}${name ? ` named ${name}` : ''}, found ${found.length}: ${custom.map((r) => `${r.type} ${r.name}`).join(', ')}`);
    }
    return found[0]!;
  };
  const byK8sName = (type: string, k8sName: string) => {
    const found = custom.filter((r) => r.type === type && r.inputs.metadata?.name === k8sName);
    if (found.length !== 1) throw new Error(`expected one ${type} with metadata.name ${k8sName}, found ${found.length}`);
    return found[0]!;
  };
  return {
    resources: custom,
    urns: engine.urns,
    componentOutputKeys: engine.componentOutputKeys,
    outputs,
    find,
    all: (type) => custom.filter((r) => r.type === type),
    configMapData: (k8sName) => byK8sName('kubernetes:core/v1:ConfigMap', k8sName).inputs.data,
    secretData: (k8sName) => byK8sName('kubernetes:core/v1:Secret', k8sName).inputs.stringData,
  };
}

/**
 * Pulumi's mocks, recording every resource. The SDK's mock monitor says it supports error hooks
 * but has no method to register one, so a program with an onError hook would wait forever:
 * registration is acknowledged here (the hooks never run under mocks).
 */
export async function startMocks(values: MockValues = {}): Promise<RecordingMocks> {
  const mocks = new RecordingMocks(values);
  await pulumi.runtime.setMocks(mocks, PROJECT, 'test', false);
  const monitor = pulumi.runtime.getMonitor() as unknown as Record<string, unknown>;
  monitor.registerErrorHook ??= (_request: unknown, callback: (err: Error | null, response: unknown) => void) => callback(null, {});
  return mocks;
}

function pulumiYamlConfig(): Record<string, any> {
  return (parseYaml(readFileSync(join(ROOT, 'Pulumi.yaml'), 'utf8')) as { config: Record<string, any> }).config;
}

/** Pulumi.yaml's declared config of the program itself: key -> { type, default, ... }. */
export function projectConfig(): Record<string, { type: string; default: unknown; description?: string }> {
  return Object.fromEntries(Object.entries(pulumiYamlConfig()).filter(([key]) => !key.includes(':')));
}

/** Pulumi.yaml's values for providers' namespaces, e.g. `kubernetes:enableSecretMutable`. */
export function providerConfig(): Record<string, unknown> {
  return Object.fromEntries(Object.entries(pulumiYamlConfig()).filter(([key]) => key.includes(':')));
}

/** A stack file's config (e.g. Pulumi.dev.yaml) without the project prefix. */
export function stackFileConfig(file: string): StackConfig {
  const stack = parseYaml(readFileSync(join(ROOT, file), 'utf8')) as { config?: Record<string, any> };
  const config: StackConfig = {};
  for (const [key, value] of Object.entries(stack.config ?? {})) {
    config[key.startsWith(`${PROJECT}:`) ? key.slice(PROJECT.length + 1) : key] = value;
  }
  return config;
}

/** The text the CLI hands the program: primitives as strings, arrays as JSON. */
function configText(value: unknown): string {
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export interface RenderProgramOptions {
  config?: StackConfig;
  /** Keys set with `pulumi config set --secret`. */
  secretKeys?: string[];
  mocks?: MockValues;
  /** Fill in Pulumi.yaml's defaults for unset keys, as the CLI does (default true). */
  applyProjectDefaults?: boolean;
}

/** Runs index.ts as `pulumi up` would, with stack config and mocked engine and cluster. */
export async function renderProgram(options: RenderProgramOptions = {}): Promise<RenderedProgram> {
  vi.resetModules();
  const mocks = await startMocks(options.mocks ?? {});
  const values: Record<string, string> = {};
  if (options.applyProjectDefaults ?? true) {
    for (const [key, declared] of Object.entries(projectConfig())) values[`${PROJECT}:${key}`] = configText(declared.default);
  }
  for (const [key, value] of Object.entries(options.config ?? {})) values[`${PROJECT}:${key}`] = configText(value);
  pulumi.runtime.setAllConfig(values, (options.secretKeys ?? []).map((k) => `${PROJECT}:${k}`));

  // A path in a variable: TypeScript (nodenext, CommonJS) would otherwise demand '.js', and
  // vitest resolves it against this file at run time all the same.
  // index.ts assigns its outputs object to module.exports (`export =`); an ES import of it
  // sees that object as the default export.
  const imported = (await import(/* @vite-ignore */ PROGRAM_MODULE)) as { default?: Record<string, unknown> };
  const program = imported.default ?? (imported as Record<string, unknown>);
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) {
    outputs[key] = pulumi.Output.isInstance(value) ? await outputValue(value) : value;
  }
  const engine = await waitForRegistrations();
  return { ...makeRendered(mocks.resources, outputs as unknown as ProgramOutputs, engine), exports: program };
}

export interface RenderedComponent extends Rendered<ProgramOutputs> {
  registry: ZotRegistry;
}

/** Builds one ZotRegistry from args directly (no stack config). */
export async function renderComponent(
  args: ZotRegistryArgs = {},
  options: { mocks?: MockValues; name?: string } = {},
): Promise<RenderedComponent> {
  const mocks = await startMocks(options.mocks ?? {});
  const registry = new ZotRegistry(options.name ?? 'zot-registry', args);
  const outputs: ProgramOutputs = {
    registryUrl: await outputValue(registry.registryUrl),
    registryHost: await outputValue(registry.registryHost),
    username: await outputValue(registry.username),
    password: await outputValue(registry.password),
    namespace: await outputValue(registry.namespace),
    healthCheckUrl: await outputValue(registry.healthCheckUrl),
    tokenEndpoint: registry.tokenEndpoint === undefined ? undefined : await outputValue(registry.tokenEndpoint),
    helmLoginCommand: await outputValue(registry.helmLoginCommand),
    seededCharts: await outputValue(registry.seededCharts),
    inClusterUrl: registry.inClusterUrl,
  };
  const engine = await waitForRegistrations();
  return { ...makeRendered(mocks.resources, outputs, engine), registry };
}

/** The registry Deployment's Pod spec, as recorded. */
export function registryPodSpec(rendered: Rendered<unknown>): Record<string, any> {
  return rendered.find('kubernetes:apps/v1:Deployment').inputs.spec.template.spec;
}

/** Every seed Job's Kubernetes name and Pod spec, as recorded. */
export function seedJobSpecs(rendered: Rendered<unknown>): Array<{ name: string; spec: Record<string, any> }> {
  return rendered.all('kubernetes:batch/v1:Job').map((job) => ({
    name: job.inputs.metadata.name as string,
    spec: job.inputs.spec.template.spec as Record<string, any>,
  }));
}
