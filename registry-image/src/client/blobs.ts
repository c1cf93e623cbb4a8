/**
 * Blobs in and out, never whole in memory for a file or a stream.
 *
 * Up (distribution spec "Pushing blobs"):
 *   a file     hash it while reading it once, HEAD the blob (present: done), POST an upload
 *              session, PUT the file to it with ?digest= and its Content-Length (monolithic)
 *   a Buffer   the same, from memory
 *   a stream   its digest is not known beforehand: POST, PATCH the stream chunked while
 *              hashing it, then PUT ?digest= with no body to close the session
 * Down: GET the blob as a stream through a verifier that counts and hashes every byte and
 * fails the stream, instead of ending it, when the size or the digest is not the one asked
 * for. Saved to a file, the bytes go to a temporary name beside it and are renamed into place
 * only once verified, so a corrupt blob is never left under the real name.
 */
import { createReadStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes, type Hash } from 'node:crypto';
import { newHash, parseDigest } from '../oci/digest';
import { RegistryError } from './errors';
import { refusal } from './refusal';
import type { Session } from './session';

/** A file to push: exactly one of path, data or stream. */
export interface FileInput {
  /** A file on disk; its name is the default title. */
  path?: string;
  /** Bytes in memory (a string is UTF-8). */
  data?: Buffer | Uint8Array | string;
  /** Any readable stream; read once, while uploading. */
  stream?: Readable;
  /** Default application/vnd.oci.image.layer.v1.tar, as oras uses for files. */
  mediaType?: string;
  /** The name the file is pulled back as (annotation org.opencontainers.image.title). */
  title?: string;
  annotations?: Record<string, string>;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
}

/** What pushBlob needs: the digest and size when known up front, and how to read the bytes. */
export type BlobSource =
  | { kind: 'buffer'; data: Buffer; digest: string; size: number }
  | { kind: 'file'; path: string; digest: string; size: number }
  | { kind: 'stream'; stream: Readable };

export function digestBuffer(data: Buffer): string {
  return `sha256:${newHash('sha256').update(data).digest('hex')}`;
}

