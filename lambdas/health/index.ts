import { http } from '../../src/http/handler.js';
import { health } from '../../src/operations/meta.js';
import { clock } from '../../src/runtime/aws.js';

export const handler = http('health', health, { clock });
