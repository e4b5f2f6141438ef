import type { Store } from '../../src/ports.js';

/** The store, recording in `calls` each call made through the port: round trips, counted. */
export function counting(store: Store): { store: Store; calls: string[] } {
  const calls: string[] = [];
  const wrapped = Object.fromEntries(
    (['get', 'createIfAbsent', 'transition', 'remove', 'query', 'increment', 'put', 'claim', 'release'] as const).map((name) => [
      name,
      (...args: unknown[]) => {
        calls.push(name);
        return (store[name] as (...a: unknown[]) => unknown).apply(store, args);
      },
    ]),
  ) as unknown as Store;
  return { store: wrapped, calls };
}