/** The sha256 digest and size of a file, read once as a stream. */
export async function hashFile(path: string): Promise<{ digest: string; size: number }> {
  const hash = newHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (err) {
    throw new RegistryError('invalid', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

export async function blobSource(input: FileInput, what: string): Promise<BlobSource> {
  const given = [input.path !== undefined, input.data !== undefined, input.stream !== undefined].filter(Boolean).length;
  if (given !== 1) throw new RegistryError('invalid', `${what} needs exactly one of path, data or stream`);
  if (input.path !== undefined) {
    const info = await stat(input.path).catch((err: Error) => {
      throw new RegistryError('invalid', `cannot read ${input.path}: ${err.message}`, { cause: err });
    });
    if (!info.isFile()) throw new RegistryError('invalid', `${input.path} is not a file (to push a folder, tar it first)`);
    return { kind: 'file', path: input.path, ...(await hashFile(input.path)) };
  }
  if (input.data !== undefined) {
    const data = typeof input.data === 'string' ? Buffer.from(input.data) : Buffer.from(input.data.buffer, input.data.byteOffset, input.data.byteLength);
    return { kind: 'buffer', data, digest: digestBuffer(data), size: data.length };
  }
  return { kind: 'stream', stream: input.stream! };
}

const blobUrl = (session: Session, repository: string, digest: string) => `${session.origin}/v2/${repository}/blobs/${digest}`;

export async function blobExists(session: Session, repository: string, digest: string, need: 'read' | 'push' = 'read'): Promise<boolean> {
  const what = `HEAD of blob ${digest} in ${repository}`;
  const response = await session.send({ method: 'HEAD', url: blobUrl(session, repository, digest), what }, { repository, actions: need === 'push' ? 'pull,push' : 'pull' });
  if (response.status === 200) return true;
  if (response.status === 404) return false;
  throw refusal(session, what, response, repository, 'read');
}

/** Pushes one blob unless the repository has it; returns its digest and size. */
export async function pushBlob(session: Session, repository: string, source: BlobSource): Promise<{ digest: string; size: number; uploaded: boolean }> {
  const scope = { repository, actions: 'pull,push' } as const;
  if (source.kind !== 'stream' && (await blobExists(session, repository, source.digest, 'push'))) {
    return { digest: source.digest, size: source.size, uploaded: false };
  }
  const what = `upload of ${source.kind === 'stream' ? 'a stream' : `blob ${source.digest}`} to ${repository}`;
  const start = await session.send({ method: 'POST', url: `${session.origin}/v2/${repository}/blobs/uploads/`, what }, scope);
  if (start.status !== 202) throw refusal(session, what, start, repository, 'push');
  let location = uploadLocation(session, start.headers.location, repository, what);

  let digest: string;
  let size: number;
  if (source.kind === 'stream') {
    // Chunked PATCH (spec "Pushing a blob in chunks", one chunk of unknown length), hashing as it goes.
    const hash = newHash('sha256');
    let counted = 0;
    const tap = new PassThrough();
    tap.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      counted += chunk.length;
    });
    let opened = false;
    const body = () => {
      if (opened) throw new RegistryError('unauthorized', `the registry at ${session.origin} asked for credentials again in the middle of the ${what}; a stream cannot be sent twice`);
      opened = true;
      source.stream.on('error', (err) => tap.destroy(err));
      return source.stream.pipe(tap);
    };
    const patch = await session.send({ method: 'PATCH', url: location.href, headers: { 'Content-Type': 'application/octet-stream' }, body, what }, scope);
    if (patch.status !== 202) throw refusal(session, what, patch, repository, 'push');
    digest = `sha256:${hash.digest('hex')}`;
    size = counted;
    location = uploadLocation(session, patch.headers.location ?? location.href, repository, what);
    const url = withDigest(location, digest);
    const put = await session.send({ method: 'PUT', url: url.href, what }, scope);
    if (put.status !== 201 && put.status !== 204) throw refusal(session, what, put, repository, 'push');
  } else {
    digest = source.digest;
    size = source.size;
    const url = withDigest(location, digest);
    const body = source.kind === 'buffer' ? source.data : () => createReadStream(source.path);
    const put = await session.send({
      method: 'PUT',
      url: url.href,
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
      body,
      what,
    }, scope);
    if (put.status !== 201 && put.status !== 204) throw refusal(session, what, put, repository, 'push');
  }
  return { digest, size, uploaded: true };
}

function uploadLocation(session: Session, location: string | undefined, repository: string, what: string): URL {
  if (!location) throw new RegistryError('protocol', `${session.origin}: the ${what} got an answer without a Location header (POST ${repository}/blobs/uploads/)`);
  return session.resolve(location, 'upload');
}

function withDigest(location: URL, digest: string): URL {
  const url = new URL(location.href);
  url.searchParams.set('digest', digest);
  return url;
}

/** A stream stage that passes bytes on while checking them against a digest and a size. */
export class DigestVerifier extends Transform {
  private readonly hash: Hash;
  private count = 0;

  constructor(
    private readonly digest: string,
    private readonly size: number | undefined,
    private readonly what: string,
  ) {
    super();
    const parsed = parseDigest(digest);
    if (!parsed) throw new RegistryError('invalid', `${digest} is not a digest (sha256:<64 hex> or sha512:<128 hex>)`);
    this.hash = newHash(parsed.algorithm);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.count += chunk.length;
    if (this.size !== undefined && this.count > this.size) {
      callback(mismatch(this.what, `more than the ${this.size} bytes its descriptor gives`));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.size !== undefined && this.count !== this.size) {
      callback(mismatch(this.what, `${this.count} bytes where its descriptor gives ${this.size}`));
      return;
    }
    const got = `${this.digest.split(':')[0]}:${this.hash.digest('hex')}`;
    if (got !== this.digest) {
      callback(mismatch(this.what, `bytes whose digest is ${got}, not ${this.digest}`));
      return;
    }
    callback();
  }
}

function mismatch(what: string, detail: string): RegistryError {
  return new RegistryError(
    'digest-mismatch',
    `refused ${what}: the registry sent ${detail}. Its copy is corrupt, or something between it and you altered the bytes; nothing was kept`,
  );
}

/** GET a blob as a stream that fails instead of ending when its bytes are not `digest`. */
export async function openBlob(session: Session, repository: string, digest: string, size?: number): Promise<Readable> {
  const what = `download of blob ${digest} from ${repository}`;
  const verifier = new DigestVerifier(digest, size, `blob ${digest} from ${repository}`);
  const response = await session.send({ method: 'GET', url: blobUrl(session, repository, digest), stream: true, what }, { repository, actions: 'pull' });
  if (response.status !== 200 || !response.stream) throw refusal(session, what, response, repository, 'read');
  const length = response.headers['content-length'];
  if (size !== undefined && length !== undefined && Number(length) !== size) {
    response.stream.destroy();
    throw mismatch(`blob ${digest} from ${repository}`, `Content-Length ${length} where its descriptor gives ${size} bytes`);
  }
  response.stream.on('error', (err) => verifier.destroy(err));
  return response.stream.pipe(verifier);
}

/** Reads a small verified blob (a config) into memory. */
export async function readBlob(session: Session, repository: string, digest: string, size?: number, limit = 4 * 1024 * 1024): Promise<Buffer> {
  if (size !== undefined && size > limit) throw new RegistryError('invalid', `blob ${digest} in ${repository} is ${size} bytes, more than the ${limit} read into memory; open it as a stream`);
  const chunks: Buffer[] = [];
  for await (const chunk of await openBlob(session, repository, digest, size)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Writes a verified stream to `path`: a temporary name beside it, renamed once every byte checked out. */
export async function saveVerified(stream: Readable, path: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.partial`);
  try {
    await pipeline(stream, createWriteStream(temp, { flags: 'wx' }));
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
