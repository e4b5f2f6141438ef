import { runSweep } from '../../src/operations/clusters/scheduled.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { clusterProviders } from '../../src/runtime/aws/clusters.js';
import { runMachines } from '../../src/runtime/aws/runs.js';
import { workbenchProviders } from '../../src/runtime/aws/workbenches.js';
import { workspaceProviders } from '../../src/runtime/aws/workspaces.js';
import { scheduledHandler } from '../../src/scheduling/scheduled-handler.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, ...clusterProviders, ...workspaceProviders, ...workbenchProviders, runMachines };

/** Not a route: the hourly sweep that EventBridge Scheduler runs (`npm run janitor` locally). */
export const handler = scheduledHandler('janitor', providers, runSweep);
