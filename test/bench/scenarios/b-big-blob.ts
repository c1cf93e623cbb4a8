/**
 * (b) One big blob, 512 MiB, pushed monolithically and pulled, with curl as the client (what
 * a script or CI job would do): POST for an upload URL, then `curl -T FILE -X PUT
 * URL?digest=...` (streams the file; `--data-binary @FILE` would read it all into curl's
 * memory first), then `curl -o /dev/null` for the pull. Each run starts a fresh server, so
 * every push is a first push, and the server's RSS is sampled every 20 ms throughout:
 * streaming servers stay flat however big the blob is.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { writePrngFile } from '../client/content';
import { HttpClient } from '../client/http';
import { startUpload } from '../client/registry-ops';
import { runAlternating, type BenchContext } from '../harness';
import { RssSampler } from '../proc';
import { goals, row, type Table } from '../report';

const MiB = 1024 * 1024;

interface CurlResult {
  code: number;
  bytes: number;
}

/** Runs curl; the `-w` line gives the status and the bytes received. */
function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '-H', 'Expect:', '-w', '%{http_code} %{size_download}', ...args], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl ${args.join(' ')}: ${stderr || err.message}`));
      const [code, bytes] = stdout.trim().split(' ').map(Number);
      resolve({ code, bytes });
    });
  });
}

export async function bigBlob(ctx: BenchContext): Promise<Table> {
  const size = (ctx.quick ? 128 : 512) * MiB;
  const file = join(ctx.workDir, 'big-blob');
  ctx.log(`  writing the ${size / MiB} MiB blob`);
  const digest = await writePrngFile(file, 'b-big-blob', size);
  const repo = 'bench-b/big';
  try {
    const results = await runAlternating(ctx, {
      id: 'b',
      freshServerPerRun: true,
      prepare: () => undefined,
      async measure(server) {
        const rss = new RssSampler(server.pid).start();
        const client = new HttpClient(server.url, { maxSockets: 1 });
        try {
          const t0 = performance.now();
          const location = new URL(await startUpload(client, repo));
          location.searchParams.set('digest', digest);
          const put = await curl(['-X', 'PUT', '-T', file, '-H', 'Content-Type: application/octet-stream', '-o', '/dev/null', location.href]);
          const t1 = performance.now();
          const get = await curl(['-o', '/dev/null', `${server.url}/v2/${repo}/blobs/${digest}`]);
          const t2 = performance.now();
          const errors = Number(put.code !== 201) + Number(get.code !== 200 || get.bytes !== size);
          if (errors) ctx.log(`    ${server.kind}: PUT answered ${put.code}, GET answered ${get.code} with ${get.bytes} bytes`);
          return {
            pushMiBs: size / MiB / ((t1 - t0) / 1000),
            pullMiBs: size / MiB / ((t2 - t1) / 1000),
            rssMaxMiB: rss.stop() / MiB,
            errors,
          };
        } finally {
          rss.stop();
          client.close();
        }
      },
    });
    return {
      title: `(b) one ${size / MiB} MiB blob, monolithic PUT and GET with curl`,
      rows: [
        row(results, 'pushMiBs', 'push', 'MiB/s', goals.ofCeilingAndAheadOfPeer(0.9)),
        row(results, 'pullMiBs', 'pull', 'MiB/s', goals.ofCeiling(0.9)),
        row(results, 'rssMaxMiB', 'server RSS max', 'MiB', goals.below(200, '< 200 MiB')),
        row(results, 'serverCpuSeconds', 'server CPU, push+pull', 's'),
        row(results, 'errors', 'errors', 'count', goals.below(1, '0')),
      ],
      notes: ['pull: no "ahead of peer" goal (the issue exempts big-blob pull)'],
    };
  } finally {
    rmSync(file, { force: true });
  }
}
