import { http } from '../../src/http/handler.js';
import { adminReleaseSlotRoute } from '../../src/operations/admin/routes.js';
import { authProviders } from '../../src/runtime/aws/auth.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = authProviders;

export const handler = http('admin-release-slot', adminReleaseSlotRoute, providers);
