import type { JSONWebKeySet } from 'jose';
import { createHash } from 'node:crypto';
import type { Caller } from '../domain/levels.js';
import { type JwksSource, verifyUserToken } from './tokens.js';

interface Verified {
  caller: Caller;
  /** The token's `exp`, in ms: the entry is never used at or after it. */
  expiresAt: number;
  issuer: string;
  /** The key set the signature was checked against: the entry is used only while it is still the one served. */
  jwks: JSONWebKeySet;
}

/**
 * User JWTs already verified in this container, so a client that sends the same token all day pays
 * for one signature check, not one per request. An entry is used only
 *   - before the token's `exp` (no clock tolerance: past it, the full check decides),
 *   - for the same expected issuer,
 *   - while the key source still serves the very key set object the token was verified against: a
 *     rotation or a re-read of the keys means verifying again, so a token whose key was retired is
 *     refused as soon as the key set without that key is served.
 * Keyed by the SHA-256 of the token, so the map holds no bearer credentials; bounded, least recently
 * used entries go first.
 */
export class VerifiedUserTokens {
  private readonly entries = new Map<string, Verified>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly check: typeof verifyUserToken = verifyUserToken,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The caller a user JWT names, from the cache or by the full check (`verifyUserToken`). Throws TokenRejected. */
  async verify(token: string, jwks: JwksSource, options: { issuer: string; now: Date; maxLifetimeSeconds?: number }): Promise<Caller> {
    const id = createHash('sha256').update(token).digest('base64url');
    const now = options.now.getTime();
    const current = await jwks(false);
    const hit = this.entries.get(id);
    if (hit) {
      this.entries.delete(id);
      if (now < hit.expiresAt && hit.issuer === options.issuer && hit.jwks === current) {
        this.entries.set(id, hit);
        return hit.caller;
      }
    }
    // The key set of the check is remembered; a forced re-read for an unknown kid yields a new one.
    let verifiedWith = current;
    const { caller, exp } = await this.check(
      token,
      async (fresh) => {
        verifiedWith = fresh ? await jwks(true) : current;
        return verifiedWith;
      },
      options,
    );
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(id, { caller, expiresAt: exp * 1000, issuer: options.issuer, jwks: verifiedWith });
    return caller;
  }
}
