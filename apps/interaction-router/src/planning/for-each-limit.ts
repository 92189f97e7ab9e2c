/** Runs `work` over `items`, at most `limit` at a time; the first failure stops further items. */
export async function forEachLimit<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let stop = false;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !stop) {
      const item = items[next] as T;
      next += 1;
      await work(item).catch((error: unknown) => {
        stop = true;
        throw error;
      });
    }
  });
  // Every lane finishes before a failure is reported, so no work of this pass outlives it.
  const failed = (await Promise.allSettled(lanes)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
