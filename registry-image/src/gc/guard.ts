/**
 * The in-process half of online GC's concurrency protocol (the whole protocol is written at
 * the top of gc/collector.ts): a shared/exclusive gate per store.
 *
 * Request handlers hold it *shared* for the few milliseconds between refreshing a blob or
 * manifest they are about to reference and writing the reference (a manifest PUT, a finish
 * that deduplicates, a mount). The collector holds it *exclusive* while it re-checks and
 * removes a small batch of things it planned to remove. So inside one process a handler
 * can never check "the blob is there" in between the collector's "the blob is old" and its
 * delete. Shared holders never wait for each other; a waiting collector lets holders already
 * inside finish and makes new ones queue behind it, so it cannot be starved by a steady
 * stream of pushes, and pushes wait at most one batch.
 *
 * One gate per Store object (a WeakMap), so the handlers and the scheduler that share a store
 * share its gate without being wired to each other, and each test's store has its own.
 */
import type { Store } from '../storage/types';

interface Waiter {
  exclusive: boolean;
  wake: () => void;
}

export class ReferenceGuard {
  private sharedHolders = 0;
  private exclusiveHeld = false;
  private exclusiveWaiting = 0;
  private readonly queue: Waiter[] = [];

  /** Runs `work` while no collection batch is removing anything. */
  async shared<T>(work: () => Promise<T>): Promise<T> {
    if (this.exclusiveHeld || this.exclusiveWaiting > 0) await this.enqueue(false);
    else this.sharedHolders++;
    try {
      return await work();
    } finally {
      this.sharedHolders--;
      this.drain();
    }
  }

  /** Runs `work` alone: no shared holder is between its refresh and its write meanwhile. */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.exclusiveHeld || this.sharedHolders > 0 || this.queue.length > 0) await this.enqueue(true);
    else this.exclusiveHeld = true;
    try {
      return await work();
    } finally {
      this.exclusiveHeld = false;
      this.drain();
    }
  }

  /** For tests and metrics: how many handlers are inside, and whether a collector is. */
  state(): { shared: number; exclusive: boolean; waiting: number } {
    return { shared: this.sharedHolders, exclusive: this.exclusiveHeld, waiting: this.queue.length };
  }

  private enqueue(exclusive: boolean): Promise<void> {
    if (exclusive) this.exclusiveWaiting++;
    return new Promise((wake) => this.queue.push({ exclusive, wake }));
  }

  /** Grants the gate to waiters in arrival order: one exclusive, or a run of shared ones. */
  private drain(): void {
    while (this.queue.length > 0 && !this.exclusiveHeld) {
      const next = this.queue[0];
      if (next.exclusive) {
        if (this.sharedHolders > 0) return;
        this.queue.shift();
        this.exclusiveWaiting--;
        this.exclusiveHeld = true;
        next.wake();
        return;
      }
      this.queue.shift();
      this.sharedHolders++;
      next.wake();
    }
  }
}

const guards = new WeakMap<Store, ReferenceGuard>();

/** The gate of `store`, created on first use. */
export function referenceGuard(store: Store): ReferenceGuard {
  let guard = guards.get(store);
  if (!guard) {
    guard = new ReferenceGuard();
    guards.set(store, guard);
  }
  return guard;
}
