import { http } from '../../src/http/handler.js';
import { openidConfiguration } from '../../src/operations/identity.js';
import { tokenSettings } from '../../src/runtime/aws/settings.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { tokenSettings };

export const handler = http('openid-configuration', openidConfiguration, providers);
