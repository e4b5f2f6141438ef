import type { Operation } from '../src/api/routes.js';
import type { TableAction } from './grants.js';

/**
 * What each operation's function may touch beyond its own logs. Typed by the route table, so a new
 * route does not compile until it says.
 */
export interface OperationAccess {
  table?: TableAction[];
  /** Reads the signing-key secret: only the functions that sign tokens. */
  signs?: true;
}

/** Authenticated routes read the published JWKS (GetItem) and count rate limits (UpdateItem). */
const authenticated: TableAction[] = ['GetItem', 'UpdateItem'];

export const operationAccess: Record<Operation, OperationAccess> = {
  health: {},
  openapi: {},
  login: { table: authenticated, signs: true },
  whoami: { table: authenticated },
  access: { table: authenticated, signs: true },
  jwks: { table: ['GetItem'] },
  'openid-configuration': {},
};
