/**
 * Moves a request body into storage chunk by chunk: counts it, stops at a length limit, lets
 * the caller see each chunk (to hash or keep it) and writes it to `sink` with backpressure.
 *
 * Written by hand rather than with stream.pipeline and a Transform: for the small blobs most
 * pushes are made of, pipeline's per-call set-up (an AbortController whose abort builds a
 * DOMException, end-of-stream watchers on every stream) cost more CPU than the bytes.
 */
import type { Readable, Writable } from 'node:stream';
import { StorageError } from './types';

export interface PumpOptions {
  /** Refuse (SizeMismatch) once more than this many bytes arrive. */
  maxBytes?: number;
  onChunk?: (chunk: Buffer) => void;
  /** Where the bytes go; it is ended when the body ends, destroyed when anything fails. */
  sink?: Writable;
}

/**
 * Resolves with the number of bytes once the body has ended and the sink has finished (every
 * byte written; the sink's close, a file descriptor's release, goes on in the background and
 * is not waited for: the file may be renamed or read meanwhile). Rejects with the first error
 * only after the sink has closed, so the caller may truncate what a failed write left. After
 * a failure the body is left paused, unread.
 */
export function pump(source: Readable, options: PumpOptions = {}): Promise<number> {
  const { maxBytes, onChunk, sink } = options;
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let failure: Error | undefined;
    const settle = () => (failure ? reject(failure) : resolve(bytes));
    const fail = (err: Error) => {
      if (failure) return;
      failure = err;
      source.pause();
      if (sink && !sink.destroyed) sink.destroy();
      else settle();
    };
    source.on('data', (chunk: Buffer) => {
      if (failure) return;
      bytes += chunk.length;
      if (maxBytes !== undefined && bytes > maxBytes) return fail(new StorageError('SizeMismatch', `more than the declared ${maxBytes} bytes arrived`));
      onChunk?.(chunk);
      if (sink && !sink.write(chunk)) source.pause();
    });
    // A client that disconnects mid-body ('close' without 'end', or the request's own 'aborted'
    // error): the body is shorter than it said, the client's fault (SizeMismatch, a 400), never
    // the registry's (a bare Error is answered and logged as a 500).
    const cutShort = (why?: Error) => new StorageError('SizeMismatch', `the request body ended before it was complete${why ? `: ${why.message}` : ''}`);
    source.on('error', (err: Error) => fail(cutShort(err)));
    source.on('close', () => {
      if (!source.readableEnded) fail(cutShort());
    });
    if (sink) {
      sink.on('drain', () => failure || source.resume());
      sink.on('error', fail);
      sink.on('finish', () => failure || resolve(bytes));
      sink.on('close', settle);
      source.on('end', () => failure || sink.end());
    } else {
      source.on('end', () => failure || settle());
    }
  });
}
