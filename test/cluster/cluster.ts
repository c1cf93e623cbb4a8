/**
 * The cluster the suite deploys to, and the tools it deploys with.
 *
 * By default the suite starts its own one-node cluster on this machine with
 * scripts/cluster/cluster.sh (control plane on 127.0.0.1, a real kubelet and containerd, pods on
 * the bridge 10.244.0.1/24, nothing routed off the machine), builds the registry image from
 * registry-image/Dockerfile and imports it into the node, and takes everything down again in
 * `stop()`, whether the tests passed or not. The Pulumi CLI, its language host and providers
 * come from scripts/cluster/build.sh (`scripts/install-tools.sh cluster`).
 *
 * Pointed at a cluster of your own (docs/testing.md "The cluster suite"):
 *   PERCH_CLUSTER_KUBECONFIG  its kubeconfig (the suite never starts or stops anything then)
 *   PERCH_CLUSTER_NODE_ADDRESS an address of a node that this machine reaches NodePorts on
 * with `pulumi` and its plugins on PATH and the image (perch:<version> and perch:<version>-b,
 * the same image under a second tag) already on the nodes.
 */
import { chownSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import perchPackage from 'perch/package.json';
import { REGISTRY_UID } from '../../components/container-interface';
import { runCommand } from '../helpers/run-command';
import { Kubectl } from './kubectl';

const ROOT = resolve(__dirname, '..', '..');
const SCRIPTS = join(ROOT, 'scripts', 'cluster');
const TOOLS = process.env.CLUSTER_TOOLS ?? join(process.env.PERCH_TOOLS ?? join(process.env.HOME ?? '/root', '.cache', 'perch-tools'), 'cluster');
const RUN = process.env.CLUSTER_RUN ?? '/tmp/perch-cluster';

/** The image the component deploys by default, and the same image under a second tag. */
export const IMAGE = `perch:${perchPackage.version}`;
export const SECOND_IMAGE_TAG = `${IMAGE}-b`;

export interface ClusterUnderTest {
  kubeconfig: string;
  kubectl: Kubectl;
  /** Where this machine reaches the node's NodePorts (10.244.0.1 on the suite's own node). */
  nodeAddress: string;
  /** Environment for the pulumi CLI: its binaries and plugins, no update checks, no downloads. */
  pulumiEnv: NodeJS.ProcessEnv;
  /** The suite started (and stops) the cluster itself. */
  local: boolean;
  /** A hostPath PersistentVolume a claim can bind (a cluster without a provisioner needs one per claim). */
  addVolume(name: string, size: string): Promise<void>;
  stop(): Promise<void>;
}

function pulumiEnv(pathPrefix: string[]): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: [...pathPrefix, process.env.PATH ?? ''].join(':'),
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
    PULUMI_SKIP_CONFIRMATIONS: 'true',
  };
}

/** Why the local cluster cannot start here, as sentences that say what to do. */
export function localClusterProblems(): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) {
    problems.push('the cluster suite must run as root (containerd, runc, iptables and the bridge need it): run npm test as root, as CI does');
  }
  for (const binary of ['pulumi', 'pulumi-language-nodejs', 'pulumi-resource-kubernetes', 'pulumi-resource-random', 'pulumi-resource-pulumi-nodejs', 'etcd', 'kube-apiserver', 'kubelet', 'kube-proxy', 'kubectl', 'coredns']) {
    if (!existsSync(join(TOOLS, 'bin', binary))) {
      problems.push(`${join(TOOLS, 'bin', binary)} is missing: run scripts/install-tools.sh cluster (builds the Pulumi CLI and Kubernetes from Go modules; ~35 minutes the first time)`);
      break;
    }
  }
  return problems;
}

async function script(name: string, args: string[], timeoutMs: number): Promise<string> {
  const r = await runCommand('bash', [join(SCRIPTS, name), ...args], { timeoutMs, cwd: ROOT, env: { ...process.env, CLUSTER_TOOLS: TOOLS, CLUSTER_RUN: RUN } });
  return r.stdout;
}

export async function startCluster(): Promise<ClusterUnderTest> {
  const external = process.env.PERCH_CLUSTER_KUBECONFIG;
  if (external !== undefined && external !== '') {
    const nodeAddress = process.env.PERCH_CLUSTER_NODE_ADDRESS;
    if (!nodeAddress) throw new Error('PERCH_CLUSTER_KUBECONFIG is set but PERCH_CLUSTER_NODE_ADDRESS is not: set it to a node address this machine reaches NodePorts on');
    const env = pulumiEnv([]);
    const kubectl = new Kubectl(external, env);
    return {
      kubeconfig: external,
      kubectl,
      nodeAddress,
      pulumiEnv: env,
      local: false,
      addVolume: async () => {}, // a real cluster has a provisioner
      stop: async () => {},
    };
  }

  const problems = localClusterProblems();
  if (problems.length > 0) throw new Error(`the cluster suite cannot start its cluster:\n- ${problems.join('\n- ')}`);
  // A run that was killed may have left its cluster behind: take it down first.
  await script('cluster.sh', ['down'], 180_000);
  const kubeconfig = join(RUN, 'control-plane', 'kubeconfig');
  const env = pulumiEnv([join(TOOLS, 'bin')]);
  const kubectl = new Kubectl(kubeconfig, env);
  const stop = async () => {
    await script('cluster.sh', ['down'], 240_000);
  };
  try {
    await script('cluster.sh', ['up'], 300_000);
    await script('image.sh', [ROOT], 900_000);
    // The same image under a second tag: "a new image tag rolls the pod" without a second build.
    const socket = join(RUN, 'node', 'containerd', 'run', 'containerd.sock');
    await runCommand('ctr', ['--address', socket, '-n', 'k8s.io', 'images', 'tag', '--force', `docker.io/library/${IMAGE}`, `docker.io/library/${SECOND_IMAGE_TAG}`]);
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  return {
    kubeconfig,
    kubectl,
    nodeAddress: '10.244.0.1',
    pulumiEnv: env,
    local: true,
    addVolume: async (name, size) => {
      // hostPath ignores fsGroup: the folder must belong to the registry's user.
      // Empty, whatever an earlier run left there.
      const path = join(RUN, 'volumes', name);
      rmSync(path, { recursive: true, force: true });
      mkdirSync(path, { recursive: true });
      chownSync(path, REGISTRY_UID, REGISTRY_UID);
      await kubectl.apply({
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name, labels: { 'perch-test': 'cluster-suite' } },
        spec: {
          capacity: { storage: size },
          accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          hostPath: { path, type: 'Directory' },
        },
      });
    },
    stop,
  };
}

/** PULUMI_HOME for the CLI: where build.sh registered the providers (the local tools). */
export function pulumiHome(cluster: ClusterUnderTest): string | undefined {
  return cluster.local ? join(TOOLS, 'pulumi-home') : process.env.PULUMI_HOME;
}
