import { fallbackHandler } from '../../src/http/fallback.js';

/** The fallback builds nothing. */
export const providers = {};

export const handler = fallbackHandler();
