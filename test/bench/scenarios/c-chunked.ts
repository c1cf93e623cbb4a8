/**
 * (c) Chunked uploads: 64 MiB blobs pushed as POST, PATCH per 5 MiB chunk (with
 * Content-Range), PUT with the digest, one blob after another, the path clients take for
 * big layers when they resume or stream.
 */
import { prngBytes, sha256, type Blob } from '../client/content';
import { HttpClient } from '../client/http';
import { pushBlobChunked } from '../client/registry-ops';
import { runAlternating, type BenchContext } from '../harness';
import { goals, row, type Table } from '../report';

const MiB = 1024 * 1024;

export async function chunkedUploads(ctx: BenchContext): Promise<Table> {
  const count = ctx.quick ? 2 : 4;
  const size = 64 * MiB;
  const chunk = 5 * MiB;
  const results = await runAlternating<Blob[]>(ctx, {
    id: 'c',
    prepare: (run) =>
      Array.from({ length: count }, (_, i) => {
        const data = prngBytes(`c-run${run}/${i}`, size);
        return { data, size, digest: sha256(data) };
      }),
    async warmup(server) {
      const client = new HttpClient(server.url, { maxSockets: 1 });
      const data = prngBytes('c-warm', 12 * MiB);
      await pushBlobChunked(client, 'bench-c/blobs', { data, size: data.length, digest: sha256(data) }, chunk).finally(() => client.close());
    },
    async measure(server, blobs) {
      const client = new HttpClient(server.url, { maxSockets: 1 });
      let errors = 0;
      const t0 = performance.now();
      for (const blob of blobs) {
        await pushBlobChunked(client, 'bench-c/blobs', blob, chunk).catch((err: Error) => {
          errors++;
          ctx.log(`    ${server.kind}: ${err.message}`);
        });
      }
      const seconds = (performance.now() - t0) / 1000;
      client.close();
      return { pushMiBs: (count * size) / MiB / seconds, errors };
    },
  });
  return {
    title: `(c) ${count} blobs x 64 MiB, pushed in 5 MiB chunks, one after another`,
    rows: [
      row(results, 'pushMiBs', 'chunked push', 'MiB/s', goals.ofCeilingAndAheadOfPeer(0.9)),
      row(results, 'serverCpuSeconds', 'server CPU', 's'),
      row(results, 'clientCpuSeconds', 'client CPU', 's'),
      row(results, 'errors', 'errors', 'count', goals.below(1, '0')),
    ],
    notes: [],
  };
}
