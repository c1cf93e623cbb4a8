/**
 * Starts a server process on a loopback port, waits until it answers `GET /v2/`, and stops
 * it again. Its output goes to a log file beside its data, shown when it fails to start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { RunningServer, ServerKind } from './types';

/** Every server process still running, so an interrupted benchmark can stop them. */
const running = new Set<ChildProcess>();
/** Processes started elsewhere (SeaweedFS, by test/helpers/seaweed.ts) to stop with them. */
const others = new Set<number>();

export function killAllServers(): void {
  for (const child of running) child.kill('SIGKILL');
  for (const pid of others) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Have killAllServers stop `pid` too, until the returned function is called. */
export function killWithServers(pid: number): () => void {
  others.add(pid);
  return () => others.delete(pid);
}

/** A free port on 127.0.0.1 (asked of the kernel, then released for the server to take). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/v2/`, { method: 'GET', agent: false }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 500);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(1000, () => req.destroy());
    req.end();
  });
}

export interface LaunchOptions {
  kind: ServerKind;
  command: string;
  args: string[];
  port: number;
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
}

export async function launch(opts: LaunchOptions): Promise<RunningServer> {
  const logPath = join(opts.dataDir, '..', `${opts.kind}-${opts.port}.log`);
  const log = openSync(logPath, 'a');
  const child = spawn(opts.command, opts.args, { stdio: ['ignore', log, log], env: opts.env ?? process.env });
  closeSync(log);
  running.add(child);
  const url = `http://127.0.0.1:${opts.port}`;
  let exited: string | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      exited = `exited with ${signal ?? code}`;
      resolve();
    });
  });
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  const tail = () => readFileSync(logPath, 'utf8').split('\n').slice(-15).join('\n');
  for (;;) {
    if (exited) throw new Error(`${opts.command} ${opts.args.join(' ')} ${exited} before answering:\n${tail()}`);
    if (await answers(url)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${opts.command} did not answer GET ${url}/v2/ within ${opts.readyTimeoutMs ?? 20_000} ms:\n${tail()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    kind: opts.kind,
    url,
    pid: child.pid!,
    urls: [url],
    pids: [child.pid!],
    dataDir: opts.dataDir,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}
