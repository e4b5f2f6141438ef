import { runWorkspaceTimer } from '../../src/operations/workspaces/scheduled.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { scheduler } from '../../src/runtime/aws/clusters.js';
import { workspaceProviders } from '../../src/runtime/aws/workspaces.js';
import { scheduledHandler } from '../../src/scheduling/scheduled-handler.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, scheduler, ...workspaceProviders };

/** The expiry target: a workspace's expiry, notice or cleanup schedule fired. */
export const handler = scheduledHandler('workspace-timer', providers, runWorkspaceTimer);
