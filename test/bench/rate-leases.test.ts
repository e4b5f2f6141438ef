import { describe, expect, it } from '@jest/globals';
import { maxLease, RateLeases } from '../../src/http/rate-leases.js';
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

const admitted = (results: boolean[]) => results.filter(Boolean).length;

describe('rate-limit leases', () => {
  const key = { pk: 'rate#user:github:gil', sk: '42' };
  const endsAt = Math.floor(Date.now() / 1000) + 60;

  it('leases at most 2% of a limit (1024 at most), one at a time under 100', () => {
    expect([maxLease(3), maxLease(99), maxLease(100), maxLease(600), maxLease(3200), maxLease(51_200), maxLease(1e9)]).toEqual([1, 1, 2, 12, 64, 1024, 1024]);
  });

  it('with a small limit admits exactly the limit, one ADD per request', async () => {
    const { store, counts, adds } = slowCounters();
    const leases = new RateLeases();
    const results: boolean[] = [];
    for (let i = 0; i < 8; i++) results.push(await leases.admit(store, key, endsAt, 5));
    expect(results).toEqual([true, true, true, true, true, false, false, false]);
    // The sixth request learnt the limit is reached; the rest of the window asks the store no more.
    expect(adds.map((a) => a.by)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(counts.get('rate#user:github:gil/42')).toBe(6);
  });

  it('counts every admitted request before admitting it, with far fewer ADDs than requests', async () => {
    const { store, counts, adds } = slowCounters();
    const leases = new RateLeases();
    const results = await Promise.all(Array.from({ length: 200 }, () => leases.admit(store, key, endsAt, 3200)));
    expect(admitted(results)).toBe(200);
    const counted = counts.get('rate#user:github:gil/42') ?? 0;
    expect(counted).toBeGreaterThanOrEqual(200);
    // Leases double from 1 to maxLease(3200) = 64: what is left unused is less than two leases.
    expect(counted - 200).toBeLessThan(128);
    expect(adds.map((a) => a.by).slice(0, 7)).toEqual([1, 2, 4, 8, 16, 32, 64]);
    expect(adds.length).toBeLessThan(12);
  });

  it('never admits past the limit, even when other processes count in the same window', async () => {
    const { store, counts } = slowCounters();
    const processes = [new RateLeases(), new RateLeases(), new RateLeases()];
    const results = await Promise.all(processes.flatMap((leases) => Array.from({ length: 400 }, () => leases.admit(store, key, endsAt, 500))));
    expect(admitted(results)).toBeLessThanOrEqual(500);
    // Unused leases cost each process less than two of maxLease(500) = 10 requests.
    expect(admitted(results)).toBeGreaterThanOrEqual(500 - 3 * 20);
    expect(counts.get('rate#user:github:gil/42')).toBeGreaterThanOrEqual(admitted(results));
  });

  it("counts a busy caller's next lease while the current one is used, so requests do not wait", async () => {
    // A store that answers each ADD only when the test says so.
    let total = 0;
    const held: { by: number; answer(): void }[] = [];
    const store = {
      increment: (_key: Key, by: number) => new Promise<number>((resolve) => held.push({ by, answer: () => resolve((total += by)) })),
    } as unknown as Store;
    const leases = new RateLeases();
    const answerNext = async () => {
      while (held.length === 0) await new Promise((r) => setImmediate(r));
      held.shift()?.answer();
    };
    // First request: lease of 1, waited for. Second: lease of 2, waited for; one left after it.
    await Promise.all([leases.admit(store, key, endsAt, 1_000_000), answerNext()]);
    await Promise.all([leases.admit(store, key, endsAt, 1_000_000), answerNext()]);
    // With less than half a lease left, the next lease (4) was asked for already…
    expect(held.map((h) => h.by)).toEqual([4]);
    // …and the next request is admitted from what is left, while that ADD is still unanswered.
    expect(await leases.admit(store, key, endsAt, 1_000_000)).toBe(true);
    expect(held.map((h) => h.by)).toEqual([4]);
    // Only with nothing left does a request wait, for the ADD already in flight (no second one).
    let admitted = false;
    const waiting = leases.admit(store, key, endsAt, 1_000_000).then((ok) => (admitted = ok));
    await new Promise((r) => setImmediate(r));
    expect([admitted, held.length]).toEqual([false, 1]);
    await answerNext();
    await waiting;
    expect(admitted).toBe(true);
  });

  it('keeps windows and counters apart', async () => {
    const { store, counts } = slowCounters();
    const leases = new RateLeases();
    expect(await leases.admit(store, key, endsAt, 1)).toBe(true);
    expect(await leases.admit(store, key, endsAt, 1)).toBe(false);
    expect(await leases.admit(store, { ...key, sk: '43' }, endsAt + 60, 1)).toBe(true);
    expect(counts.get('rate#user:github:gil/43')).toBe(1);
  });

  it('fails every request waiting on a failed ADD, and recovers with the next', async () => {
    const { store, state } = slowCounters();
    const leases = new RateLeases();
    state.fail = true;
    const results = await Promise.allSettled(Array.from({ length: 3 }, () => leases.admit(store, key, endsAt, 10)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    state.fail = false;
    expect(await leases.admit(store, key, endsAt, 10)).toBe(true);
  });
});
