/**
 * A private containerd (the runtime a Kubernetes node uses, with runc under it) for one test
 * run: its root, state, socket and config all live in a temporary folder, so it never meets
 * the machine's own containerd, if any, nor another run. `ctr` (containerd's own client)
 * pulls and runs images against it.
 *
 * Teardown order matters: tasks are killed and deleted, then containers (`ctr containers rm`
 * also removes the container's snapshot), then containerd itself is stopped, then any shim
 * still serving our socket (shims outlive containerd by design), then mounts left under the
 * folder are unmounted, and only then is the folder removed, without crossing into another
 * filesystem.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { onCleanup } from './cleanup';
import { runCommand, type CommandOptions, type CommandResult } from '../helpers/run-command';
import { unmountUnder } from './mounts';
import { killRuncContainers } from './runc';

/** A bind mount as `ctr run --mount` takes it. */
export interface BindMount {
  source: string;
  destination: string;
  readOnly: boolean;
}

export interface RunSpec {
  image: string;
  /** Container id; unique within this containerd. */
  id: string;
  /** The whole process argv (ctr cannot set args apart from the entrypoint). */
  argv: string[];
  env?: Record<string, string>;
  mounts?: BindMount[];
  readOnlyRootfs?: boolean;
  /** Share the host's network (as `ctr run --net-host` would, without its /etc/hosts mount). */
  netHost?: boolean;
  /** Capability names with the CAP_ prefix (ctr has no "ALL"). */
  capDrop?: string[];
  /** The runtime's default seccomp profile (Kubernetes `RuntimeDefault`). */
  seccomp?: boolean;
  /** Turns no_new_privs off (ctr sets it by default, as allowPrivilegeEscalation: false asks). */
  allowNewPrivileges?: boolean;
  memoryLimitBytes?: number;
  cpus?: number;
}

export interface DetachedContainer {
  id: string;
  logPath: string;
  /** Everything the container wrote to stdout and stderr so far. */
  logs(): string;
  /** SIGTERM (as the kubelet does), then waits for the exit and returns its code. */
  stop(timeoutMs?: number): Promise<number>;
  /** Whether the task is still running. */
  running(): Promise<boolean>;
  /** Runs another process in the running container (as its user), like `kubectl exec`. */
  exec(argv: string[], timeoutMs?: number): Promise<CommandResult>;
}

export interface Containerd {
  dir: string;
  socket: string;
  ctr(args: string[], options?: CommandOptions): Promise<CommandResult>;
  pull(ref: string): Promise<void>;
  /** Runs to completion (`ctr run --rm`); resolves with the exit code and output. */
  runToExit(spec: RunSpec, timeoutMs: number): Promise<CommandResult>;
  /** Starts in the background with stdout and stderr going to a file. */
  start(spec: RunSpec): Promise<DetachedContainer>;
  /** Removes every container it made and stops containerd; safe to call twice. */
  stop(): void;
  /** True once stop() ran. */
  readonly stopped: boolean;
}

/**
 * The host's network namespace, as this test process sees it (runc cannot join init's under
 * gVisor, but joins this one: containerd, its shims and runc all run in it).
 */
const HOST_NETNS = `/proc/${process.pid}/ns/net`;

// Plugins a test never needs; CRI in particular would open its own listeners and want CNI.
const DISABLED_PLUGINS = [
  'io.containerd.grpc.v1.cri',
  'io.containerd.internal.v1.opt', // would install into /opt/containerd on the host
  'io.containerd.internal.v1.tracing',
  'io.containerd.tracing.processor.v1.otlp',
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.zfs',
];

export function containerdConfig(dir: string): string {
  return [
    'version = 2',
    `root = ${JSON.stringify(join(dir, 'root'))}`,
    `state = ${JSON.stringify(join(dir, 'state'))}`,
    `disabled_plugins = ${JSON.stringify(DISABLED_PLUGINS)}`,
    '[grpc]',
    `  address = ${JSON.stringify(join(dir, 'containerd.sock'))}`,
    '[ttrpc]',
    `  address = ${JSON.stringify(join(dir, 'containerd.sock.ttrpc'))}`,
    '[debug]',
    '  address = ""',
    '[metrics]',
    '  address = ""',
    '',
  ].join('\n');
}

