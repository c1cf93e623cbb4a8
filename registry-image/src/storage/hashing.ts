/** A pass-through stream that counts bytes, feeds a hash, and stops at a length limit. */
import type { Hash } from 'node:crypto';
import { Transform } from 'node:stream';
import { StorageError } from './types';

export function countingHasher(hash: Hash | undefined, maxBytes?: number): { transform: Transform; bytes: () => number } {
  let bytes = 0;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (maxBytes !== undefined && bytes > maxBytes) {
        callback(new StorageError('SizeMismatch', `more than the declared ${maxBytes} bytes arrived`));
        return;
      }
      hash?.update(chunk);
      callback(null, chunk);
    },
  });
  return { transform, bytes: () => bytes };
}
