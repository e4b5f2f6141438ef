import { systemClock } from '../../src/domain/clock.js';
import { rotateSigningKeys, type RotateKeysEvent } from '../../src/operations/rotate-keys.js';
import { keyVault } from '../../src/runtime/aws/keys.js';
import { store } from '../../src/runtime/aws/store.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { keyVault, store };

/** Not a route: run at deploy (`ensure`), monthly and by the documented command (`rotate`). */
export const handler = async (event: RotateKeysEvent | undefined) =>
  rotateSigningKeys(event ?? {}, { vault: providers.keyVault(), store: providers.store(), clock: systemClock });
