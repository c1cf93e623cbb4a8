/**
 * SeaweedFS (`weed server -s3`), the S3 server the object-storage suites and the benchmark run
 * on: one child process on loopback with its master, volume, filer and S3 gateway, its data in
 * a temporary folder. Built by `bash scripts/install-tools.sh storage` into $PERCH_TOOLS/bin.
 * Without an identities file it accepts any credentials. `createBucket` gives each suite a
 * bucket of its own.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { S3DriverConfig } from '../../registry-image/src/storage/object/driver-config';
import { tempDir } from './temp-dir';

export const WEED = join(process.env.PERCH_TOOLS ?? join(homedir(), '.cache', 'perch-tools'), 'bin', 'weed');

export interface Seaweed {
  /** The S3 endpoint, http://127.0.0.1:PORT */
  endpoint: string;
  createBucket(name?: string): Promise<string>;
  /** The driver config for a bucket (and root directory) on this server. */
  driver(bucket: string, rootDirectory?: string): S3DriverConfig;
  logs: string[];
  stop(): Promise<void>;
}

async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  try {
    await once(server, 'listening');
  } catch {
    return false;
  }
  server.close();
  await once(server, 'close');
  return true;
}

/**
 * A port whose gRPC twin (port + 10000, SeaweedFS's rule) is free too: both below 65536, so
 * the kernel's ephemeral range (above 32768) is no use.
 */
async function seaweedPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 11000 + Math.floor(Math.random() * 19000);
    if (taken.has(port) || taken.has(port + 10000)) continue;
    if ((await isFree(port)) && (await isFree(port + 10000))) {
      taken.add(port);
      taken.add(port + 10000);
      return port;
    }
  }
}

export async function startSeaweed(): Promise<Seaweed> {
  if (!existsSync(WEED)) throw new Error(`SeaweedFS is not at ${WEED}: run \`bash scripts/install-tools.sh storage\``);
  const taken = new Set<number>();
  const [s3, master, volume, filer] = [await seaweedPort(taken), await seaweedPort(taken), await seaweedPort(taken), await seaweedPort(taken)];
  const dir = tempDir('perch-seaweed-');
  const child = spawn(
    WEED,
    [
      'server',
      `-dir=${dir}`,
      '-ip=127.0.0.1',
      '-ip.bind=127.0.0.1',
      '-s3',
      `-s3.port=${s3}`,
      `-master.port=${master}`,
      `-volume.port=${volume}`,
      `-filer.port=${filer}`,
      '-volume.max=200',
      '-master.volumeSizeLimitMB=256',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: string[] = [];
  const keep = (c: Buffer) => {
    logs.push(...c.toString().split('\n').filter(Boolean));
    if (logs.length > 400) logs.splice(0, logs.length - 400);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const endpoint = `http://127.0.0.1:${s3}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  };
  const createBucket = async (name = `perch-${randomBytes(5).toString('hex')}`) => {
    // Unsigned is fine: without an identities file SeaweedFS lets anyone in.
    const res = await fetch(`${endpoint}/${name}`, { method: 'PUT' });
    if (!res.ok) throw new Error(`SeaweedFS refused bucket ${name}: ${res.status} ${await res.text()}`);
    return name;
  };
  // Ready when a bucket can be made and written to (the first write waits for a volume).
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`weed server exited with ${child.exitCode}:\n${logs.slice(-40).join('\n')}`);
    try {
      const probe = await createBucket(`ready-${randomBytes(4).toString('hex')}`);
      const put = await fetch(`${endpoint}/${probe}/probe`, { method: 'PUT', body: 'ok' });
      if (put.ok) break;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`SeaweedFS did not accept a write at ${endpoint} in 60s:\n${logs.slice(-40).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    endpoint,
    createBucket,
    driver: (bucket, rootDirectory = 'perch') => ({
      name: 's3',
      bucket,
      region: 'us-east-1',
      regionEndpoint: endpoint,
      rootDirectory,
      forcePathStyle: true,
      secure: false,
      skipVerify: false,
      accessKey: 'perch-test',
      secretKey: 'perch-test-secret',
    }),
    logs,
    stop,
  };
}
