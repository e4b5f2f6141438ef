import { http } from '../../src/http/handler.js';
import { cancelRunRoute } from '../../src/operations/runs/routes.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { scheduler } from '../../src/runtime/aws/clusters.js';
import { runProviders } from '../../src/runtime/aws/runs.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, scheduler, ...runProviders };

export const handler = http('cancel-run', cancelRunRoute, providers);
