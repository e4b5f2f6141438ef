import { http } from '../../src/http/handler.js';
import { openapi } from '../../src/operations/openapi.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = {};

export const handler = http('openapi', openapi, providers);