export async function startContainerd(dir: string): Promise<Containerd> {
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, 'containerd.sock');
  const configPath = join(dir, 'config.toml');
  writeFileSync(configPath, containerdConfig(dir));
  const logFd = openSync(join(dir, 'containerd.log'), 'a');
  const daemon: ChildProcess = spawn('containerd', ['--config', configPath], {
    stdio: ['ignore', logFd, logFd],
    detached: true,
  });
  const ids = new Set<string>();
  let execCounter = 0;
  let stopped = false;

  const ctr = (args: string[], options?: CommandOptions) => runCommand('ctr', ['-a', socket, ...args], options);
  const ctrSync = (args: string[]) =>
    spawnSync('ctr', ['-a', socket, ...args], { stdio: 'ignore', timeout: 30_000 });

  const removeContainer = (id: string) => {
    ctrSync(['tasks', 'kill', '--signal', 'SIGKILL', id]);
    ctrSync(['tasks', 'delete', '--force', id]);
    ctrSync(['containers', 'delete', id]);
    ids.delete(id);
  };

  const stop = () => {
    if (stopped) return;
    stopped = true;
    for (const id of [...ids]) removeContainer(id);
    stopProcess(daemon);
    killShimsServing(socket);
    // Anything ctr could not remove (containerd gone already): runc's own state says what runs.
    killRuncContainers(join(dir, 'runc'));
    const stuck = unmountUnder(dir);
    // Never delete through a mount point: whatever is mounted there is not ours to remove.
    if (stuck.length > 0) throw new Error(`left ${dir} in place: still mounted: ${stuck.join(', ')}`);
    rmSync(dir, { recursive: true, force: true });
  };
  const undo = onCleanup(`containerd in ${dir}`, stop);

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (daemon.exitCode !== null) {
      undo();
      throw new Error(`containerd exited with ${daemon.exitCode}; see its log above:\n${readLog(dir)}`);
    }
    const probe = await ctr(['version'], { allowFailure: true, timeoutMs: 5_000 }).catch(() => undefined);
    if (probe?.code === 0) break;
    if (Date.now() > deadline) {
      undo();
      throw new Error(`containerd did not answer on ${socket} within 20s:\n${readLog(dir)}`);
    }
    await sleep(200);
  }

  // runc's state and ctr's FIFOs default to /run/containerd/..., shared with any other
  // containerd on the machine (a container id could clash); keep them in the folder too.
  const runcRoot = join(dir, 'runc');
  const fifoDir = join(dir, 'fifo');
  const runArgs = (spec: RunSpec): string[] => {
    const args: string[] = ['--runc-root', runcRoot, '--fifo-dir', fifoDir];
    // The host's network, joined by path rather than with --net-host: --net-host also
    // bind-mounts the host's /etc/hosts over the one the test gives (the kubelet's stand-in).
    if (spec.netHost) args.push('--with-ns', `network:${HOST_NETNS}`);
    if (spec.readOnlyRootfs) args.push('--read-only');
    if (spec.seccomp) args.push('--seccomp');
    if (spec.allowNewPrivileges) args.push('--allow-new-privs');
    for (const cap of spec.capDrop ?? []) args.push('--cap-drop', cap);
    if (spec.memoryLimitBytes) args.push('--memory-limit', String(spec.memoryLimitBytes));
    if (spec.cpus) args.push('--cpus', String(spec.cpus));
    for (const [k, v] of Object.entries(spec.env ?? {})) args.push('--env', `${k}=${v}`);
    for (const m of spec.mounts ?? []) {
      args.push('--mount', `type=bind,src=${m.source},dst=${m.destination},options=rbind:${m.readOnly ? 'ro' : 'rw'}`);
    }
    return args;
  };

  const track = (id: string) => {
    // A test that timed out keeps running in the background after afterAll stopped everything:
    // it must not start containers (or make folders) in a run that is over.
    if (stopped) throw new Error('containerd was stopped: the test run is over');
    if (ids.has(id)) throw new Error(`container id ${id} is already in use in this test run`);
    ids.add(id);
  };

  return {
    dir,
    socket,
    ctr,
    async pull(ref) {
      await ctr(['images', 'pull', '--plain-http', ref], { timeoutMs: 180_000 });
    },
    async runToExit(spec, timeoutMs) {
      track(spec.id);
      try {
        return await ctr(['run', '--rm', ...runArgs(spec), spec.image, spec.id, ...spec.argv], {
          timeoutMs,
          allowFailure: true,
        });
      } finally {
        removeContainer(spec.id);
      }
    },
    async start(spec) {
      track(spec.id);
      const logPath = join(dir, 'logs', `${spec.id}.log`);
      mkdirSync(join(dir, 'logs'), { recursive: true });
      writeFileSync(logPath, '');
      await ctr(['run', '--detach', '--log-uri', `file://${logPath}`, ...runArgs(spec), spec.image, spec.id, ...spec.argv], {
        timeoutMs: 60_000,
      });
      const running = async () => {
        const list = await ctr(['tasks', 'list'], { allowFailure: true });
        return list.stdout.split('\n').some((line) => line.split(/\s+/)[0] === spec.id && /\bRUNNING\b/.test(line));
      };
      return {
        id: spec.id,
        logPath,
        logs: () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''),
        running,
        exec: (argv, timeoutMs = 30_000) =>
          ctr(['tasks', 'exec', '--fifo-dir', fifoDir, '--exec-id', `exec-${++execCounter}`, spec.id, ...argv], {
            timeoutMs,
            allowFailure: true,
          }),
        async stop(timeoutMs = 15_000) {
          await ctr(['tasks', 'kill', '--signal', 'SIGTERM', spec.id], { allowFailure: true });
          const until = Date.now() + timeoutMs;
          while ((await running()) && Date.now() < until) await sleep(200);
          const deleted = await ctr(['tasks', 'delete', '--force', spec.id], { allowFailure: true });
          removeContainer(spec.id);
          return exitCodeFromDelete(deleted.stderr);
        },
      };
    },
    stop,
    get stopped() {
      return stopped;
    },
  };
}

/** ctr 1.6 reports a stopped task's exit code only as a warning: "task ID exit with non-zero exit code N". */
export function exitCodeFromDelete(stderr: string): number {
  const m = /exit with non-zero exit code (\d+)/.exec(stderr);
  return m ? Number(m[1]) : 0;
}

function readLog(dir: string): string {
  const path = join(dir, 'containerd.log');
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(-30).join('\n') : '(no log)';
}

/** SIGTERM, a short grace, then SIGKILL; synchronous so it also works from an exit handler. */
function stopProcess(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const until = Date.now() + 5_000;
  while (Date.now() < until && alive(child.pid)) spawnSync('sleep', ['0.1']);
  if (alive(child.pid)) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

function alive(pid: number): boolean {
  try {
    // A zombie still "exists" to kill(0); read its state to tell.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** Shims of our containerd: found by the socket path on their command line, killed by pid. */
function killShimsServing(socket: string): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmdline: string[];
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!cmdline[0]?.includes('containerd-shim')) continue;
    if (!cmdline.includes(socket)) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
