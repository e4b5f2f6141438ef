import { http } from '../../src/http/handler.js';
import { access } from '../../src/operations/identity.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { keyRing } from '../../src/runtime/aws/keys.js';

export const handler = http('access', access, { ...authProviders, keyRing });
