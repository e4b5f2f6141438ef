import { http } from '../../src/http/handler.js';
import { whoami } from '../../src/operations/identity.js';

export const handler = http('whoami', whoami, {});
