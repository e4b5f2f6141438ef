/**
 * Runs `work` on every item, at most `limit` at a time, in order of start; resolves when all are
 * done (the first failure rejects, after the ones running finish their turn). For the janitor's
 * passes: thousands of independent reads, which one at a time would take a round trip each.
 */
export async function forEachLimited<T>(items: Iterable<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]();
  const worker = async () => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) await work(next.value);
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
}

/** How many items the janitor converges at once: enough to hide round trips, few enough not to throttle a backend. */
export const janitorConcurrency = 16;
