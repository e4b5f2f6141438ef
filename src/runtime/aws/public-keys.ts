import { TablePublicKeys } from '../../adapters/aws/table-public-keys.js';
import { systemClock } from '../../domain/clock.js';
import { once } from '../../once.js';
import { store } from './store.js';

/** The public JWKS the key rotation publishes to the table. */
export const publicKeys = once(() => new TablePublicKeys(store(), systemClock));
