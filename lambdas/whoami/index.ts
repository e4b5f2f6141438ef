import { http } from '../../src/http/handler.js';
import { whoami } from '../../src/operations/identity.js';
import { authProviders } from '../../src/runtime/aws/auth.js';

export const handler = http('whoami', whoami, authProviders);
