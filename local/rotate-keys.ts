/**
 * `npm run rotate-keys`: rotates the local signing keys in PROVISIONER_DATA_DIR. The new key signs
 * from now on; the previous one keeps verifying the tokens it signed; older keys are retired.
 * A running `npm start` picks the change up within seconds. (In AWS, see the README, "Keys".)
 */
import { join } from 'node:path';
import { localSettings, readEnv } from '../src/config.js';
import { systemClock } from '../src/domain/clock.js';
import { localKeyVault } from '../src/runtime/local.js';
import { rotateKeys } from '../src/tokens/key-service.js';

const config = readEnv(localSettings());
const set = await rotateKeys(localKeyVault(config), systemClock);
console.log(`Rotated ${join(config.PROVISIONER_DATA_DIR, 'keys.json')}: signing with ${set.keys[0]?.kid}; still verifying ${set.keys[1]?.kid ?? 'nothing else'}.`);
