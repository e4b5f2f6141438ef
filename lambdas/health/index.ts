import { http } from '../../src/http/handler.js';
import { health } from '../../src/operations/health.js';
import { clock } from '../../src/runtime/aws/clock.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { clock };

export const handler = http('health', health, providers);
