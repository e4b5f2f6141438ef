import { scheduledHandler } from '../../src/http/scheduled.js';
import { deadlineCheckInput, runDeadlineCheck } from '../../src/operations/scheduled.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { clusterProviders } from '../../src/runtime/aws/clusters.js';

/** Not a route: the one-time check EventBridge Scheduler runs at a deploy's or a destroy's deadline. */
/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, ...clusterProviders };

export const handler = scheduledHandler('check-deadline', deadlineCheckInput, providers, runDeadlineCheck);
