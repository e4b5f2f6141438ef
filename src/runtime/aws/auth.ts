import { clock } from './clock.js';
import { publicKeys } from './public-keys.js';
import { catalog, tokenSettings } from './settings.js';
import { store } from './store.js';

/** What every authenticated route's handler passes to `http()` besides its own providers. */
export const authProviders = { clock, store, catalog, publicKeys, tokenSettings };
