/** GET/HEAD/DELETE /v2/<name>/blobs/<digest> (spec: "Pulling blobs", "Deleting Blobs"). */
import { RegistryError } from '../http/errors';
import { sendEmpty, sendStream } from '../http/respond';
import type { RequestContext } from '../http/context';
import { storageUsage } from '../quota/usage';
import type { ByteRange } from '../storage/types';
import { digestParam, repositoryParam } from './validate';

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` (RFC 9110 §14.1.2); anything else is ignored, as RFC 9110 allows. */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

export async function getBlob(ctx: RequestContext): Promise<void> {
  const name = repositoryParam(ctx.params.name);
  const digest = digestParam(ctx.params.digest);
  const { store } = ctx.parts;
  const stat = await store.repositoryBlob(name, digest);
  if (!stat) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not in ${name}`);
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    'Accept-Ranges': 'bytes',
    ETag: `"${digest}"`,
  };
  const range = parseRange(ctx.req.headers.range, stat.size);
  if (range === 'unsatisfiable') throw new RegistryError('RANGE_INVALID', `range ${ctx.req.headers.range} is outside the blob's ${stat.size} bytes`, undefined, { 'Content-Range': `bytes */${stat.size}` });
  const status = range ? 206 : 200;
  if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${stat.size}`;
  headers['Content-Length'] = range ? range.end - range.start + 1 : stat.size;
  if (ctx.req.method === 'HEAD') {
    // Clients HEAD, then skip the upload and PUT a manifest: restart GC's grace (gc/collector.ts).
    await store.touchBlob(digest);
    ctx.res.writeHead(status, headers);
    ctx.res.end();
    return;
  }
  const stream = await store.openBlob(digest, { range, size: stat.size });
  ctx.res.writeHead(status, headers);
  await sendStream(ctx.res, stream);
}

export async function deleteBlob(ctx: RequestContext): Promise<void> {
  const name = repositoryParam(ctx.params.name);
  const digest = digestParam(ctx.params.digest);
  if (!(await ctx.parts.store.unlinkBlob(name, digest))) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not in ${name}`);
  storageUsage(ctx.parts.store).repositoryReleases(name, digest);
  sendEmpty(ctx.res, 202);
}
