/**
 * (s3api) perch's S3 API against SeaweedFS's own S3 API, in the same run, driven by the AWS
 * SDK for JavaScript v3 (the client tests' SDK): PutObject then GetObject of
 * - many small objects: 200 (quick: 50) x 64 KiB, concurrency 16;
 * - big objects: 2 (quick: 1) x 128 MiB (quick: 64 MiB) single PUTs, one after another.
 * perch stores on its filesystem backend in the benchmark's folder (tmpfs by default), weed
 * on its volume in the same folder. Both get signed requests; perch checks SigV4 and access
 * control on every one, SeaweedFS (started without an identities file) checks none.
 * The servers alternate within each run; keys are new every run. Figures: objects/s and MiB/s,
 * median over the runs with the range, and perch / SeaweedFS. Named s3api because `s3` is
 * already the registry-on-SeaweedFS scenario.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { prngBytes } from '../client/content';
import type { BenchContext } from '../harness';
import type { Row, Table } from '../report';
import { freePort } from '../servers/launch';
import { perchSpec } from '../servers/perch';
import { startBenchSeaweed } from '../servers/seaweed';
import { summarize } from '../stats';
import { WEED } from '../../helpers/seaweed';

const MiB = 1024 * 1024;
const CONCURRENCY = 16;
const SMALL = 64 * 1024;
const ACCESS = 'PERCHBENCHKEY00001';
const SECRET = 'perch-bench-secret-0001';

function client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS, secretAccessKey: SECRET },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: CONCURRENCY }) }),
  });
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

interface Figures {
  smallPut: number;
  smallGet: number;
  bigPut: number;
  bigGet: number;
}

async function measure(c: S3Client, bucket: string, run: number, small: Buffer[], big: Buffer[]): Promise<Figures> {
  const keys = small.map((_, i) => `run${run}/small/${i}.bin`);
  const timed = async (fn: () => Promise<void>) => {
    const t0 = performance.now();
    await fn();
    return (performance.now() - t0) / 1000;
  };
  const smallPutS = await timed(() => pool(keys.map((k, i) => [k, small[i]!] as const), CONCURRENCY, async ([Key, Body]) => void (await c.send(new PutObjectCommand({ Bucket: bucket, Key, Body })))));
  const smallGetS = await timed(() =>
    pool(keys, CONCURRENCY, async (Key) => {
      const got = await c.send(new GetObjectCommand({ Bucket: bucket, Key }));
      const bytes = await got.Body!.transformToByteArray();
      if (bytes.length !== SMALL) throw new Error(`GET ${Key}: ${bytes.length} bytes, not ${SMALL}`);
    }),
  );
  const bigKeys = big.map((_, i) => `run${run}/big/${i}.bin`);
  const bigPutS = await timed(async () => {
    for (const [i, Key] of bigKeys.entries()) await c.send(new PutObjectCommand({ Bucket: bucket, Key, Body: big[i] }));
  });
  const bigGetS = await timed(async () => {
    for (const Key of bigKeys) {
      const got = await c.send(new GetObjectCommand({ Bucket: bucket, Key }));
      let n = 0;
      for await (const chunk of got.Body as AsyncIterable<Buffer>) n += chunk.length;
      if (n !== big[0]!.length) throw new Error(`GET ${Key}: ${n} bytes`);
    }
  });
  const bigMiB = big.reduce((n, b) => n + b.length, 0) / MiB;
  return { smallPut: small.length / smallPutS, smallGet: small.length / smallGetS, bigPut: bigMiB / bigPutS, bigGet: bigMiB / bigGetS };
}

export async function s3Api(ctx: BenchContext): Promise<Table> {
  const count = ctx.quick ? 50 : 200;
  const bigCount = ctx.quick ? 1 : 2;
  const bigSize = (ctx.quick ? 64 : 128) * MiB;
  const title = `(s3api) S3 API: perch (filesystem) vs SeaweedFS's S3 gateway; ${count} x 64 KiB objects at concurrency ${CONCURRENCY}, ${bigCount} x ${bigSize / MiB} MiB single PUTs, then GETs`;
  const labels = { peer: 'SeaweedFS S3' };
  const perch = perchSpec(process.cwd());
  const why = perch.unavailable() ?? (existsSync(WEED) ? undefined : `SeaweedFS is missing at ${WEED} (bash scripts/install-tools.sh storage)`);
  if (why) return { title, rows: [], notes: [`not run: ${why}`], labels };

  const dataDir = join(ctx.workDir, 's3api-perch');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(ctx.workDir, 's3api.secret'), SECRET);
  const s3Port = await freePort();
  const server = await perch.start({
    dataDir,
    extraConfig: { perch: { s3api: { enable: true, address: '127.0.0.1', port: s3Port, credentials: [{ accessKey: ACCESS, secretKeyFile: join(ctx.workDir, 's3api.secret'), user: 'bench' }] } } },
  });
  const weed = await startBenchSeaweed(ctx.workDir);
  const ours = client(`http://127.0.0.1:${s3Port}`);
  const peer = client(weed.seaweed.endpoint);
  const results: Record<'ours' | 'peer', Figures[]> = { ours: [], peer: [] };
  try {
    // perch needs CreateBucket through its API (a bucket is a record in the registry); weed the same.
    await ours.send(new CreateBucketCommand({ Bucket: 'bench' }));
    await peer.send(new CreateBucketCommand({ Bucket: 'bench' }));
    const warm = [prngBytes('warm', SMALL)];
    await measure(ours, 'bench', -1, warm, [prngBytes('warm-big', 8 * MiB)]);
    await measure(peer, 'bench', -1, warm, [prngBytes('warm-big', 8 * MiB)]);
    for (let run = 0; run < ctx.runs; run++) {
      const small = Array.from({ length: count }, (_, i) => prngBytes(`s3api-${run}-${i}`, SMALL));
      const big = Array.from({ length: bigCount }, (_, i) => prngBytes(`s3api-big-${run}-${i}`, bigSize));
      // Alternate which goes first, so neither always meets a warmer page cache.
      const order: Array<'ours' | 'peer'> = run % 2 === 0 ? ['ours', 'peer'] : ['peer', 'ours'];
      for (const kind of order) {
        const figures = await measure(kind === 'ours' ? ours : peer, 'bench', run, small, big);
        results[kind].push(figures);
        ctx.log(`  run ${run + 1}/${ctx.runs} ${kind}: ${JSON.stringify(Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Number(v.toFixed(1))])))}`);
      }
    }
  } finally {
    ours.destroy();
    peer.destroy();
    await server.stop();
    await weed.stop();
  }
  const rowOf = (metric: keyof Figures, label: string, unit: string): Row => ({
    label,
    unit,
    values: { ours: summarize(results.ours.map((f) => f[metric])), peer: summarize(results.peer.map((f) => f[metric])) },
  });
  return {
    title,
    rows: [
      rowOf('smallPut', 'PutObject 64 KiB', 'objects/s'),
      rowOf('smallGet', 'GetObject 64 KiB', 'objects/s'),
      rowOf('bigPut', `PutObject ${bigSize / MiB} MiB`, 'MiB/s'),
      rowOf('bigGet', `GetObject ${bigSize / MiB} MiB`, 'MiB/s'),
    ],
    notes: ['no goal set: the figures show what the S3 API costs over a plain S3 server (perch verifies SigV4 and MD5s, applies access control and writes OCI manifests; SeaweedFS checks no signature here)'],
    labels,
  };
}
