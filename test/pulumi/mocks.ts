/**
 * Pulumi mocks that record every resource the program registers, and stand in for what the
 * engine and the cluster would fill in: random values, a load balancer's address, an
 * allocated node port. Values are deterministic so two runs can be compared.
 */
import * as pulumi from '@pulumi/pulumi';

export interface RecordedResource {
  /** e.g. `kubernetes:apps/v1:Deployment`, `random:index/randomBytes:RandomBytes`. */
  type: string;
  /** Pulumi's logical name, e.g. `zot-registry-deployment`. */
  name: string;
  /** The inputs as the engine would receive them, with secrets unwrapped to their values. */
  inputs: Record<string, any>;
  /** Paths in `inputs` that arrived marked secret, e.g. `stringData`, `spec.template...`. */
  secretPaths: string[];
  /** What the mock answered as the resource's state. */
  state: Record<string, any>;
  custom: boolean;
}

export interface MockValues {
  /** RandomPassword.result. */
  password?: string;
  /** RandomBytes for the bcrypt salt (16 bytes), standard base64. */
  saltBase64?: string;
  /** RandomBytes for the token key (32 bytes), lower-case hex. */
  tokenKeyHex?: string;
  /** What a load-balancer controller writes into a LoadBalancer Service's status. */
  loadBalancer?: { ip?: string; hostname?: string };
  /** The node port Kubernetes allocates when the Service asks for none. */
  allocatedNodePort?: number;
}

export const DEFAULT_MOCK_VALUES: Required<Omit<MockValues, 'loadBalancer'>> = {
  password: 'MockPassw0rdForTestsOnly0123456789',
  saltBase64: Buffer.from('sixteen bytes!!!').toString('base64'),
  tokenKeyHex: 'ab'.repeat(32),
  allocatedNodePort: 31789,
};

export class RecordingMocks implements pulumi.runtime.Mocks {
  readonly resources: RecordedResource[] = [];
  private readonly values: MockValues;

  constructor(values: MockValues = {}) {
    this.values = { ...DEFAULT_MOCK_VALUES, ...values };
  }

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
    const secretPaths: string[] = [];
    const inputs = unwrapSecrets(args.inputs, '', secretPaths) as Record<string, any>;
    const state = this.stateFor({ ...args, inputs });
    this.resources.push({ type: args.type, name: args.name, inputs, secretPaths, state, custom: args.custom ?? true });
    return { id: `${args.name}-id`, state };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
    throw new Error(`the program called ${args.token}; it is expected to call no provider functions`);
  }

  private stateFor(args: pulumi.runtime.MockResourceArgs): Record<string, any> {
    const inputs = args.inputs as Record<string, any>;
    switch (args.type) {
      case 'random:index/randomPassword:RandomPassword':
        return { ...inputs, result: this.values.password };
      case 'random:index/randomBytes:RandomBytes': {
        const hex = args.name.endsWith('-token-key')
          ? this.values.tokenKeyHex!
          : Buffer.from(this.values.saltBase64!, 'base64').toString('hex');
        const bytes = Buffer.from(hex, 'hex');
        return { ...inputs, hex, base64: bytes.toString('base64') };
      }
      case 'kubernetes:core/v1:Service':
        return this.serviceState(inputs);
      default:
        return { ...inputs };
    }
  }

  /** What the API server and a load-balancer controller would add to a Service. */
  private serviceState(inputs: Record<string, any>): Record<string, any> {
    const spec = structuredClone(inputs.spec ?? {});
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      spec.ports = (spec.ports ?? []).map((p: Record<string, any>) => ({ nodePort: this.values.allocatedNodePort, ...p }));
    }
    const state: Record<string, any> = { ...inputs, spec };
    if (spec.type === 'LoadBalancer' && this.values.loadBalancer !== undefined) {
      state.status = { loadBalancer: { ingress: [this.values.loadBalancer] } };
    }
    return state;
  }
}

/**
 * The mock monitor hands over secret inputs still wrapped as `{ [specialSigKey]:
 * specialSecretSig, value }`. Returns a copy with the values in place, noting where they were.
 */
function unwrapSecrets(value: unknown, path: string, secretPaths: string[]): unknown {
  if (Array.isArray(value)) return value.map((item, i) => unwrapSecrets(item, `${path}[${i}]`, secretPaths));
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  if (record[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) {
    secretPaths.push(path);
    return unwrapSecrets(record.value, path, secretPaths);
  }
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(record)) copy[key] = unwrapSecrets(child, path === '' ? key : `${path}.${key}`, secretPaths);
  return copy;
}
