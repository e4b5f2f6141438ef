import type { Key, Store } from '../ports.js';

/**
 * The largest lease for a limit: 2% of it (at most 1024), so unused leases cost a caller little. Under
 * a large limit a busy caller's requests need one ADD per 1024: an ADD costs far more than a request
 * (measured locally, ≈5 ms of CPU under load against ≈0.25 ms for an ACCESS).
 */
export const maxLease = (limit: number) => Math.max(1, Math.min(1024, Math.floor(limit / 50)));

/** One caller's window as this process sees it. */
interface Window {
  /** Requests this process has already counted in the store and may still admit. */
  allowance: number;
  /** How many the next ADD counts ahead. */
  lease: number;
  /** The store said the limit is reached: refuse without asking again until the window ends. */
  exhausted: boolean;
  /** Epoch seconds: the counter's TTL, and when this entry may be forgotten. */
  endsAt: number;
  pending?: Promise<void>;
}

/**
 * Rate-limit counting with leases: one ADD counts several requests ahead, and this process admits
 * them without another round trip. The first request of a window counts 1, each following ADD
 * twice the last, up to `maxLease(limit)`. Every admitted request was counted before it was admitted
 * and no process admits past the limit (a lease is granted only up to what the store's total
 * leaves), so the limit holds across processes; the cost is that a lease a process does not use up
 * still counts: less than two leases' worth (`2 × maxLease(limit)`) per process and window, i.e. a
 * caller may be refused that much early. While a lease is half used, the next one is counted in the
 * background, so a busy caller never waits on the store. Limits under 100 lease one at a time:
 * exact, and never ahead.
 * Concurrent requests wait for the ADD in flight instead of sending their own; once the store says
 * the limit is reached, the process refuses the rest of the window without asking again.
 */
export class RateLeases {
  private readonly windows = new WeakMap<Store, Map<string, Window>>();

  /** Admits one request against `limit` in the window counted at `key`, ending at `endsAt` (epoch s). */
  async admit(store: Store, key: Key, endsAt: number, limit: number): Promise<boolean> {
    const window = this.windowOf(store, key, endsAt);
    for (;;) {
      if (window.allowance > 0) {
        window.allowance--;
        // A busy caller's next lease is counted while this one is used up, so requests do not stall
        // on the round trip (its failure surfaces on the request that then waits for a lease).
        if (window.lease > 1 && window.allowance < window.lease / 2 && !window.exhausted && !window.pending) {
          window.pending = this.lease(store, key, window, limit)
            .catch(() => undefined)
            .finally(() => (window.pending = undefined));
        }
        return true;
      }
      if (window.exhausted) return false;
      window.pending ??= this.lease(store, key, window, limit).finally(() => (window.pending = undefined));
      await window.pending;
    }
  }

  private async lease(store: Store, key: Key, window: Window, limit: number): Promise<void> {
    const size = window.lease;
    const total = await store.increment(key, size, window.endsAt);
    const granted = Math.max(0, Math.min(size, limit - (total - size)));
    window.allowance += granted;
    if (granted < size) window.exhausted = true;
    window.lease = Math.min(size * 2, maxLease(limit));
  }

  private windowOf(store: Store, key: Key, endsAt: number): Window {
    let windows = this.windows.get(store);
    if (!windows) this.windows.set(store, (windows = new Map()));
    const id = `${key.pk}\n${key.sk}`;
    let window = windows.get(id);
    if (!window) {
      // Past windows are forgotten as new ones begin (a key holds its window's index).
      if (windows.size >= 10_000) for (const [old, entry] of windows) if (entry.endsAt * 1000 < Date.now()) windows.delete(old);
      windows.set(id, (window = { allowance: 0, lease: 1, exhausted: false, endsAt }));
    }
    return window;
  }
}
