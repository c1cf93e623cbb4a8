/** Runs `fn` over `items` with at most `concurrency` in flight; failures are collected, not thrown. */
export interface PoolResult<R> {
  results: R[];
  errors: Error[];
  wallMs: number;
}

export async function runPool<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<PoolResult<R>> {
  const results: R[] = [];
  const errors: Error[] = [];
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results.push(await fn(items[i], i));
      } catch (err) {
        errors.push(err instanceof Error ? err : new Error(String(err)));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return { results, errors, wallMs: performance.now() - t0 };
}
