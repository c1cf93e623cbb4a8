/**
 * Starts the bundled registry (`registry-image/dist/perch.js`, the file the image runs) as a
 * real child process on a free loopback port, with its own data folder, and stops it.
 * Every suite that talks to a running registry uses this, so they all test what ships.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { tempDir } from './temp-dir';

export const REPO_ROOT = resolve(__dirname, '../..');
/** PERCH_TEST_BUNDLE runs the suites against another build (an older commit's, to see a test fail without a fix). */
export const PERCH_BUNDLE = process.env.PERCH_TEST_BUNDLE ?? join(REPO_ROOT, 'registry-image/dist/perch.js');

export interface RunningRegistry {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** e.g. 127.0.0.1:41234 */
  host: string;
  port: number;
  dataDir: string;
  configPath: string;
  process: ChildProcess;
  /** Every line the process wrote to stdout and stderr so far. */
  logs: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  /** Merged over the default config (zot's format); `storage.rootDirectory` defaults to a temp folder removed after the test file. */
  config?: Record<string, unknown>;
  /** Reuse a data folder (restart tests). */
  dataDir?: string;
  /** Listen address; default 127.0.0.1. */
  address?: string;
  /** Fixed port; default: an ephemeral one. */
  port?: number;
  env?: Record<string, string>;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
      ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}

export async function startRegistry(options: StartOptions = {}): Promise<RunningRegistry> {
  if (!existsSync(PERCH_BUNDLE)) throw new Error(`${PERCH_BUNDLE} is missing: run "npm run build" first`);
  // Both folders are removed after the test file (temp-dir.ts); a dataDir passed in is the caller's.
  const dataDir = options.dataDir ?? tempDir('perch-data-');
  const address = options.address ?? '127.0.0.1';
  const config = deepMerge(
    {
      distSpecVersion: '1.1.1',
      http: { address, port: String(options.port ?? 0) },
      storage: { rootDirectory: dataDir },
      log: { level: 'info' },
    },
    options.config ?? {},
  );
  const configPath = join(tempDir('perch-config-'), 'config.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const child = spawn(process.execPath, [PERCH_BUNDLE, 'serve', configPath], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`registry did not start in 15s:\n${logs.join('\n')}`)), 15_000);
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        logs.push(line);
        const m = /"message":"listening".*"port":(\d+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolvePort(Number(m[1]));
        }
      }
    };
    child.stdout!.on('data', onLine);
    child.stderr!.on('data', onLine);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`registry exited with ${code} before listening:\n${logs.join('\n')}`));
    });
  });
  const host = `${address}:${port}`;
  return {
    url: `http://${host}`,
    host,
    port,
    dataDir,
    configPath,
    process: child,
    logs,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}
