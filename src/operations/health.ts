import type { Routes } from '../api/routes.js';
import type { Clock } from '../domain/clock.js';
import { ok } from '../http/reply.js';
import type { OperationFn } from '../http/types.js';
import { version } from '../version.js';

export const health: OperationFn<Routes['health'], { clock: Clock }> = async (_input, { deps }) =>
  ok({ status: 'ok' as const, version, time: deps.clock.now().toISOString() });
