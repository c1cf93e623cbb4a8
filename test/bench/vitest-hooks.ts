/**
 * What the benchmark bundle gets for `vitest` (scripts/bench.sh: `--alias:vitest=` this file).
 * The bench reuses test helpers (test/helpers/seaweed.ts), and their temporary folders
 * (test/helpers/temp-dir.ts) register their removal with vitest's `afterAll`, which throws
 * outside a vitest run ("Vitest failed to find the current suite"). Here `afterAll` only keeps
 * the hook; the scenario that used such a helper runs the hooks once its servers are stopped.
 */
const hooks: Array<() => unknown> = [];

export function afterAll(fn: () => unknown): void {
  hooks.push(fn);
}

/** Runs (and forgets) every hook kept so far, last registered first, as vitest does. */
export async function runAfterAllHooks(): Promise<void> {
  while (hooks.length) await hooks.pop()!();
}
