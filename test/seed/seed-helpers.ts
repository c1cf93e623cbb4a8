/**
 * What the seed suites share: running helm 3 or 4 in a throwaway home, reading tar headers,
 * running `perch seed` in-process and capturing what it printed, and a proxy that counts the
 * requests a client makes (to show that a second seed uploads nothing).
 */
import { once } from 'node:events';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { runSeed, type RunSeedDeps } from '../../registry-image/src/cli/seed';
import { makeClientHome, type ClientHome } from '../helpers/client-home';
import { runCommand, type CommandResult } from '../helpers/run-command';

export type HelmVersion = 'helm3' | 'helm4';
export const HELMS: readonly HelmVersion[] = ['helm3', 'helm4'];

export interface HelmHome extends ClientHome {
  helm(version: HelmVersion, args: string[], options?: { allowFailure?: boolean; cwd?: string; input?: string }): Promise<CommandResult>;
}

/** helm with its own HELM_CONFIG_HOME, HELM_CACHE_HOME, HELM_DATA_HOME and HELM_REGISTRY_CONFIG. */
export function makeHelmHome(prefix = 'perch-seed-helm-'): HelmHome {
  const home = makeClientHome(prefix);
  const helmDir = home.folder('helm');
  for (const sub of ['config', 'cache', 'data']) mkdirSync(join(helmDir, sub), { recursive: true });
  const env = {
    ...home.env,
    HELM_CONFIG_HOME: join(helmDir, 'config'),
    HELM_CACHE_HOME: join(helmDir, 'cache'),
    HELM_DATA_HOME: join(helmDir, 'data'),
    HELM_REGISTRY_CONFIG: join(helmDir, 'config', 'registry.json'),
  };
  return {
    ...home,
    env,
    helm: (version, args, options = {}) =>
      runCommand(version, args, { env, cwd: options.cwd, input: options.input, allowFailure: options.allowFailure, timeoutMs: 60_000 }),
  };
}

export interface TarHeaderFields {
  path: string;
  mode: string;
  uid: string;
  gid: string;
  size: number;
  mtime: number;
  typeflag: string;
  magic: string;
  uname: string;
  gname: string;
  devmajor: string;
  devminor: string;
  checksumOk: boolean;
  data: Buffer;
}

const cstring = (b: Buffer) => b.toString('latin1').replace(/\0.*$/s, '');

/** Every entry of a .tgz with its raw header fields, in archive order. */
export function readTgzHeaders(tgz: Buffer): TarHeaderFields[] {
  const tar = gunzipSync(tgz);
  const out: TarHeaderFields[] = [];
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const h = tar.subarray(offset, offset + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(cstring(h.subarray(124, 136)), 8);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    const name = cstring(h.subarray(0, 100));
    const prefix = cstring(h.subarray(345, 500));
    out.push({
      path: prefix ? `${prefix}/${name}` : name,
      mode: h.subarray(100, 108).toString('latin1'),
      uid: h.subarray(108, 116).toString('latin1'),
      gid: h.subarray(116, 124).toString('latin1'),
      size,
      mtime: parseInt(cstring(h.subarray(136, 148)), 8),
      typeflag: String.fromCharCode(h[156]),
      magic: h.subarray(257, 265).toString('latin1'),
      uname: cstring(h.subarray(265, 297)),
      gname: cstring(h.subarray(297, 329)),
      devmajor: h.subarray(329, 337).toString('latin1'),
      devminor: h.subarray(337, 345).toString('latin1'),
      checksumOk: parseInt(cstring(h.subarray(148, 156)).trim(), 8) === sum,
      data: Buffer.from(tar.subarray(offset + 512, offset + 512 + size)),
    });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

export interface SeedRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `perch seed ARGS` in this process, with what it printed. */
export async function seedCli(argv: string[], env: NodeJS.ProcessEnv = {}, options: { stdin?: string; deps?: RunSeedDeps } = {}): Promise<SeedRun> {
  let stdout = '';
  let stderr = '';
  const { Readable } = await import('node:stream');
  const code = await runSeed(
    argv,
    env,
    {
      stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
    },
    options.deps,
  );
  return { code, stdout, stderr };
}

export interface CountingProxy {
  url: string;
  host: string;
  /** "METHOD /path" of every request so far. */
  requests: string[];
  close(): Promise<void>;
}

/** A loopback HTTP proxy in front of `target` (http://host:port) that records each request line. */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${(req.url ?? '').split('?')[0]}`);
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
