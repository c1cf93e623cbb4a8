/**
 * The server under soak: the bundle the image runs (registry-image/dist/perch.js), started
 * with the image's Node.js flags (the Dockerfile's ENTRYPOINT, as the benchmark does) on a
 * loopback port, with
 *   - htpasswd logins (bcrypt, cost 10 as `perch htpasswd add` writes) and zot access control:
 *     `pusher` may do everything, `reader` may only read, anonymous callers may read public/**;
 *   - its own GC on, with a short gcDelay and gcInterval so collections run all through the
 *     soak and really remove what the workload untags, deletes and abandons;
 *   - the browse UI on (its JSON API is part of the workload);
 *   - log level info, as a pod runs it: every request is logged, which the soak reads to count
 *     collections and to catch error lines.
 * Not test/helpers/registry.ts's startRegistry: that one registers vitest hooks, and
 * `npm run soak` runs outside vitest; this file serves both.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import bcrypt from 'bcryptjs';
import { imageNodeFlags } from '../bench/servers/image-node-flags';

/** The checkout: found upward from this file, which runs from test/soak (vitest) or bundled from test/artifacts/soak (npm run soak). */
function repoRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'registry-image/package.json'))) return dir;
  }
  throw new Error(`no registry-image/ above ${__dirname}`);
}

export const REPO_ROOT = repoRoot();
export const PERCH_BUNDLE = join(REPO_ROOT, 'registry-image/dist/perch.js');

export interface Login {
  username: string;
  password: string;
}

export const PUSHER: Login = { username: 'pusher', password: 'soak-pusher-pass' };
export const READER: Login = { username: 'reader', password: 'soak-reader-pass' };

/** Repositories anonymous callers may read; the others only the two users. */
export const PUBLIC_PREFIX = 'public/';

export interface GcTimings {
  /** storage.gcDelay (and so retention.delay): grace of unreferenced blobs and untagged manifests. */
  gcDelayMs: number;
  /** storage.gcInterval: time between collections. */
  gcIntervalMs: number;
  /** perch.uploadTTL: abandoned upload sessions are purged after this. */
  uploadTtlMs: number;
}

export const DEFAULT_GC: GcTimings = { gcDelayMs: 10_000, gcIntervalMs: 3_000, uploadTtlMs: 15_000 };

/** What the server's log said, kept small: counts, GC totals and the lines worth showing. */
export class LogStats {
  lines = 0;
  readonly levels: Record<string, number> = {};
  /** Requests the server answered with a 5xx (each is also an error of the workload). */
  serverErrors = 0;
  gcRuns = 0;
  readonly gc = { manifestsRemoved: 0, blobsRemoved: 0, bytesFreed: 0, linksRemoved: 0, tagsRemoved: 0, uploadsPurged: 0, kept: 0 };
  gcLongestMs = 0;
  /** Warn and error lines (the first 50 of each). */
  readonly notable: string[] = [];
  /** The last lines of any kind, for a failure message. */
  readonly tail: string[] = [];

  add(line: string): void {
    this.lines++;
    this.tail.push(line);
    if (this.tail.length > 40) this.tail.shift();
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.levels.unparsed = (this.levels.unparsed ?? 0) + 1;
      if (this.notable.length < 100) this.notable.push(line);
      return;
    }
    const level = String(entry.level);
    this.levels[level] = (this.levels[level] ?? 0) + 1;
    if ((level === 'warn' || level === 'error') && this.notable.length < 100) this.notable.push(line);
    if (entry.message === 'request' && typeof entry.status === 'number' && entry.status >= 500) this.serverErrors++;
    if (entry.message === 'gc finished') {
      this.gcRuns++;
      for (const key of Object.keys(this.gc) as (keyof LogStats['gc'])[]) this.gc[key] += Number(entry[key] ?? 0);
      this.gcLongestMs = Math.max(this.gcLongestMs, Number(entry.duration_ms ?? 0));
    }
  }

  /** Lines at level error or unparseable output (a crash's stack): each one is a problem. */
  get errorLines(): number {
    return (this.levels.error ?? 0) + (this.levels.unparsed ?? 0);
  }
}

export interface SoakServer {
  url: string;
  pid: number;
  nodeArgs: string[];
  config: Record<string, unknown>;
  log: LogStats;
  /** SIGTERM (coverage and a clean shutdown), SIGKILL after 10 s; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Set when the process ended on its own. */
  exited(): string | undefined;
}

export interface ServerOptions {
  /** Folder for the data, the config, the htpasswd file and the token key. */
  dir: string;
  gc: GcTimings;
  /** A copy of the log without the per-request lines of answers below 500. */
  logFile?: string;
}

function goDuration(ms: number): string {
  return `${ms}ms`;
}

export async function startSoakServer(options: ServerOptions): Promise<SoakServer> {
  const { dir, gc } = options;
  mkdirSync(dir, { recursive: true });
  const htpasswd = join(dir, 'htpasswd');
  writeFileSync(htpasswd, [PUSHER, READER].map((u) => `${u.username}:${bcrypt.hashSync(u.password, 10)}`).join('\n') + '\n', { mode: 0o600 });
  const all = ['read', 'create', 'update', 'delete'];
  const config = {
    distSpecVersion: '1.1.1',
    http: {
      address: '127.0.0.1',
      port: '0',
      auth: { htpasswd: { path: htpasswd } },
      accessControl: {
        repositories: {
          [`${PUBLIC_PREFIX}**`]: { anonymousPolicy: ['read'], defaultPolicy: ['read'], policies: [{ users: [PUSHER.username], actions: all }] },
          'team/**': { policies: [{ users: [PUSHER.username], actions: all }, { users: [READER.username], actions: ['read'] }] },
        },
      },
    },
    storage: { rootDirectory: join(dir, 'data'), gc: true, gcDelay: goDuration(gc.gcDelayMs), gcInterval: goDuration(gc.gcIntervalMs) },
    log: { level: 'info' },
    extensions: { ui: { enable: true } },
    perch: { uploadTTL: goDuration(gc.uploadTtlMs), auth: { tokenKeyFile: join(dir, 'token.key') } },
  };
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const nodeArgs = [...imageNodeFlags(REPO_ROOT), PERCH_BUNDLE, 'serve', configPath];
  const child = spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = new LogStats();
  const file: WriteStream | undefined = options.logFile ? createWriteStream(options.logFile) : undefined;
  let exitedWith: string | undefined;
  const exit = new Promise<number | null>((resolveExit) => {
    child.on('exit', (code, signal) => {
      exitedWith = `exited with ${signal ?? code}`;
      resolveExit(code);
    });
  });
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`perch did not start in 20 s:\n${log.tail.join('\n')}`)), 20_000);
    const reader = (stream: NodeJS.ReadableStream) => {
      let pending = '';
      stream.on('data', (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const line of lines) {
          if (!line) continue;
          log.add(line);
          if (file && (!line.includes('"message":"request"') || /"status":5\d\d/.test(line))) file.write(line + '\n');
          const m = /"message":"listening".*"port":(\d+)/.exec(line);
          if (m) {
            clearTimeout(timer);
            resolvePort(Number(m[1]));
          }
        }
      });
    };
    reader(child.stdout!);
    reader(child.stderr!);
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`perch ${exitedWith} before listening:\n${log.tail.join('\n')}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    nodeArgs,
    config,
    log,
    exited: () => exitedWith,
    async stop() {
      if (exitedWith === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(timer);
      }
      if (file) {
        file.end();
        await once(file, 'close');
      }
      return child.exitCode;
    },
  };
}
