import { http } from '../../src/http/handler.js';
import { health } from '../../src/operations/health.js';
import { clock } from '../../src/runtime/aws/clock.js';

export const handler = http('health', health, { clock });
