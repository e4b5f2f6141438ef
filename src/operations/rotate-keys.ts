import type { Store } from '../ports.js';
import type { Clock } from '../domain/clock.js';
import type { KeyVault } from '../ports.js';
import { publishTo } from '../adapters/aws/table-public-keys.js';
import { ensureKeys, rotateKeys } from '../tokens/key-service.js';

export interface RotateKeysEvent {
  /** `ensure` (the default, run at deploy) creates the first key only; `rotate` adds a new one. */
  action?: 'ensure' | 'rotate';
}

/** Key rotation in AWS: the secret gets the new private key set, the table the public JWKS. */
export async function rotateSigningKeys(event: RotateKeysEvent, deps: { vault: KeyVault; store: Store; clock: Clock }) {
  const publish = publishTo(deps.store);
  const set = event.action === 'rotate' ? await rotateKeys(deps.vault, deps.clock, publish) : await ensureKeys(deps.vault, deps.clock, publish);
  return { action: event.action ?? 'ensure', kids: set.keys.map((k) => k.kid) };
}
