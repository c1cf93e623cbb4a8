/**
 * (e) 100 concurrent pushes (the developer-platform team's ask): 100 images (config + 2
 * layers x 64 KiB) all in flight at once over 100 connections. Goals: no error, all done in
 * under 30 s, push latency p50 under 100 ms. The latency goal is per push request (each
 * POST, blob PUT and manifest PUT): an image's own push time, with all 100 started at the
 * same instant, is the whole batch's time for every server, the ceiling included, so it is
 * shown for information only.
 */
import { makeImage } from '../client/content';
import { runAlternating, type BenchContext } from '../harness';
import { goals, row, type Table } from '../report';
import { percentile } from '../stats';
import { newClient, pushPhase, reportErrors, warmUp } from './image-phases';

export async function burst(ctx: BenchContext): Promise<Table> {
  const count = 100;
  const concurrency = 100;
  const layer = 64 * 1024;
  const images = (seed: string, n: number) => Array.from({ length: n }, (_, i) => makeImage(`${seed}/${i}`, `bench-e/img${i}`, seed, 2, layer));
  const results = await runAlternating(ctx, {
    id: 'e',
    prepare: (run) => images(`e-run${run}`, count),
    warmup: (server) => warmUp(server.url, () => images('e-warm', 8)),
    async measure(server, input) {
      const client = newClient(server.url, concurrency, undefined, true);
      try {
        const push = await pushPhase(client, input, concurrency);
        reportErrors(ctx.log, `${server.kind} push`, push.errors);
        const requests = client.latencies ?? [];
        return {
          wallS: push.wallMs / 1000,
          requestP50Ms: percentile(requests, 50),
          requestP99Ms: percentile(requests, 99),
          pushP50Ms: percentile(push.imageMs, 50),
          pushP99Ms: percentile(push.imageMs, 99),
          errors: push.errors.length,
        };
      } finally {
        client.close();
      }
    },
  });
  return {
    title: `(e) ${count} images (config + 2 x 64 KiB layers) pushed at concurrency ${concurrency}`,
    rows: [
      row(results, 'wallS', 'all pushed in', 's', goals.below(30, '< 30 s')),
      row(results, 'requestP50Ms', 'push request p50', 'ms', goals.below(100, '< 100 ms')),
      row(results, 'requestP99Ms', 'push request p99', 'ms'),
      row(results, 'pushP50Ms', 'whole image p50', 'ms'),
      row(results, 'pushP99Ms', 'whole image p99', 'ms'),
      row(results, 'serverCpuSeconds', 'server CPU', 's'),
      row(results, 'clientCpuSeconds', 'client CPU', 's'),
      row(results, 'errors', 'errors', 'count', goals.below(1, '0')),
    ],
    notes: [],
  };
}
