import { systemClock } from '../../domain/clock.js';

/**
 * AWS providers live one per module under src/runtime/aws/, so a handler's bundle carries only the
 * SDK clients of the providers it imports.
 */
export const clock = () => systemClock;
