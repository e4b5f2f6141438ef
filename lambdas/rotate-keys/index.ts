import { systemClock } from '../../src/domain/clock.js';
import { rotateSigningKeys, type RotateKeysEvent } from '../../src/operations/rotate-keys.js';
import { keyVault } from '../../src/runtime/aws/keys.js';
import { store } from '../../src/runtime/aws/store.js';

/** Not a route: run at deploy (`ensure`), monthly and by the documented command (`rotate`). */
export const handler = async (event: RotateKeysEvent | undefined) =>
  rotateSigningKeys(event ?? {}, { vault: keyVault(), store: store(), clock: systemClock });
