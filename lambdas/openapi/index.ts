import { http } from '../../src/http/handler.js';
import { openapi } from '../../src/operations/openapi.js';

export const handler = http('openapi', openapi, {});
