/**
 * (s3) Object storage: perch against distribution's registry v3 on the same SeaweedFS (one
 * weed process started here; a fresh bucket for every server in every run), each as one
 * process and as three processes on one bucket, the client taking turns on the three as a
 * Service would (client/http.ts). Two workloads, on the same servers one after the other:
 * - many small images: 200 images (quick: 50) of config + 3 layers x 16 KiB in 10
 *   repositories, concurrency 16, pushed then pulled (image-phases.ts);
 * - big blobs: 2 blobs of 256 MiB (quick: 64 MiB), one after another, POST then one PUT with
 *   the whole blob, then GET.
 * Goals (issue 14): ahead of registry v3 on every row; three replicas faster than one on push
 * and pull of many images. CPU is read per phase: the registry's processes together, and the
 * weed process (whose work is what each registry asks of the store).
 */
import { existsSync } from 'node:fs';
import { makeImage, prngBytes, sha256, type Blob, type Image } from '../client/content';
import { pullBlob, pushBlob } from '../client/registry-ops';
import { runAlternating, type BenchContext, type Figures, type PlannedServer, type Results } from '../harness';
import { cpuSeconds, cpuSecondsOf } from '../proc';
import { goals, variantRatioRow, variantRow, type Goal, type Row, type Table } from '../report';
import { registryV3Spec, registryV3Version } from '../servers/registry-v3';
import { replicated } from '../servers/replicas';
import { onFreshBucket, startBenchSeaweed } from '../servers/seaweed';
import type { RunningServer } from '../servers/types';
import { WEED } from '../../helpers/seaweed';
import { newClient, pullPhase, pushPhase, reportErrors, warmUp } from './image-phases';

const MiB = 1024 * 1024;
const REPLICAS = 3;
const CONCURRENCY = 16;
const BIG_BLOBS = 2;
/** The three-replica variant of each server is keyed `${kind}-3` ("ours-3", "peer-3"). */
const MANY = `-${REPLICAS}`;
const SMALL_LAYER = 16 * 1024;

interface Input {
  images: Image[];
  blobs: Blob[];
}

function smallImagesOf(seed: string, count: number): Image[] {
  return Array.from({ length: count }, (_, i) => makeImage(`${seed}/${i}`, `bench-s3/img${i % 10}`, `${seed.replace(/\W/g, '-')}-${i}`, 3, SMALL_LAYER));
}

/** Runs `fn`, returning the CPU seconds the registry, the store and this client spent in it. */
async function metered<T>(server: RunningServer, storePid: number, fn: () => Promise<T>) {
  const s0 = cpuSecondsOf(server.pids);
  const w0 = cpuSeconds(storePid);
  const c0 = process.cpuUsage();
  const result = await fn();
  const c = process.cpuUsage(c0);
  return { result, serverCpu: cpuSecondsOf(server.pids) - s0, storeCpu: cpuSeconds(storePid) - w0, clientCpu: (c.user + c.system) / 1e6 };
}

async function measure(server: RunningServer, input: Input, storePid: number, log: (m: string) => void): Promise<Figures> {
  const label = `${server.kind} x${server.urls.length}`;
  const small = await metered(server, storePid, async () => {
    const client = newClient(server.urls, CONCURRENCY);
    try {
      const push = await pushPhase(client, input.images, CONCURRENCY);
      const pull = await pullPhase(client, input.images, CONCURRENCY);
      reportErrors(log, `${label} push`, push.errors);
      reportErrors(log, `${label} pull`, pull.errors);
      return { push, pull };
    } finally {
      client.close();
    }
  });
  const big = await metered(server, storePid, async () => {
    const client = newClient(server.urls, 1);
    const errors: Error[] = [];
    const timed = async (op: (blob: Blob) => Promise<void>) => {
      const t0 = performance.now();
      for (const blob of input.blobs) await op(blob).catch((err: Error) => errors.push(err));
      return (performance.now() - t0) / 1000;
    };
    try {
      const pushS = await timed((blob) => pushBlob(client, 'bench-s3/big', blob));
      const pullS = await timed((blob) => pullBlob(client, 'bench-s3/big', blob));
      reportErrors(log, `${label} big blobs`, errors);
      return { pushS, pullS, errors: errors.length };
    } finally {
      client.close();
    }
  });
  const bigMiB = input.blobs.reduce((n, b) => n + b.size, 0) / MiB;
  return {
    smallPushImgs: small.result.push.imagesPerSecond,
    smallPullImgs: small.result.pull.imagesPerSecond,
    smallServerCpu: small.serverCpu,
    smallStoreCpu: small.storeCpu,
    smallClientCpu: small.clientCpu,
    smallErrors: small.result.push.errors.length + small.result.pull.errors.length,
    bigPushMiBs: bigMiB / big.result.pushS,
    bigPullMiBs: bigMiB / big.result.pullS,
    bigServerCpu: big.serverCpu,
    bigStoreCpu: big.storeCpu,
    bigClientCpu: big.clientCpu,
    bigErrors: big.result.errors,
  };
}

const ahead = goals.aheadOfPeer('ahead of registry-v3');
const replicasHelp: Goal = goals.medianAbove(1, 'ours > 1 (3 replicas faster than 1)');

