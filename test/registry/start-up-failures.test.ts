/**
 * `perch serve` (the bundle the image runs) that cannot start: each start-up step reports its
 * own failure and exits 1. Storage the process may not write is reported as storage, with the
 * path, the user and the fix; only the listen step says "cannot listen". In Kubernetes the
 * first is a volume owned by root under an image that runs as 65532:65532.
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, linkSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PERCH_BUNDLE, startRegistry, type RunningRegistry } from '../helpers/registry';
import { tempDir } from '../helpers/temp-dir';

/** The image's user (registry-image/Dockerfile). */
const IMAGE_UID = 65532;

interface Ended {
  code: number | null;
  lines: string[];
}

/** A folder anyone may enter, for what a child running as another user must reach. */
function openDir(prefix: string): string {
  const dir = tempDir(prefix);
  chmodSync(dir, 0o755);
  return dir;
}

/** Runs `perch serve CONFIG` to its end (or kills it after 15 s if it starts serving after all). */
async function serve(config: Record<string, unknown>, as?: { uid: number; gid: number; node: string }): Promise<Ended> {
  const configPath = join(openDir('perch-config-'), 'config.json');
  writeFileSync(configPath, JSON.stringify({ distSpecVersion: '1.1.1', http: { address: '127.0.0.1', port: '0' }, log: { level: 'info' }, ...config }));
  chmodSync(configPath, 0o644);
  const env = { ...process.env };
  // Coverage goes to a folder of the test's user, which another user cannot write.
  if (as) delete env.NODE_V8_COVERAGE;
  const child = spawn(as?.node ?? process.execPath, [PERCH_BUNDLE, 'serve', configPath], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(as ? { uid: as.uid, gid: as.gid } : {}),
  });
  const lines: string[] = [];
  const collect = (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => resolve(exitCode));
  });
  clearTimeout(timer);
  return { code, lines };
}

function errorLines(ended: Ended): string[] {
  return ended.lines.filter((line) => line.includes('"level":"error"'));
}

/** Whether every folder above `file` lets other users through (x for others). */
function reachableByOthers(file: string): boolean {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dir === dirname(dir)) return true;
  }
}

/**
 * This Node.js binary, where another user can run it: the test's node may live under /root
 * (mode 0700). A hard link in an open folder is the same file; a copy where linking fails.
 */
function nodeForOtherUsers(): string {
  if (reachableByOthers(process.execPath)) return process.execPath;
  const linked = join(openDir('perch-node-'), 'node');
  try {
    linkSync(process.execPath, linked);
  } catch {
    copyFileSync(process.execPath, linked);
    chmodSync(linked, 0o755);
  }
  return linked;
}

describe('perch serve that cannot open its storage', () => {
  it('exits 1 when storage.rootDirectory is not writable by its user, naming the folder, the uid and gid, the code and the fix, not the port', async (ctx) => {
    // Root ignores file modes: the child must run as an ordinary user, which only root may choose.
    if (process.getuid?.() !== 0) ctx.skip(`needs root to run perch as uid ${IMAGE_UID} (root ignores the folder's mode 0555); this test runs as uid ${process.getuid?.()}`);
    const root = join(openDir('perch-data-'), 'data');
    mkdirSync(root, { mode: 0o555 });
    chmodSync(root, 0o555); // mkdir's mode passes through the umask
    const ended = await serve({ storage: { rootDirectory: root } }, { uid: IMAGE_UID, gid: IMAGE_UID, node: nodeForOtherUsers() });
    const output = ended.lines.join('\n');
    expect(ended.code, output).toBe(1);
    const errors = errorLines(ended);
    expect(errors, output).toHaveLength(1);
    const line = JSON.parse(errors[0]) as Record<string, string>;
    expect(line).toMatchObject({ message: 'cannot open storage', path: root, code: 'EACCES' });
    expect(line.error).toContain(`${root} cannot be written by uid ${IMAGE_UID} gid ${IMAGE_UID} (EACCES`);
    expect(line.error).toContain(`chown -R ${IMAGE_UID}:${IMAGE_UID} ${root}`);
    expect(line.error).toContain('securityContext.fsGroup');
    expect(output).not.toContain('cannot listen');
    expect(output).not.toContain('"listening"');
  });

  it('exits 1 when storage.rootDirectory lies below a regular file (ENOTDIR), naming the path and the user, not the port', async () => {
    const dir = tempDir('perch-data-');
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder\n');
    const root = join(file, 'data');
    const ended = await serve({ storage: { rootDirectory: root } });
    const output = ended.lines.join('\n');
    expect(ended.code, output).toBe(1);
    const errors = errorLines(ended);
    expect(errors, output).toHaveLength(1);
    expect(JSON.parse(errors[0])).toMatchObject({ message: 'cannot open storage', path: root, code: 'ENOTDIR' });
    expect(errors[0]).toContain(`${root} cannot be written by uid ${process.getuid?.()} gid ${process.getgid?.()} (ENOTDIR`);
    expect(errors[0]).toContain('part of that path is a file');
    expect(output).not.toContain('cannot listen');
  });
});

describe('perch serve that cannot listen', () => {
  let first: RunningRegistry | undefined;
  afterAll(async () => {
    await first?.stop();
  });

  it('exits 1 with "cannot listen" when the port is taken, after its storage opened fine', async () => {
    first = await startRegistry();
    const ended = await serve({ http: { address: '127.0.0.1', port: String(first.port) }, storage: { rootDirectory: tempDir('perch-data-') } });
    const output = ended.lines.join('\n');
    expect(ended.code, output).toBe(1);
    const errors = errorLines(ended);
    expect(errors, output).toHaveLength(1);
    expect(JSON.parse(errors[0])).toMatchObject({ message: 'cannot listen' });
    expect(errors[0]).toContain(`127.0.0.1:${first.port} is already in use`);
  });
});
