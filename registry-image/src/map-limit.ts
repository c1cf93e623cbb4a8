/**
 * Runs `work` over `items` with at most `limit` running at once, results in input order. The
 * UI's lists touch one tag file or manifest per row, the object store one object per entry of
 * some listings; unbounded, a large repository would open thousands of files or requests at once.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
