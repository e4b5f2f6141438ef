import { systemClock } from '../../src/domain/clock.js';
import { rotateSigningKeys, type RotateKeysEvent } from '../../src/operations/rotate-keys.js';
import { keyVault } from '../../src/runtime/aws/keys.js';
import { publicKeys } from '../../src/runtime/aws/public-keys.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { keyVault, publicKeys };

/** Not a route: run at deploy (`ensure`), monthly and by the documented command (`rotate`). */
export const handler = async (event: RotateKeysEvent | undefined) =>
  rotateSigningKeys(event ?? {}, { vault: providers.keyVault(), publisher: providers.publicKeys(), clock: systemClock });
