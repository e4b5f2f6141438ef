import type { Clock } from '../domain/clock.js';
import type { KeyPublisher, KeyVault } from '../ports.js';
import { ensureKeys, rotateKeys } from '../tokens/key-service.js';

export interface RotateKeysEvent {
  /** `ensure` (the default, run at deploy) creates the first key only; `rotate` adds a new one. */
  action?: 'ensure' | 'rotate';
}

/** Key rotation: the vault gets the new private key set, the publisher the public JWKS. */
export async function rotateSigningKeys(event: RotateKeysEvent, deps: { vault: KeyVault; publisher: KeyPublisher; clock: Clock }) {
  const publish = (jwks: Parameters<KeyPublisher['publish']>[0]) => deps.publisher.publish(jwks);
  const set = event.action === 'rotate' ? await rotateKeys(deps.vault, deps.clock, publish) : await ensureKeys(deps.vault, deps.clock, publish);
  return { action: event.action ?? 'ensure', kids: set.keys.map((k) => k.kid) };
}
