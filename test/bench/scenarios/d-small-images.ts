/**
 * (d) Many small images, where per-request overhead dominates: 500 images (config + one
 * 4 KiB layer) pushed then pulled at concurrency 32; images per second, and the latency of
 * the manifest PUT and GET (p50 and p99 within each run, then the median over the runs).
 */
import { makeImage, type Image } from '../client/content';
import { runAlternating, type BenchContext, type Figures } from '../harness';
import { goals, row, type Table } from '../report';
import { percentile } from '../stats';
import type { Credentials } from '../client/http';
import type { RunningServer } from '../servers/types';
import { newClient, pullPhase, pushPhase, reportErrors, warmUp } from './image-phases';

export const SMALL_LAYER = 4 * 1024;

export function smallImages(seed: string, count: number, repoPrefix: string): Image[] {
  return Array.from({ length: count }, (_, i) => makeImage(`${seed}/${i}`, `${repoPrefix}/img${i % 50}`, `${seed.replace(/\W/g, '-')}-${i}`, 1, SMALL_LAYER));
}

/** Push then pull, returning the figures (d) and the authenticated run both report. */
export async function measureSmallImages(server: RunningServer, images: Image[], concurrency: number, log: (m: string) => void, credentials?: Credentials): Promise<Figures> {
  const client = newClient(server.url, concurrency, credentials);
  try {
    const push = await pushPhase(client, images, concurrency);
    const pull = await pullPhase(client, images, concurrency);
    reportErrors(log, `${server.kind} push`, push.errors);
    reportErrors(log, `${server.kind} pull`, pull.errors);
    return {
      pushImgs: push.imagesPerSecond,
      pullImgs: pull.imagesPerSecond,
      putP50Ms: percentile(push.manifestMs, 50),
      putP99Ms: percentile(push.manifestMs, 99),
      getP50Ms: percentile(pull.manifestMs, 50),
      getP99Ms: percentile(pull.manifestMs, 99),
      errors: push.errors.length + pull.errors.length,
    };
  } finally {
    client.close();
  }
}

export async function manySmallImages(ctx: BenchContext): Promise<Table> {
  const count = ctx.quick ? 80 : 500;
  const concurrency = 32;
  const results = await runAlternating(ctx, {
    id: 'd',
    prepare: (run) => smallImages(`d-run${run}`, count, 'bench-d'),
    warmup: (server) => warmUp(server.url, () => smallImages('d-warm', ctx.quick ? 16 : 64, 'bench-d')),
    measure: (server, images) => measureSmallImages(server, images, concurrency, ctx.log),
  });
  return {
    title: `(d) ${count} small images (config + one 4 KiB layer) in 50 repositories, concurrency ${concurrency}`,
    rows: [
      row(results, 'pushImgs', 'push', 'images/s', goals.ofCeilingAndAheadOfPeer(0.9)),
      row(results, 'pullImgs', 'pull', 'images/s', goals.ofCeilingAndAheadOfPeer(0.9)),
      row(results, 'putP50Ms', 'manifest PUT p50', 'ms'),
      row(results, 'putP99Ms', 'manifest PUT p99', 'ms', goals.timeWithinCeiling(1.25)),
      row(results, 'getP50Ms', 'manifest GET p50', 'ms'),
      row(results, 'getP99Ms', 'manifest GET p99', 'ms', goals.timeWithinCeiling(1.25)),
      row(results, 'serverCpuSeconds', 'server CPU, push+pull', 's'),
      row(results, 'clientCpuSeconds', 'client CPU', 's'),
      row(results, 'errors', 'errors', 'count', goals.below(1, '0')),
    ],
    notes: [],
  };
}
