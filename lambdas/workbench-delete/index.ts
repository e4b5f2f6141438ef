import { http } from '../../src/http/handler.js';
import { deleteRoute } from '../../src/operations/workbenches/routes.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { workbenchProviders } from '../../src/runtime/aws/workbenches.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, ...workbenchProviders };

export const handler = http('workbench-delete', deleteRoute, providers);
