/** The only source of "now" in the domain, injected so that rules with time windows are testable. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * EventBridge Scheduler invokes a target with 60-second precision, possibly before the schedule's
 * time: a timed action firing this close before its time is due, never dropped.
 */
export const earlyFiringMs = 90_000;

/** Whether a timed action for `at` is due now, allowing for an early firing. */
export function timerDue(at: string | undefined, now: Date): boolean {
  return at === undefined || now.getTime() >= Date.parse(at) - earlyFiringMs;
}
