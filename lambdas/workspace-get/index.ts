import { http } from '../../src/http/handler.js';
import { getWorkspaceRoute } from '../../src/operations/workspaces/routes.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { scheduler } from '../../src/runtime/aws/clusters.js';
import { workspaceProviders } from '../../src/runtime/aws/workspaces.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, scheduler, ...workspaceProviders };

export const handler = http('workspace-get', getWorkspaceRoute, providers);
