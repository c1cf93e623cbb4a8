/**
 * The benchmark's SeaweedFS (scenario s3): test/helpers/seaweed.ts's `startSeaweed`, the one
 * the object-storage suites use, with its data in the benchmark's folder (tmpfs by default,
 * as every other server's data), its process found for CPU accounting, and a fresh bucket
 * for every server start, emptied and deleted when that server stops. Deleting matters:
 * SeaweedFS gives each bucket volumes of its own and keeps them until the bucket goes, and
 * with the helper's `-volume.max=200` writes fail after about 28 buckets.
 */
import { startSeaweed, type Seaweed } from '../../helpers/seaweed';
import { childWithArgument } from '../proc';
import { runAfterAllHooks } from '../vitest-hooks';
import { killWithServers } from './launch';
import type { ServerSpec } from './types';

export interface BenchSeaweed {
  seaweed: Seaweed;
  /** The weed process (master, volume, filer and S3 gateway in one), for its CPU seconds. */
  pid: number;
  stop(): Promise<void>;
}

export async function startBenchSeaweed(dataParent: string): Promise<BenchSeaweed> {
  // The helper makes its folder with os.tmpdir() (test/helpers/temp-dir.ts), which reads
  // TMPDIR on every call; weed inherits it too and writes its own logs there.
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dataParent;
  let seaweed: Seaweed;
  try {
    seaweed = await startSeaweed();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  const pid = childWithArgument(`-s3.port=${new URL(seaweed.endpoint).port}`);
  if (pid === undefined) {
    await seaweed.stop();
    throw new Error(`started SeaweedFS at ${seaweed.endpoint} but found no weed process of ours with that port`);
  }
  const forget = killWithServers(pid);
  return {
    seaweed,
    pid,
    async stop() {
      await seaweed.stop();
      forget();
      // The helper's folder removal, registered with "vitest" (the bench's vitest-hooks.ts).
      await runAfterAllHooks();
    },
  };
}

/** Every key in the bucket, deleted a listing page (1000) at a time, then the bucket. */
export async function dropBucket(endpoint: string, bucket: string): Promise<void> {
  // Unsigned requests: SeaweedFS without an identities file lets anyone in (as createBucket).
  for (;;) {
    const list = await fetch(`${endpoint}/${bucket}?list-type=2&max-keys=1000`);
    if (!list.ok) throw new Error(`listing bucket ${bucket}: ${list.status} ${await list.text()}`);
    const keys = [...(await list.text()).matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]);
    if (keys.length === 0) break;
    const body = `<Delete><Quiet>true</Quiet>${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('')}</Delete>`;
    const res = await fetch(`${endpoint}/${bucket}?delete`, { method: 'POST', body });
    if (!res.ok) throw new Error(`emptying bucket ${bucket}: ${res.status} ${await res.text()}`);
  }
  const res = await fetch(`${endpoint}/${bucket}`, { method: 'DELETE' });
  if (!res.ok) throw new Error(`deleting bucket ${bucket}: ${res.status} ${await res.text()}`);
}

/** `spec` started on a new bucket of `seaweed` each time, the bucket dropped when it stops. */
export function onFreshBucket(spec: ServerSpec, seaweed: Seaweed, rootDirectory: string): ServerSpec {
  return {
    ...spec,
    async start(options) {
      const bucket = await seaweed.createBucket();
      const server = await spec.start({ ...options, s3: seaweed.driver(bucket, rootDirectory) }).catch(async (err: Error) => {
        await dropBucket(seaweed.endpoint, bucket).catch(() => undefined);
        throw err;
      });
      return {
        ...server,
        async stop() {
          await server.stop();
          await dropBucket(seaweed.endpoint, bucket);
        },
      };
    },
  };
}
