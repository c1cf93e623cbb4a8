/**
 * The Kubernetes objects the ZotRegistry component renders under Pulumi's mocks
 * (test/pulumi/render.ts), with the image references pointed at where this suite pushed the
 * image. The Pod specs the containers run come from here and nowhere else, so the suite tests
 * the manifests users deploy, not a copy of them.
 */
import { renderComponent } from '../pulumi/render';
import type { KubeObject } from './kube-objects';

export interface RenderedRegistry {
  /** Every Kubernetes object the component registered (its inputs, Outputs resolved). */
  objects: KubeObject[];
  deployment: KubeObject;
  service: KubeObject;
  jobs: KubeObject[];
  namespace: string;
  username: string;
  password: string;
}

// Pulumi's wire form of a secret value: { [SIG_KEY]: SECRET_SIG, value }. A whole input
// (e.g. a Secret's stringData holding one secret value) can arrive wrapped this way.
const SIG_KEY = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';

/** The plain value, with every secret wrapper at any depth replaced by what it wraps. */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if (record[SIG_KEY] === SECRET_SIG) return unwrapSecrets(record.value);
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
}

/** `kubernetes:apps/v1:Deployment` -> `Deployment`. */
function kindOf(type: string): string {
  return type.slice(type.lastIndexOf(':') + 1);
}

export async function renderForImage(image: string): Promise<RenderedRegistry> {
  // The only overrides: where the images are. Everything else is the component's default.
  const rendered = await renderComponent({ registryImage: image, seedImage: image });
  const objects: KubeObject[] = rendered.resources
    .filter((r) => r.type.startsWith('kubernetes:'))
    .map((r) => {
      const inputs = unwrapSecrets(r.inputs) as Record<string, unknown>;
      return { ...inputs, kind: (inputs.kind as string | undefined) ?? kindOf(r.type) } as KubeObject;
    });
  const one = (kind: string) => {
    const found = objects.filter((o) => o.kind === kind);
    if (found.length !== 1) throw new Error(`the component rendered ${found.length} ${kind} objects; the image suite expects one`);
    return found[0]!;
  };
  const { username, password, namespace } = rendered.outputs;
  if (password === undefined) throw new Error('the component rendered no password; the image suite needs the default (generated) one');
  return {
    objects,
    deployment: one('Deployment'),
    service: one('Service'),
    jobs: objects.filter((o) => o.kind === 'Job'),
    namespace,
    username,
    password,
  };
}
