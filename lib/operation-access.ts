import type { Operation } from '../src/api/routes.js';

/** What each operation's function may touch. Typed by the route table, so a new route must say. */
export interface OperationAccess {
  table?: 'read' | 'read-write';
}

export const operationAccess: Record<Operation, OperationAccess> = {
  health: {},
  openapi: {},
  whoami: {},
};
