/**
 * One Pulumi stack of this project, driven through the real CLI exactly as a user types it:
 * `pulumi config set`, `up`, `preview`, `stack output`, `destroy`. The state lives in a local
 * file backend in a temporary folder, and the stack's config in a file beside it
 * (`--config-file`), so nothing is written into the checkout.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCommand, type CommandResult } from '../helpers/run-command';
import { pulumiHome, type ClusterUnderTest } from './cluster';

const ROOT = resolve(__dirname, '..', '..');

/** `pulumi up` with a registry Pod to start and four seed Jobs to run: bounded, never endless. */
const UP_TIMEOUT_MS = 420_000;

export class PulumiStack {
  private readonly dir: string;
  private readonly configFile: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly name: string,
    cluster: ClusterUnderTest,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'perch-pulumi-'));
    this.configFile = join(this.dir, `Pulumi.${name}.yaml`);
    const home = pulumiHome(cluster);
    this.env = {
      ...cluster.pulumiEnv,
      KUBECONFIG: cluster.kubeconfig,
      PULUMI_BACKEND_URL: `file://${join(this.dir, 'state')}`,
      PULUMI_CONFIG_PASSPHRASE: 'cluster-suite-passphrase',
      ...(home !== undefined ? { PULUMI_HOME: home } : {}),
    };
  }

  /** Any pulumi command, in the project root, against this stack. */
  pulumi(args: string[], options: { allowFailure?: boolean; timeoutMs?: number; input?: string } = {}): Promise<CommandResult> {
    return runCommand('pulumi', ['--non-interactive', ...args], { cwd: ROOT, env: this.env, timeoutMs: 120_000, ...options });
  }

  private stackArgs(): string[] {
    return ['--stack', this.name, '--config-file', this.configFile];
  }

  async init(): Promise<void> {
    mkdirSync(join(this.dir, 'state'));
    // `stack init` has no --config-file: it writes the passphrase's salt to
    // Pulumi.<stack>.yaml in the project; move that file out, salt and all.
    await this.pulumi(['stack', 'init', this.name]);
    const written = join(ROOT, `Pulumi.${this.name}.yaml`);
    copyFileSync(written, this.configFile);
    rmSync(written);
  }

  /** `pulumi config set [--secret] [--path] KEY VALUE`. */
  async set(key: string, value: string, options: { secret?: boolean; path?: boolean } = {}): Promise<void> {
    const flags = [...(options.secret ? ['--secret'] : []), ...(options.path ? ['--path'] : [])];
    await this.pulumi(['config', 'set', ...this.stackArgs(), ...flags, key, '--', value]);
  }

  async setAll(values: Record<string, string>): Promise<void> {
    for (const [key, value] of Object.entries(values)) await this.set(key, value);
  }

  /** `pulumi config rm KEY`: back to Pulumi.yaml's default. */
  async unset(key: string): Promise<void> {
    await this.pulumi(['config', 'rm', ...this.stackArgs(), key]);
  }

  /** `pulumi up --yes`, without its preview unless `preview` (as a user who reads it first). */
  up(options: { allowFailure?: boolean; timeoutMs?: number; preview?: boolean } = {}): Promise<CommandResult> {
    const { preview, ...run } = options;
    return this.pulumi(['up', ...this.stackArgs(), '--yes', ...(preview ? [] : ['--skip-preview']), '--diff'], { timeoutMs: UP_TIMEOUT_MS, ...run });
  }

  /** `pulumi preview` as a person reads it (plain text), e.g. to see why it was refused. */
  preview(extra: string[] = [], options: { allowFailure?: boolean } = {}): Promise<CommandResult> {
    return this.pulumi(['preview', ...this.stackArgs(), ...extra], { timeoutMs: 180_000, ...options });
  }

  /** What a preview would do to each resource (op and URN), from `pulumi preview --json`. */
  async plannedSteps(): Promise<PreviewStep[]> {
    const result = await this.pulumi(['preview', ...this.stackArgs(), '--json'], { timeoutMs: 180_000 });
    return (JSON.parse(result.stdout) as { steps?: PreviewStep[] }).steps ?? [];
  }

  async output(name: string, options: { showSecrets?: boolean } = {}): Promise<string> {
    const r = await this.pulumi(['stack', 'output', '--stack', this.name, name, ...(options.showSecrets ? ['--show-secrets'] : [])]);
    return r.stdout.trim();
  }

  async outputs(): Promise<Record<string, unknown>> {
    const r = await this.pulumi(['stack', 'output', '--stack', this.name, '--json']);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  destroy(options: { allowFailure?: boolean } = {}): Promise<CommandResult> {
    return this.pulumi(['destroy', ...this.stackArgs(), '--yes', '--skip-preview'], { timeoutMs: 300_000, ...options });
  }

  /** Best effort: destroy what is left, forget the stack, remove the folder. */
  async remove(): Promise<void> {
    await this.destroy({ allowFailure: true }).catch(() => {});
    await this.pulumi(['stack', 'rm', this.name, '--yes', '--force'], { allowFailure: true }).catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface PreviewStep {
  op: string;
  urn: string;
}

/** The logical names (last URN part) a preview would touch, with its op, for every op but `same`. */
export function changes(steps: PreviewStep[]): string[] {
  return steps
    .filter((s) => s.op !== 'same')
    .map((s) => `${s.op} ${s.urn.split('::').pop()}`)
    .sort();
}
