/** The only source of "now" in the domain, injected so that rules with time windows are testable. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
