import { scheduledHandler } from '../../src/scheduling/scheduled-handler.js';
import { runTimeout } from '../../src/operations/runs/scheduled.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { scheduler } from '../../src/runtime/aws/clusters.js';
import { runProviders } from '../../src/runtime/aws/runs.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, scheduler, ...runProviders };

export const handler = scheduledHandler('run-timeout', providers, runTimeout);
