/**
 * The /health report's memory of pushes refused for lack of space (handlers/storage-space.ts
 * says what "full" means): a request observer (http/hooks.ts) that perch serve adds
 * (cli/serve-hooks.ts). Kept apart from storage-space.ts, which the probe routes use, so the
 * route table does not reach the hooks it is extended by.
 */
import type { RequestEvent, RequestObserver } from '../http/hooks';

/** How long a refused push keeps /health failing when nothing is stored after it. */
export const REFUSAL_MEMORY_MS = 10 * 60_000;

/** The status http/errors.ts gives STORAGE_FULL. */
const INSUFFICIENT_STORAGE = 507;

/**
 * Watches answers (a RequestObserver, http/hooks.ts) for pushes refused for lack of space. A
 * write stored after one (a blob or manifest created, a chunk taken) says space is back.
 */
export class NoSpaceWatch implements RequestObserver {
  private refusedMs: number | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  requestFinished(event: RequestEvent): void {
    if (event.status === INSUFFICIENT_STORAGE) this.refusedMs = this.now();
    else if (event.status === 201 || (event.method === 'PATCH' && event.status === 202)) this.refusedMs = undefined;
  }

  /** When the last push was refused for lack of space, if nothing was stored since and it is recent. */
  lastRefusal(nowMs: number): number | undefined {
    return this.refusedMs !== undefined && nowMs - this.refusedMs < REFUSAL_MEMORY_MS ? this.refusedMs : undefined;
  }
}
