import type { JSONWebKeySet } from 'jose';
import type { Clock } from '../../domain/clock.js';
import type { KeyPublisher, PublicKeys, Store } from '../../ports.js';
import { publishedKeysKey } from '../../store/keys.js';

/**
 * The public key set in the table, where the rotation publishes it so that verifiers need no access
 * to the secret; read back cached for `maxAgeMs`. A `fresh` read (a token with an unknown `kid`)
 * goes to the table at most once per `refreshGapMs`, so forged `kid`s cannot turn into a read each.
 */
export class TablePublicKeys implements PublicKeys, KeyPublisher {
  private cached?: { at: number; jwks: JSONWebKeySet };

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly maxAgeMs = 300_000,
    private readonly refreshGapMs = 30_000,
  ) {}

  async publish(jwks: JSONWebKeySet): Promise<void> {
    await this.store.put({ ...publishedKeysKey, jwks });
  }

  async jwks(fresh: boolean): Promise<JSONWebKeySet> {
    const now = this.clock.now().getTime();
    const age = this.cached ? now - this.cached.at : Infinity;
    if (this.cached && age < this.maxAgeMs && (!fresh || age < this.refreshGapMs)) return this.cached.jwks;
    const item = await this.store.get(publishedKeysKey);
    const jwks = (item?.jwks as JSONWebKeySet | undefined) ?? { keys: [] };
    this.cached = { at: now, jwks };
    return jwks;
  }
}
