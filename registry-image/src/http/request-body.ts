/** Reading small request bodies (manifests) with a hard size limit. */
import type { IncomingMessage } from 'node:http';
import { RegistryError } from './errors';

/** distribution and zot refuse manifests over 4 MiB; so does perch. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new RegistryError('MANIFEST_TOO_BIG', `manifest of ${declared} bytes is over the ${limit}-byte limit`);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > limit) throw new RegistryError('MANIFEST_TOO_BIG', `manifest is over the ${limit}-byte limit`);
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    // The request's own error ('aborted'): the client stopped sending before the body was whole
    // (a Content-Length it never met, broken chunked encoding). Its fault, not the registry's.
    if (err instanceof RegistryError || req.complete) throw err;
    throw new RegistryError('REQUEST_LENGTH_INVALID', `the request body ended after ${size} bytes, before it was complete`);
  }
  return Buffer.concat(chunks);
}

/** The Content-Length header as a number, or undefined when absent (chunked encoding). */
export function contentLength(req: IncomingMessage): number | undefined {
  const value = req.headers['content-length'];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new RegistryError('SIZE_INVALID', `Content-Length ${JSON.stringify(value)} is not a byte count`);
  return n;
}
