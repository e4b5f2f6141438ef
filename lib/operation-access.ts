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
  /** Works clusters: EC2 (by tag) and the schedule group; `creates` names the schedules it makes. */
  clusters?: { creates: ('destroy' | 'check-deadline')[] };
}

/** Authenticated routes read the published JWKS (GetItem) and count rate limits (UpdateItem). */
const authenticated: TableAction[] = ['GetItem', 'UpdateItem'];
/** Cluster state transitions and audit events. */
const clusterState: TableAction[] = ['GetItem', 'UpdateItem', 'PutItem', 'Query'];

export const operationAccess: Record<Operation, OperationAccess> = {
  health: {},
  openapi: {},
  login: { table: authenticated, signs: true },
  whoami: { table: authenticated },
  access: { table: authenticated, signs: true },
  jwks: { table: ['GetItem'] },
  'openid-configuration': {},
  'list-clusters': { table: clusterState, clusters: { creates: [] } },
  'get-cluster': { table: clusterState, clusters: { creates: [] } },
  deploy: { table: clusterState, clusters: { creates: ['destroy', 'check-deadline'] } },
  'schedule-destroy': { table: clusterState, clusters: { creates: ['destroy'] } },
  'cancel-destroy': { table: clusterState, clusters: { creates: [] } },
  destroy: { table: clusterState, clusters: { creates: ['check-deadline'] } },
  'cluster-events': { table: ['GetItem', 'UpdateItem', 'Query'] },
};
