import { http } from '../../src/http/handler.js';
import { jwks } from '../../src/operations/identity.js';
import { publicKeys } from '../../src/runtime/aws/public-keys.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { publicKeys };

export const handler = http('jwks', jwks, providers);
