import { http } from '../../src/http/handler.js';
import { loginDeviceToken } from '../../src/operations/identity.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { githubDevice } from '../../src/runtime/aws/github-device.js';
import { githubUsers } from '../../src/runtime/aws/github.js';
import { keyRing } from '../../src/runtime/aws/keys.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, githubDevice, githubUsers, keyRing };

export const handler = http('login-device-token', loginDeviceToken, providers);
