import type { Operation } from '../src/api/routes.js';

/**
 * What each operation's function may touch beyond its own logs. Typed by the route table, so a new
 * route does not compile until it says. Authenticated routes read the published JWKS and count rate
 * limits in the table; only the functions that sign may read the key secret.
 */
export interface OperationAccess {
  table?: 'read' | 'read-write';
  signs?: true;
  github?: true;
}

export const operationAccess: Record<Operation, OperationAccess> = {
  health: {},
  openapi: {},
  login: { table: 'read-write', signs: true, github: true },
  whoami: { table: 'read-write' },
  access: { table: 'read-write', signs: true },
  jwks: { table: 'read' },
  'openid-configuration': {},
};
