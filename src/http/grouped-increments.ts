import type { Key, Store } from '../ports.js';

interface Waiter {
  resolve(count: number): void;
  reject(error: unknown): void;
}

/**
 * Counter increments of one process, grouped per counter: while an ADD for a counter is in flight,
 * the requests that arrive for the same counter wait, then one ADD of their number counts them all.
 * Every request is still counted exactly once, and each gets the count it would have got from an ADD
 * of 1 of its own, in arrival order: the last of a group of n sees the new total, the first that
 * total − n + 1. Other processes' ADDs fall between groups as they would between single requests.
 * A Lambda container serves one request at a time, so there every group is a single request; the
 * local server serves many at once, and there an ADD per request is what limits its throughput.
 */
export class GroupedIncrements {
  private readonly queues = new WeakMap<Store, Map<string, Waiter[]>>();

  /** Adds 1 to the counter at `key` (created with `ttl`); resolves to this request's count. */
  increment(store: Store, key: Key, ttl: number): Promise<number> {
    const queues = this.queuesOf(store);
    const id = `${key.pk}\n${key.sk}`;
    return new Promise((resolve, reject) => {
      const waiting = queues.get(id);
      if (waiting) {
        waiting.push({ resolve, reject });
        return;
      }
      queues.set(id, []);
      void this.send(store, queues, id, key, ttl, [{ resolve, reject }]);
    });
  }

  private queuesOf(store: Store): Map<string, Waiter[]> {
    let queues = this.queues.get(store);
    if (!queues) this.queues.set(store, (queues = new Map()));
    return queues;
  }

  private async send(store: Store, queues: Map<string, Waiter[]>, id: string, key: Key, ttl: number, group: Waiter[]): Promise<void> {
    try {
      const total = await store.increment(key, group.length, ttl);
      group.forEach((waiter, i) => waiter.resolve(total - group.length + 1 + i));
    } catch (error) {
      for (const waiter of group) waiter.reject(error);
    }
    const next = queues.get(id) ?? [];
    if (next.length === 0) {
      queues.delete(id);
      return;
    }
    queues.set(id, []);
    await this.send(store, queues, id, key, ttl, next);
  }
}
