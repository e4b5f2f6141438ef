import { http } from '../../src/http/handler.js';
import { adminOverviewRoute } from '../../src/operations/admin/routes.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { clusterRules } from '../../src/runtime/aws/clusters.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, clusterRules };

export const handler = http('admin-overview', adminOverviewRoute, providers);
