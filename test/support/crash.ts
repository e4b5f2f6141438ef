/**
 * The crash harness of the fault suites: a port whose k-th awaited call (counted across every port
 * wrapped with the same plan) crashes, before the call happens or after it happened but before the
 * caller saw the answer; the process is dead from then on, as `kill -9` leaves it.
 */
export class Crash extends Error {
  override name = 'Crash';
}

export interface Plan {
  /** The port call (1-based) at which the process dies. */
  at: number;
  when: 'before' | 'after';
  calls: number;
  dead: boolean;
}

/** The port, but the plan's k-th call crashes, and every call after it. */
export function crashing<T extends object>(port: T, plan: Plan): T {
  return new Proxy(port, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (plan.dead) throw new Crash('the process is gone');
        const call = ++plan.calls;
        if (call === plan.at && plan.when === 'before') {
          plan.dead = true;
          throw new Crash(`crash before call ${call} (${String(property)})`);
        }
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (call === plan.at) {
          plan.dead = true;
          throw new Crash(`crash after call ${call} (${String(property)})`);
        }
        return result;
      };
    },
  });
}
