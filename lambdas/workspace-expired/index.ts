import { http } from '../../src/http/handler.js';
import { workspaceExpiredRoute } from '../../src/operations/workspaces/routes.js';
import { authProviders } from '../../src/runtime/aws/auth.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each): it reads the store only. */
export const providers = authProviders;

export const handler = http('workspace-expired', workspaceExpiredRoute, providers);
