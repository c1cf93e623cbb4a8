/**
 * (a) Many ordinary images: 100 images of 2 layers x 1 MiB (plus config and manifest),
 * pushed then pulled at concurrency 16. Throughput in MiB/s of blob and manifest bytes.
 */
import { makeImage } from '../client/content';
import { runAlternating, type BenchContext } from '../harness';
import { goals, row, type Table } from '../report';
import { newClient, pullPhase, pushPhase, reportErrors, warmUp } from './image-phases';

const MiB = 1024 * 1024;

export async function manyImages(ctx: BenchContext): Promise<Table> {
  const count = ctx.quick ? 30 : 100;
  const concurrency = 16;
  const images = (seed: string, n: number) =>
    Array.from({ length: n }, (_, i) => makeImage(`${seed}/${i}`, `bench-a/img${i}`, seed.replace(/\W/g, '-'), 2, MiB));
  const results = await runAlternating(ctx, {
    id: 'a',
    prepare: (run) => images(`a-run${run}`, count),
    warmup: (server) => warmUp(server.url, () => images('a-warm', 4)),
    async measure(server, input) {
      const client = newClient(server.url, concurrency);
      try {
        const push = await pushPhase(client, input, concurrency);
        const pull = await pullPhase(client, input, concurrency);
        reportErrors(ctx.log, `${server.kind} push`, push.errors);
        reportErrors(ctx.log, `${server.kind} pull`, pull.errors);
        return { pushMiBs: push.mibPerSecond, pullMiBs: pull.mibPerSecond, errors: push.errors.length + pull.errors.length };
      } finally {
        client.close();
      }
    },
  });
  return {
    title: `(a) ${count} images x 2 layers x 1 MiB, concurrency ${concurrency}`,
    rows: [
      row(results, 'pushMiBs', 'push', 'MiB/s', goals.ofCeilingAndAheadOfPeer(0.9)),
      row(results, 'pullMiBs', 'pull', 'MiB/s', goals.ofCeilingAndAheadOfPeer(0.9)),
      row(results, 'serverCpuSeconds', 'server CPU, push+pull', 's'),
      row(results, 'clientCpuSeconds', 'client CPU', 's'),
      row(results, 'errors', 'errors', 'count', goals.below(1, '0')),
    ],
    notes: [],
  };
}
