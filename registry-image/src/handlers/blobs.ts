/** GET/HEAD/DELETE /v2/<name>/blobs/<digest> (spec: "Pulling blobs", "Deleting Blobs"). */
import { RegistryError } from '../http/errors';
import { sendEmpty, sendStream } from '../http/respond';
import type { RequestContext } from '../http/context';
import { storageUsage } from '../quota/usage';
import { isShared, type ByteRange } from '../storage/types';

/** How long a redirect's presigned URL works: long enough for a slow client to start. */
const REDIRECT_SECONDS = 20 * 60;
import { digestParam, repositoryParam } from './validate';

/**
 * The Range header (RFC 9110 §14.2): `bytes=a-b`, `bytes=a-`, `bytes=-n`, or a list of them.
 * - a unit other than bytes is ignored (undefined), as §14.2 requires;
 * - a bytes range set that is not valid (garbage, signs, fractions, spaces inside, a last
 *   position before the first, no unit at all) is refused with 416: §14.2 lets a server ignore
 *   or reject it, and distribution and zot reject it; served whole, a client asking for a part
 *   would take the whole blob for that part;
 * - several ranges are served whole (no multipart/byteranges), as §14.2 allows, unless none of
 *   them can be met;
 * - a range that starts past the end, or a zero-length suffix, cannot be met: 416.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)=(.*)$/.exec(header);
  if (!m) return 'unsatisfiable';
  if (m[1].toLowerCase() !== 'bytes') return undefined;
  const ranges = m[2]
    .split(',')
    .map((spec) => spec.trim())
    .filter((spec) => spec !== '') // a list may hold empty elements (RFC 9110 §5.6.1)
    .map((spec) => byteRange(spec, size));
  if (ranges.length === 0 || ranges.includes('invalid')) return 'unsatisfiable';
  const met = ranges.filter((r): r is ByteRange => typeof r === 'object');
  if (met.length === 0) return 'unsatisfiable';
  return ranges.length === 1 ? met[0] : undefined;
}

/** One range-spec of a bytes range set. */
function byteRange(spec: string, size: number): ByteRange | 'unsatisfiable' | 'invalid' {
  const m = /^(\d*)-(\d*)$/.exec(spec);
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return 'invalid';
  if (start >= size) return 'unsatisfiable';
  return { start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
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
  // zot's redirectBlobURL: the client fetches the bytes from the object store itself.
  if (ctx.parts.config.storage.redirectBlobURL && isShared(store)) {
    const url = await store.blobUrl(digest, REDIRECT_SECONDS);
    if (url) {
      ctx.res.writeHead(307, { Location: url, 'Docker-Content-Digest': digest, 'Content-Length': 0 });
      ctx.res.end();
      return;
    }
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
