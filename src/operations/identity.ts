import type { Routes } from '../api/routes.js';
import { ok } from '../http/reply.js';
import type { OperationFn } from '../http/types.js';

export const whoami: OperationFn<Routes['whoami'], unknown> = async (_input, { caller }) =>
  ok({ login: caller.login, level: caller.level, orgs: caller.orgs });
