import { http } from '../../src/http/handler.js';
import { access } from '../../src/operations/identity.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { keyRing } from '../../src/runtime/aws/keys.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, keyRing };

export const handler = http('access', access, providers);
