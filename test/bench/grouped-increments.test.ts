import { describe, expect, it } from '@jest/globals';
import { GroupedIncrements } from '../../src/http/grouped-increments.js';
import type { Key, Store } from '../../src/ports.js';

/** A store whose counters answer after a turn of the event loop, like a real round trip; it records each ADD. */
function slowCounters() {
  const state = { fail: false };
  const counts = new Map<string, number>();
  const adds: { key: string; by: number }[] = [];
  const store = {
    increment: async (key: Key, by: number) => {
      const id = `${key.pk}/${key.sk}`;
      adds.push({ key: id, by });
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (state.fail) throw new Error('store down');
      counts.set(id, (counts.get(id) ?? 0) + by);
      return counts.get(id) ?? 0;
    },
  } as unknown as Store;
  return { store, counts, adds, state };
}

describe('grouped rate-limit increments', () => {
  const key = { pk: 'rate#user:github:gil', sk: '42' };

  it('counts every request once, in arrival order, with fewer ADDs than requests', async () => {
    const { store, counts, adds } = slowCounters();
    const grouped = new GroupedIncrements();
    const results = await Promise.all(Array.from({ length: 50 }, () => grouped.increment(store, key, 100)));
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(counts.get('rate#user:github:gil/42')).toBe(50);
    // The first request goes alone; the 49 that arrived while it was in flight share the next ADD.
    expect(adds.map((a) => a.by)).toEqual([1, 49]);
  });

  it('sends a lone request at once, and keeps counters apart', async () => {
    const { store, counts, adds } = slowCounters();
    const grouped = new GroupedIncrements();
    expect(await grouped.increment(store, key, 100)).toBe(1);
    expect(await grouped.increment(store, key, 100)).toBe(2);
    const [a, b] = await Promise.all([grouped.increment(store, key, 100), grouped.increment(store, { ...key, sk: '43' }, 100)]);
    expect([a, b]).toEqual([3, 1]);
    expect(adds).toHaveLength(4);
    expect(counts.get('rate#user:github:gil/43')).toBe(1);
  });

  it('keeps counting requests that arrive while a group is in flight, group after group', async () => {
    const { store, counts } = slowCounters();
    const grouped = new GroupedIncrements();
    const seen: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 10; i++) seen.push(await grouped.increment(store, key, 100));
      }),
    );
    expect(seen.sort((x, y) => x - y)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    expect(counts.get('rate#user:github:gil/42')).toBe(80);
  });

  it('fails every request of a failed group, and recovers with the next', async () => {
    const { store, state } = slowCounters();
    const grouped = new GroupedIncrements();
    state.fail = true;
    const results = await Promise.allSettled(Array.from({ length: 3 }, () => grouped.increment(store, key, 100)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    state.fail = false;
    expect(await grouped.increment(store, key, 100)).toBe(1);
  });
});
