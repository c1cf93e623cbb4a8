/**
 * Object-store emulators for the bucket driver suite (test/storage/bucket-suite.test.ts), each
 * a child process on a loopback port with its data in a temporary folder:
 * - fake-gcs-server (Google Cloud Storage's JSON API), a Go binary that
 *   `bash scripts/install-tools.sh storage` builds into $PERCH_TOOLS/bin;
 * - Azurite (Azure Blob), the npm devDependency, run from node_modules/.bin.
 *
 * Each start makes one fresh bucket or container, and can make more (`createBucket`,
 * `createContainer`), so suites sharing an emulator never see each other's objects.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { freePort } from './ports';
import { tempDir } from './temp-dir';

const REPO = join(__dirname, '..', '..');
const INSTALL_HINT = 'run `bash scripts/install-tools.sh storage`';

/** A bucket or container name nobody has used: lower-case, as both stores require. */
export function freshName(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export interface FakeGcs {
  /** The JSON API's base URL, for GcsDriverConfig.endpoint. */
  endpoint: string;
  /** A bucket made for this start. */
  bucket: string;
  createBucket(name?: string): Promise<string>;
  logs: string[];
  stop(): Promise<void>;
}

export async function startFakeGcs(): Promise<FakeGcs> {
  const binary = join(process.env.PERCH_TOOLS ?? join(homedir(), '.cache', 'perch-tools'), 'bin', 'fake-gcs-server');
  if (!existsSync(binary)) throw new Error(`fake-gcs-server is not at ${binary}: ${INSTALL_HINT}`);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  // The memory backend: the filesystem one maps keys to paths and cannot hold both "a" and
  // "a/b", which object stores (and the suite) do.
  const server = startChild('fake-gcs-server', binary, [
    '-scheme', 'http',
    '-host', '127.0.0.1',
    '-port', String(port),
    '-public-host', `127.0.0.1:${port}`,
    '-external-url', endpoint,
    '-backend', 'memory',
    '-log-level', 'warn',
  ]);
  const createBucket = async (name = freshName('perch')): Promise<string> => {
    const res = await fetch(`${endpoint}/storage/v1/b?project=perch-test`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    if (!res.ok) throw new Error(`fake-gcs-server refused bucket ${name}: ${res.status} ${await res.text()}`);
    return name;
  };
  const bucket = await server.settle(async () => {
    await server.waitFor(async () => (await fetch(`${endpoint}/storage/v1/b`)).ok);
    return createBucket();
  });
  return { endpoint, bucket, createBucket, logs: server.logs, stop: server.stop };
}

export interface Azurite {
  /** The blob service URL, account included (http://127.0.0.1:PORT/devstoreaccount1). */
  serviceUrl: string;
  accountName: 'devstoreaccount1';
  accountKey: string;
  /** A container made for this start. */
  container: string;
  createContainer(name?: string): Promise<string>;
  logs: string[];
  stop(): Promise<void>;
}

/** Azurite's built-in account; its key is published in Azurite's README, not a secret. */
const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export async function startAzurite(): Promise<Azurite> {
  const binary = join(REPO, 'node_modules', '.bin', 'azurite-blob');
  if (!existsSync(binary)) throw new Error(`azurite-blob is not at ${binary}: run \`npm install\` (azurite is a devDependency)`);
  const port = await freePort();
  const serviceUrl = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  // Run by this process's Node, whatever `node` on PATH is.
  const server = startChild('azurite-blob', process.execPath, [
    realpathSync(binary),
    '--blobHost', '127.0.0.1',
    '--blobPort', String(port),
    '--location', tempDir('perch-azurite-'),
    '--silent',
    '--skipApiVersionCheck',
    '--disableTelemetry',
  ]);
  const service = new BlobServiceClient(serviceUrl, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  const createContainer = async (name = freshName('perch')): Promise<string> => {
    await service.getContainerClient(name).create();
    return name;
  };
  const container = await server.settle(async () => {
    // Any HTTP answer means it listens (an unsigned request gets 4xx).
    await server.waitFor(async () => (await fetch(`${serviceUrl}?comp=list`)).status > 0);
    return createContainer();
  });
  return {
    serviceUrl,
    accountName: AZURITE_ACCOUNT,
    accountKey: AZURITE_KEY,
    container,
    createContainer,
    logs: server.logs,
    stop: server.stop,
  };
}

interface Child {
  logs: string[];
  /** Polls `ready` until it returns true; throws when the child exits first or 20 s pass. */
  waitFor(ready: () => Promise<boolean>): Promise<void>;
  /** Runs the start-up steps; if one throws, stops the child before passing the error on. */
  settle<T>(steps: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/** Children still running when the test process exits are killed with it, not left behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function startChild(name: string, binary: string, args: string[]): Child {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  // 'error' instead of 'exit' when the binary could not be started at all.
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  }).then(() => running.delete(child));
  const logs: string[] = [];
  const onData = (c: Buffer) => {
    logs.push(...c.toString().split('\n').filter(Boolean));
    if (logs.length > 200) logs.splice(0, logs.length - 200);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (alive() && !spawnError) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  return {
    logs,
    stop,
    async settle(steps) {
      try {
        return await steps();
      } catch (err) {
        await stop();
        throw err;
      }
    },
    async waitFor(ready) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        if (spawnError) throw new Error(`${name} did not start: ${spawnError.message}`);
        if (!alive()) throw new Error(`${name} exited with ${child.exitCode ?? child.signalCode}:\n${logs.join('\n')}`);
        try {
          if (await ready()) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`${name} did not answer in 20s:\n${logs.join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}
