import { http } from '../../src/http/handler.js';
import { adminForceAbsentRoute } from '../../src/operations/admin/routes.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { scheduler } from '../../src/runtime/aws/clusters.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, scheduler };

export const handler = http('admin-force-absent', adminForceAbsentRoute, providers);
