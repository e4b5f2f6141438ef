import { http } from '../../src/http/handler.js';
import { loginDevice } from '../../src/operations/identity.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { githubDevice } from '../../src/runtime/aws/github-device.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, githubDevice };

export const handler = http('login-device', loginDevice, providers);
