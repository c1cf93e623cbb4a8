/**
 * pump (storage/body-pump.ts): a request body into storage. Success answers as soon as every
 * byte is written (the sink's close goes on behind it); a failure answers only once the sink
 * has closed, so the caller can truncate what it left.
 */
import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pump } from '../../registry-image/src/storage/body-pump';
import { StorageError } from '../../registry-image/src/storage/types';

/** A sink that keeps what it is given and takes `closeMs` to close, like a file being released. */
function slowClosingSink(closeMs: number, failWrite = false): Writable & { received: Buffer[] } {
  const received: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (failWrite) return done(new Error('disk full'));
      received.push(chunk);
      done();
    },
    destroy(err, done) {
      setTimeout(() => done(err), closeMs);
    },
  });
  return Object.assign(sink, { received });
}

describe('pump', () => {
  it('resolves with the byte count once the bytes are written, before the sink has closed', async () => {
    const sink = slowClosingSink(200);
    const seen: number[] = [];
    const bytes = await pump(Readable.from([Buffer.from('abc'), Buffer.from('defg')]), { sink, onChunk: (c) => seen.push(c.length) });
    expect(bytes).toBe(7);
    expect(seen).toEqual([3, 4]);
    expect(Buffer.concat(sink.received).toString()).toBe('abcdefg');
    expect(sink.writableFinished).toBe(true);
    expect(sink.closed).toBe(false);
    await new Promise((resolve) => sink.once('close', resolve));
  });

  it('refuses more than maxBytes after the sink has closed, and leaves the body paused', async () => {
    const sink = slowClosingSink(50);
    const body = new PassThrough();
    const result = pump(body, { sink, maxBytes: 4 });
    body.write(Buffer.from('12345'));
    const err = await result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).kind).toBe('SizeMismatch');
    expect(sink.closed).toBe(true);
    expect(body.isPaused()).toBe(true);
  });

  it('rejects with a write error after the sink has closed', async () => {
    const sink = slowClosingSink(50, true);
    await expect(pump(Readable.from([Buffer.from('x')]), { sink })).rejects.toThrow('disk full');
    expect(sink.closed).toBe(true);
  });

  it('rejects a body that closes before its end (a client gone mid-upload)', async () => {
    const body = new PassThrough();
    const result = pump(body, { sink: slowClosingSink(10) });
    body.write(Buffer.from('part'));
    body.destroy();
    await expect(result).rejects.toThrow('ended before it was complete');
  });

  it('without a sink, counts and shows every chunk', async () => {
    const chunks: string[] = [];
    expect(await pump(Readable.from([Buffer.from('a'), Buffer.from('bc')]), { onChunk: (c) => chunks.push(c.toString()) })).toBe(3);
    expect(chunks).toEqual(['a', 'bc']);
  });
});
