import { http } from '../../src/http/handler.js';
import { logoutRoute } from '../../src/operations/tokens/routes.js';
import { authProviders } from '../../src/runtime/aws/auth.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = authProviders;

export const handler = http('logout', logoutRoute, providers);
