/**
 * kubectl against the cluster under test: JSON reads, and the few writes the suite makes itself
 * (the hostPath volumes a cluster without a provisioner needs, a marker object for "destroy
 * removes only what the stack made").
 */
import { runCommand, type CommandResult } from '../helpers/run-command';

export interface KubeObject {
  metadata: { name: string; namespace?: string; uid: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  status?: any;
}

export class Kubectl {
  constructor(
    private readonly kubeconfig: string,
    /** The environment kubectl runs in (its PATH finds the kubectl build.sh made). */
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  run(args: string[], options: { input?: string; allowFailure?: boolean; timeoutMs?: number } = {}): Promise<CommandResult> {
    return runCommand('kubectl', ['--kubeconfig', this.kubeconfig, ...args], { env: this.env, timeoutMs: 60_000, ...options });
  }

  /** One object, or undefined when it does not exist. */
  async get(kind: string, name: string, namespace?: string): Promise<KubeObject | undefined> {
    const r = await this.run(['get', kind, name, ...(namespace ? ['-n', namespace] : []), '-o', 'json'], { allowFailure: true });
    if (r.code !== 0) {
      if (/NotFound|not found/.test(r.stderr)) return undefined;
      throw new Error(`kubectl get ${kind} ${name} failed: ${r.stderr}`);
    }
    return JSON.parse(r.stdout) as KubeObject;
  }

  async list(kind: string, options: { namespace?: string; selector?: string } = {}): Promise<KubeObject[]> {
    const scope = options.namespace === undefined ? ['-A'] : ['-n', options.namespace];
    const selector = options.selector === undefined ? [] : ['-l', options.selector];
    const r = await this.run(['get', kind, ...scope, ...selector, '-o', 'json']);
    return (JSON.parse(r.stdout) as { items: KubeObject[] }).items;
  }

  async apply(manifest: object): Promise<void> {
    await this.run(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
  }

  async logs(target: string, namespace: string): Promise<string> {
    return (await this.run(['logs', target, '-n', namespace, '--all-containers'])).stdout;
  }
}

/** The Ready condition of a Pod. */
export function podReady(pod: KubeObject): boolean {
  return (pod.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
}

/** A finished Job: its Complete condition is True. */
export function jobComplete(job: KubeObject): boolean {
  return (job.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Complete' && c.status === 'True');
}
