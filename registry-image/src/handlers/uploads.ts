/**
 * Blob uploads (spec: "Pushing blobs"): POST starts a session (or does a monolithic push with
 * ?digest=, or mounts a blob from another repository with ?mount=&from=), PATCH appends a
 * chunk, GET reports progress, PUT ?digest= finishes, DELETE cancels.
 * Bytes stream from the socket into storage; nothing here holds a blob in memory.
 */
import type { IncomingMessage } from 'node:http';
import { RegistryError } from '../http/errors';
import { contentLength } from '../http/request-body';
import { sendEmpty, toRegistryError } from '../http/respond';
import type { RequestContext } from '../http/context';
import { isRepositoryName } from '../oci/names';
import { admitUpload } from '../quota/admission';
import { finishBlob, mountBlob } from '../quota/commit';
import { StorageError, type UploadSession } from '../storage/types';
import { digestParam, repositoryParam } from './validate';

function sessionHeaders(session: UploadSession): Record<string, string> {
  return {
    Location: `/v2/${session.repository}/blobs/uploads/${session.id}`,
    // Inclusive range of bytes received; "0-0" for none, as distribution answers.
    Range: `0-${Math.max(0, session.size - 1)}`,
    'Docker-Upload-UUID': session.id,
  };
}

/**
 * A chunk that failed (a full disk, a body cut short, a wrong length) left the session as it
 * was: the error answer says where that is, as a 202 would, so the client resumes from there.
 */
async function appendFailed(ctx: RequestContext, name: string, id: string, err: unknown): Promise<never> {
  const error = toRegistryError(err);
  if (error !== err) error.cause = err; // the log says what really failed (http/respond.ts writeError)
  const session = await ctx.parts.store.getUpload(name, id).catch(() => undefined);
  if (session) Object.assign(error.headers, sessionHeaders(session));
  throw error;
}

function blobCreated(ctx: RequestContext, name: string, digest: string): void {
  sendEmpty(ctx.res, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
}

function hasBody(req: IncomingMessage, length: number | undefined): boolean {
  return length !== undefined ? length > 0 : req.headers['transfer-encoding'] !== undefined;
}

/**
 * Where a chunk starts and how long it is. With Content-Range (`start-end`, inclusive) the
 * start must be where the session ends: out-of-order, overlapping or malformed ranges are 416.
 * One exception, after a restart: the resend of the last acknowledged chunk, whose answer the
 * client may never have seen (UploadSession.resendFrom), replaces that chunk.
 */
function chunkPlacement(req: IncomingMessage, session: UploadSession, length: number | undefined): { offset: number; length?: number } {
  const header = req.headers['content-range'];
  if (header === undefined) return { offset: session.size, length };
  const m = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(header.trim());
  if (!m) throw new RegistryError('RANGE_INVALID', `malformed Content-Range ${JSON.stringify(header)}: expected <start>-<end>`, undefined, sessionHeaders(session));
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) throw new RegistryError('RANGE_INVALID', `Content-Range ${header} ends before it starts`, undefined, sessionHeaders(session));
  if (start !== session.size && start !== session.resendFrom) throw new RegistryError('RANGE_INVALID', `chunk starts at ${start} but the upload has ${session.size} bytes`, undefined, sessionHeaders(session));
  if (length !== undefined && length !== end - start + 1) throw new RegistryError('RANGE_INVALID', `Content-Range ${header} does not match Content-Length ${length}`, undefined, sessionHeaders(session));
  return { offset: start, length: end - start + 1 };
}

/**
 * A mount without `from` (distribution spec 1.1, "Mounting a blob from another repository"):
 * any repository that holds the blob and that the caller may read will do.
 */
async function findReadableHolder(ctx: RequestContext, digest: string): Promise<string | undefined> {
  const { store, auth } = ctx.parts;
  if (!(await store.statBlob(digest))) return undefined;
  for (const repository of await store.listRepositories()) {
    if (auth.canRead(ctx.identity, repository) && (await store.repositoryBlob(repository, digest))) return repository;
  }
  return undefined;
}

