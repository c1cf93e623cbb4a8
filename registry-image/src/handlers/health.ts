/**
 * Probe endpoints, answered without credentials (DESIGN.md "Readiness"):
 * /livez is the process only (a full disk must not cause a restart loop), /readyz needs
 * writable storage and loadable auth files, /startupz answers once the server listens.
 */
import { sendJson } from '../http/respond';
import type { RequestContext } from '../http/context';

export async function livez(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, { status: 'ok' });
}

export async function startupz(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, { status: 'ok' });
}

export async function readyz(ctx: RequestContext): Promise<void> {
  const problems: string[] = [];
  try {
    await ctx.parts.store.checkWritable();
  } catch (err) {
    problems.push(`storage is not writable: ${(err as Error).message}`);
  }
  const auth = ctx.parts.auth.readiness();
  if (!auth.ok) problems.push(auth.reason ?? 'authentication is not ready');
  if (problems.length) {
    ctx.parts.log.warn('not ready', { problems });
    sendJson(ctx.res, 503, { status: 'unavailable', problems });
    return;
  }
  sendJson(ctx.res, 200, { status: 'ok' });
}