/** The rows every workload shows: figures for 1 and 3 replicas, their ratio, CPU, errors. */
function workloadRows(results: Results, prefix: 'small' | 'big', push: string, pull: string, unit: string, ratioGoal?: Goal): Row[] {
  return [
    variantRow(results, push, '', 'push, 1 replica', unit, ahead),
    variantRow(results, push, MANY, `push, ${REPLICAS} replicas`, unit, ahead),
    variantRow(results, pull, '', 'pull, 1 replica', unit, ahead),
    variantRow(results, pull, MANY, `pull, ${REPLICAS} replicas`, unit, ahead),
    variantRatioRow(results, push, MANY, '', `push, ${REPLICAS} replicas / 1`, ratioGoal),
    variantRatioRow(results, pull, MANY, '', `pull, ${REPLICAS} replicas / 1`, ratioGoal),
    variantRow(results, `${prefix}ServerCpu`, '', 'server CPU, push+pull, 1 replica', 's'),
    variantRow(results, `${prefix}ServerCpu`, MANY, `server CPU, push+pull, ${REPLICAS} replicas`, 's'),
    variantRow(results, `${prefix}StoreCpu`, '', 'SeaweedFS CPU, push+pull, 1 replica', 's'),
    variantRow(results, `${prefix}StoreCpu`, MANY, `SeaweedFS CPU, push+pull, ${REPLICAS} replicas`, 's'),
    variantRow(results, `${prefix}ClientCpu`, '', 'client CPU, 1 replica', 's'),
    variantRow(results, `${prefix}ClientCpu`, MANY, `client CPU, ${REPLICAS} replicas`, 's'),
    variantRow(results, `${prefix}Errors`, '', 'errors, 1 replica', 'count', goals.below(1, '0')),
    variantRow(results, `${prefix}Errors`, MANY, `errors, ${REPLICAS} replicas`, 'count', goals.below(1, '0')),
  ];
}

export async function objectStorage(ctx: BenchContext): Promise<Table[]> {
  const count = ctx.quick ? 50 : 200;
  const bigSize = (ctx.quick ? 64 : 256) * MiB;
  const titles = {
    small: `(s3) ${count} images (config + 3 x 16 KiB layers) on SeaweedFS, concurrency ${CONCURRENCY}, 1 and ${REPLICAS} replicas on one bucket`,
    big: `(s3) ${BIG_BLOBS} blobs x ${bigSize / MiB} MiB on SeaweedFS, monolithic PUT then GET, one after another, 1 and ${REPLICAS} replicas on one bucket`,
  };
  const labels = { peer: 'registry-v3' };
  const perch = ctx.servers.find((s) => s.kind === 'ours');
  const peer = registryV3Spec();
  const missing = [
    existsSync(WEED) ? undefined : `SeaweedFS is missing at ${WEED} (bash scripts/install-tools.sh storage)`,
    perch ? undefined : 'perch is left out (see the header)',
  ].filter((m): m is string => m !== undefined);
  if (missing.length) return [{ title: titles.small, rows: [], notes: [`not run: ${missing.join('; ')}`], labels }];
  const notes: string[] = [];
  const why = peer.unavailable();
  notes.push(why ? `left out: registry-v3: ${why}` : `peer: ${registryV3Version()}`);

  const store = await startBenchSeaweed(ctx.workDir);
  try {
    const { seaweed } = store;
    const variants: PlannedServer[] = [];
    for (const spec of why ? [perch!] : [perch!, peer]) {
      const root = spec.kind === 'ours' ? 'perch' : 'registry';
      variants.push(onFreshBucket(spec, seaweed, root), { ...onFreshBucket(replicated(spec, REPLICAS), seaweed, root), key: `${spec.kind}${MANY}` });
    }
    ctx.log(`  SeaweedFS at ${seaweed.endpoint} (pid ${store.pid}); ${variants.length} servers, each on a fresh bucket every run`);
    const results = await runAlternating<Input>(ctx, {
      id: 's3',
      servers: variants,
      freshServerPerRun: true,
      prepare: (run) => ({
        images: smallImagesOf(`s3-run${run}`, count),
        blobs: Array.from({ length: BIG_BLOBS }, (_, i) => {
          const data = prngBytes(`s3-run${run}/big${i}`, bigSize);
          return { data, size: bigSize, digest: sha256(data) };
        }),
      }),
      async warmup(server) {
        // Every replica gets the warm-up a single server gets: spread over three, each
        // process's JIT saw a third of it, and a 64 MiB GET through a replica that had
        // streamed nothing yet cost it ~0.3 s of CPU against ~0.17 s once warm.
        for (const [i, url] of server.urls.entries()) {
          await warmUp(url, () => smallImagesOf(`s3-warm${i}`, 16));
          // The multipart path too (perch's parts are 8 MiB, registry v3's 10 MiB).
          const client = newClient(url, 1);
          const data = prngBytes(`s3-warm${i}/big`, 12 * MiB);
          const blob = { data, size: data.length, digest: sha256(data) };
          await pushBlob(client, 'bench-s3/warm', blob)
            .then(() => pullBlob(client, 'bench-s3/warm', blob))
            .then(() => pullBlob(client, 'bench-s3/warm', blob))
            .finally(() => client.close());
        }
      },
      measure: (server, input) => measure(server, input, store.pid, ctx.log),
    });
    notes.push(
      'goals: ahead of registry-v3 on every row; 3 replicas faster than 1 on push and pull of many images (on big blobs the ratio is for information)',
      `server CPU: all replicas together; SeaweedFS CPU: the one weed process (master, volume, filer, S3 gateway) during the phase`,
    );
    return [
      { title: titles.small, rows: workloadRows(results, 'small', 'smallPushImgs', 'smallPullImgs', 'images/s', replicasHelp), notes: [...notes], labels },
      { title: titles.big, rows: workloadRows(results, 'big', 'bigPushMiBs', 'bigPullMiBs', 'MiB/s'), notes, labels },
    ];
  } finally {
    await store.stop();
  }
}
