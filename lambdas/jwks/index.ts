import { http } from '../../src/http/handler.js';
import { jwks } from '../../src/operations/identity.js';
import { publicKeys } from '../../src/runtime/aws/auth.js';

export const handler = http('jwks', jwks, { publicKeys });
