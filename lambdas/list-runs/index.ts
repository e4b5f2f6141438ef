import { http } from '../../src/http/handler.js';
import { listRunsRoute } from '../../src/operations/runs/routes.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { runLogs } from '../../src/runtime/aws/runs.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, runLogs };

export const handler = http('list-runs', listRunsRoute, providers);
