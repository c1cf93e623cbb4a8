/**
 * Probe endpoints, answered without credentials (DESIGN.md "Readiness"):
 * /livez is the process only (a full disk must not cause a restart loop), /readyz needs
 * writable storage and loadable auth files, /startupz answers once the server listens.
 *
 * A full disk is not "not ready" (storage-space.ts says why): /readyz answers 200 with
 * `"storage":"full"` and a warning, and /health fails.
 */
import { sendJson } from '../http/respond';
import type { RequestContext } from '../http/context';
import { isNoSpace, isShared } from '../storage/types';
import { freeSpace, fullness } from './storage-space';

export async function livez(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, { status: 'ok' });
}

export async function startupz(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, { status: 'ok' });
}

const FULL_WARNING = 'pushes are refused (507 Insufficient Storage) until space is freed; pulls are served';

/** A warning when the storage is full, else undefined. */
async function fullStorage(ctx: RequestContext, probeFailure: unknown): Promise<string | undefined> {
  if (probeFailure !== undefined) return `storage is full (a probe write was refused): ${FULL_WARNING}`;
  // An object store: rootDirectory is only a scratch folder; the bucket's probe write decides.
  if (isShared(ctx.parts.store)) return undefined;
  try {
    const full = fullness(await freeSpace(ctx.parts.config.storage.rootDirectory));
    if (full) return `storage is full (${full}): ${FULL_WARNING}`;
  } catch {
    // Not examinable (a store that is not a folder): the probe write alone decides.
  }
  return undefined;
}

export async function readyz(ctx: RequestContext): Promise<void> {
  const problems: string[] = [];
  let noSpace: unknown;
  try {
    await ctx.parts.store.checkWritable();
  } catch (err) {
    if (isNoSpace(err)) noSpace = err;
    else problems.push(`storage is not writable: ${(err as Error).message}`);
  }
  const auth = ctx.parts.auth.readiness();
  if (!auth.ok) problems.push(auth.reason ?? 'authentication is not ready');
  const full = await fullStorage(ctx, noSpace);
  const space = full ? { storage: 'full', warnings: [full] } : {};
  if (problems.length) {
    ctx.parts.log.warn('not ready', { problems });
    sendJson(ctx.res, 503, { status: 'unavailable', problems, ...space });
    return;
  }
  sendJson(ctx.res, 200, { status: 'ok', ...space });
}