export async function startUpload(ctx: RequestContext): Promise<void> {
  const name = repositoryParam(ctx.params.name);
  const { store, auth } = ctx.parts;
  const mount = ctx.query.get('mount');
  const from = ctx.query.get('from');
  if (mount !== null) {
    const digest = digestParam(mount);
    // Mount only from a repository the caller may read, so a blob's presence never leaks.
    const source = from === null ? await findReadableHolder(ctx, digest) : from;
    if (source !== undefined && isRepositoryName(source) && auth.canRead(ctx.identity, source) && (await mountBlob(ctx.parts, source, name, digest))) {
      ctx.req.resume();
      blobCreated(ctx, name, digest);
      return;
    }
  }
  const digestQuery = ctx.query.get('digest');
  const digest = digestQuery === null ? undefined : digestParam(digestQuery);
  const length = contentLength(ctx.req);
  // Quotas (storage.maxRepos, perch.quota): refuse before a byte is stored.
  await admitUpload(ctx.parts, name, length ?? 0, digest);
  const session = await store.startUpload(name);
  if (digest === undefined) {
    ctx.req.resume();
    sendEmpty(ctx.res, 202, sessionHeaders(session));
    return;
  }
  // Monolithic upload: the whole blob is this request's body.
  try {
    if (hasBody(ctx.req, length)) await store.appendUpload(name, session.id, 0, ctx.req, length, { final: true });
    await finishBlob(ctx.parts, name, session.id, digest);
  } catch (err) {
    await store.cancelUpload(name, session.id).catch(() => {});
    throw err;
  }
  blobCreated(ctx, name, digest);
}

export async function patchUpload(ctx: RequestContext): Promise<void> {
  const name = repositoryParam(ctx.params.name);
  const { store } = ctx.parts;
  const session = await store.getUpload(name, ctx.params.id);
  const placement = chunkPlacement(ctx.req, session, contentLength(ctx.req));
  const updated = await store.appendUpload(name, session.id, placement.offset, ctx.req, placement.length).catch((err) => appendFailed(ctx, name, session.id, err));
  sendEmpty(ctx.res, 202, sessionHeaders(updated));
}

export async function uploadStatus(ctx: RequestContext): Promise<void> {
  const name = repositoryParam(ctx.params.name);
  const session = await ctx.parts.store.getUpload(name, ctx.params.id);
  sendEmpty(ctx.res, 204, sessionHeaders(session));
}

export async function finishUpload(ctx: RequestContext): Promise<void> {
  const name = repositoryParam(ctx.params.name);
  const digest = digestParam(ctx.query.get('digest'));
  const { store } = ctx.parts;
  const session = await store.getUpload(name, ctx.params.id);
  const length = contentLength(ctx.req);
  if (!hasBody(ctx.req, length)) {
    ctx.req.resume();
    await finishBlob(ctx.parts, name, session.id, digest); // a wrong digest keeps the session: retry with the right one
    blobCreated(ctx, name, digest);
    return;
  }
  const placement = chunkPlacement(ctx.req, session, length);
  await store.appendUpload(name, session.id, placement.offset, ctx.req, placement.length, { final: true }).catch((err) => appendFailed(ctx, name, session.id, err));
  try {
    await finishBlob(ctx.parts, name, session.id, digest);
  } catch (err) {
    // The last chunk is in the session now; a retry of this PUT would append it twice. As
    // distribution does, the session ends: the client starts the upload again.
    if (err instanceof StorageError && err.kind === 'DigestMismatch') await store.cancelUpload(name, session.id).catch(() => {});
    throw err;
  }
  blobCreated(ctx, name, digest);
}

export async function cancelUpload(ctx: RequestContext): Promise<void> {
  const name = repositoryParam(ctx.params.name);
  await ctx.parts.store.cancelUpload(name, ctx.params.id);
  ctx.req.resume();
  sendEmpty(ctx.res, 204);
}
