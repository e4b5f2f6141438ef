import { fallbackHandler } from '../../src/http/fallback.js';

export const handler = fallbackHandler();
