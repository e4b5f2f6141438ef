import type { ApiTokenScope } from './api-tokens.js';

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
  /** A session exchanged from an API token: the scopes it is limited to. Absent: every right of its level. */
  scopes?: ApiTokenScope[];
  /** With `scopes`: the only clusters it may act on, when its token names some. */
  clusters?: string[];
  /** The user JWT presented (its `jti`, `exp` in epoch seconds) and the API token it came from: what logout and revocation refuse. */
  session?: { jti: string; exp: number; tokenId?: string };
}

export const anonymousCaller: Caller = { sub: 'anonymous', login: null, level: 'anonymous', orgs: [] };

/**
 * Provisioner itself: timed actions (as `scheduler`) and progress found while answering a read (as
 * `system`) are recorded under its name, never the reader's, and pass every authorization.
 */
export function systemCaller(sub: 'system' | 'scheduler'): Caller {
  return { sub, login: null, level: 'administrator', orgs: [] };
}
