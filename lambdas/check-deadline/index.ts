import { scheduledHandler } from '../../src/scheduling/scheduled-handler.js';
import { runDeadlineCheck } from '../../src/operations/clusters/scheduled.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { clusterProviders } from '../../src/runtime/aws/clusters.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, ...clusterProviders };

export const handler = scheduledHandler('check-deadline', providers, runDeadlineCheck);
