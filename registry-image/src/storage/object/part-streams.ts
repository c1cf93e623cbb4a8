/**
 * The two streams the object store builds: a request body counted and hashed on its way to
 * the bucket, and a blob read back across the chunk objects it was uploaded as.
 */
import type { Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { StorageError } from '../types';
import { ObjectMissing, type Bucket } from './bucket';

/** One chunk object of a blob, in order. */
export interface Part {
  key: string;
  size: number;
}

/**
 * The body as a stream that fails (so the bucket's upload aborts and keeps nothing) when more
 * than `maxBytes` arrive, when fewer than `exactBytes` did by its end, or when the client goes
 * away mid-body. `seen` counts and hashes what passed.
 */
export function countedBody(body: Readable, options: { exactBytes?: number; hash?: Hash; seen: { bytes: number } }): Readable {
  const { exactBytes, hash, seen } = options;
  async function* pass() {
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        seen.bytes += chunk.length;
        if (exactBytes !== undefined && seen.bytes > exactBytes) throw new StorageError('SizeMismatch', `more than the declared ${exactBytes} bytes arrived`);
        hash?.update(chunk);
        yield chunk;
      }
    } catch (err) {
      if (err instanceof StorageError) throw err;
      // As body-pump.ts: a body cut short is the client's fault (400), not the registry's.
      throw new StorageError('SizeMismatch', `the request body ended before it was complete: ${(err as Error).message}`);
    }
    if (exactBytes !== undefined && seen.bytes !== exactBytes) throw new StorageError('SizeMismatch', `expected ${exactBytes} bytes, received ${seen.bytes}`);
  }
  return Readable.from(pass(), { objectMode: false });
}

/**
 * The bytes `start`..`end` (inclusive) of the blob made of `parts`. The first part is opened
 * before this returns, so a blob removed meanwhile fails here (ObjectMissing), not mid-stream.
 */
export async function partsStream(bucket: Bucket, parts: Part[], start: number, end: number): Promise<Readable> {
  const pieces: Array<{ key: string; start: number; end: number }> = [];
  let at = 0;
  for (const part of parts) {
    const from = Math.max(start, at);
    const to = Math.min(end, at + part.size - 1);
    if (from <= to) pieces.push({ key: part.key, start: from - at, end: to - at });
    at += part.size;
  }
  if (pieces.length === 0) return Readable.from([]);
  const first = await bucket.stream(pieces[0].key, { start: pieces[0].start, end: pieces[0].end });
  if (pieces.length === 1) return first;
  async function* all() {
    yield* first as AsyncIterable<Buffer>;
    for (const piece of pieces.slice(1)) {
      const next = await bucket.stream(piece.key, { start: piece.start, end: piece.end }).catch((err) => {
        if (err instanceof ObjectMissing) throw new StorageError('NotFound', `a part of the blob went while it was read (${piece.key})`);
        throw err;
      });
      yield* next as AsyncIterable<Buffer>;
    }
  }
  return Readable.from(all(), { objectMode: false });
}
