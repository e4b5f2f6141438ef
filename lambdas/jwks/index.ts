import { http } from '../../src/http/handler.js';
import { jwks } from '../../src/operations/identity.js';
import { publicKeys } from '../../src/runtime/aws/public-keys.js';

export const handler = http('jwks', jwks, { publicKeys });
