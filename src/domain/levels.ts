/** Privilege levels, lowest first: the order is the policy. */
export const levels = ['anonymous', 'github_member', 'org_member', 'administrator'] as const;
export type Level = (typeof levels)[number];

export function atLeast(level: Level, required: Level): boolean {
  return levels.indexOf(level) >= levels.indexOf(required);
}

/** Who is calling: resolved from the bearer token by the auth middleware. */
export interface Caller {
  /** `github:<login>`, `actions:<owner>/<repo>` or `anonymous`. */
  sub: string;
  login: string | null;
  level: Level;
  orgs: string[];
}

export const anonymousCaller: Caller = { sub: 'anonymous', login: null, level: 'anonymous', orgs: [] };

/**
 * Provisioner itself: timed actions (as `scheduler`) and progress found while answering a read (as
 * `system`) are recorded under its name, never the reader's, and pass every authorization.
 */
export function systemCaller(sub: 'system' | 'scheduler'): Caller {
  return { sub, login: null, level: 'administrator', orgs: [] };
}
