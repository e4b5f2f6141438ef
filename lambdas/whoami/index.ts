import { http } from '../../src/http/handler.js';
import { whoami } from '../../src/operations/identity.js';
import { authProviders } from '../../src/runtime/aws/auth.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = authProviders;

export const handler = http('whoami', whoami, providers);
