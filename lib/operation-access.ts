import { type Operation, fallbackOperation } from '../src/api/routes.js';
import type { ScheduleTarget, scheduleTargets } from '../src/scheduling/targets.js';
import type { TableAction } from './grants.js';

/** The functions that run only as schedule targets: a target whose `lambda` is not a route. */
export type TargetOnlyFunction = Exclude<(typeof scheduleTargets)[ScheduleTarget]['lambda'], Operation>;

/** Functions run by an EventBridge rule (lib/drift.ts): neither a route nor a schedule target. */
export type EventFunction = 'instance-state';

/** Every function whose access this table decides: one per route, the fallback, the target-only ones, the event ones. */
export type FunctionName = Operation | typeof fallbackOperation | TargetOnlyFunction | EventFunction;

/**
 * What a function may touch beyond its own logs, as data. `grantAccess` (lib/grants.ts) turns each
 * field into exactly its IAM statements and environment; absent means not at all. Later backends
 * (ECS, S3) become fields here too.
 */
export interface OperationAccess {
  /** DynamoDB actions on the table (Query also on its indexes). */
  table?: TableAction[];
  /** Reads the signing-key secret: only the functions that sign tokens. */
  signs?: true;
  /**
   * Schedules in the stack's group. `creates` names the targets it makes schedules of (it gets their
   * ARNs and may pass the scheduler role; it may also delete); `deletes` only removes them.
   * A function cannot create schedules of a target it runs itself: its ARN in its own environment
   * would be a cycle.
   */
  schedules?: { creates: [ScheduleTarget, ...ScheduleTarget[]] } | { deletes: true };
  /**
   * EC2 clusters, each level including the one before: `read` describes instances, `manage` also
   * terminates those tagged as ours, `launch` also runs instances that must carry that tag.
   */
  ec2?: 'read' | 'manage' | 'launch';
  // workspaces
  /**
   * Workspace services in the stack's workspace cluster only (lib/workspaces.ts), each level
   * including the one before: `read` describes them and their tasks, `manage` also deletes and
   * re-tags them, `launch` also registers their task definitions and creates them, tagged as ours.
   */
  workspaces?: 'read' | 'manage' | 'launch';
  // workbenches
  /**
   * The workbench ECS cluster and dedicated instances (lib/workbenches.ts), each level including the
   * one before: `read` describes and lists tasks, `manage` also stops tasks and instances, `launch`
   * also runs tasks of the workbench family (passing only its task roles) and dedicated instances.
   */
  workbenches?: 'read' | 'manage' | 'launch';
  // runs
  /**
   * Runs (lib/runs.ts), each level including the one before: `read` gets run logs (to presign their
   * links), `stop` also terminates run instances, `start` also launches them with the runner role.
   */
  runs?: 'read' | 'stop' | 'start';
  // notifications
  /** Reads the webhook signing secret: only the notify function. */
  webhookSecret?: true;
}

/** Authenticated routes read the published JWKS (GetItem), count rate limits (UpdateItem) and read the revocation list once a minute (Query). */
const authenticated: TableAction[] = ['GetItem', 'UpdateItem', 'Query'];
/** Cluster state transitions and audit events. */
const clusterState: TableAction[] = ['GetItem', 'UpdateItem', 'PutItem', 'Query'];
// workspaces
/** Workspace state transitions, audit events and name claims. */
const workspaceState: TableAction[] = ['GetItem', 'UpdateItem', 'PutItem', 'Query'];

/**
 * THE access table, keyed by function name (the folder under `lambdas/`). Typed by the route table
 * and the schedule-target table, so a new route or target-only function does not compile until it
 * says what it may touch.
 */
export const operationAccess: Record<FunctionName, OperationAccess> = {
  [fallbackOperation]: {},
  health: {},
  openapi: {},
  // tokens: a GitHub login records the person's level and orgs (PutItem); an API-token exchange reads them and notes the token's last use.
  login: { table: [...authenticated, 'PutItem'], signs: true },
  whoami: { table: authenticated },
  access: { table: authenticated, signs: true },
  jwks: { table: ['GetItem'] },
  'openid-configuration': {},
  // Reading a cluster asks the backend and cleans up after a failed or late one (schedules, instances).
  // notifications: every function that may see a failure, a degradation, a stuck destroy or make a reminder creates `notify` calls.
  'list-clusters': { table: clusterState, schedules: { creates: ['notify'] }, ec2: 'manage' },
  'get-cluster': { table: clusterState, schedules: { creates: ['notify'] }, ec2: 'manage' },
  deploy: { table: clusterState, schedules: { creates: ['destroy', 'check-deadline', 'notify'] }, ec2: 'launch' },
  'schedule-destroy': { table: clusterState, schedules: { creates: ['destroy', 'notify'] }, ec2: 'manage' },
  'cancel-destroy': { table: clusterState, schedules: { deletes: true }, ec2: 'manage' },
  destroy: { table: clusterState, schedules: { creates: ['check-deadline', 'notify'] }, ec2: 'manage' },
  'cluster-events': { table: ['GetItem', 'UpdateItem', 'Query'] },
  'check-deadline': { table: clusterState, schedules: { creates: ['notify'] }, ec2: 'manage' },
  // The janitor also converges workspaces, workbenches (re-drives an interrupted start: its auto-stop, its task; finishes deletes) and stops run machines whose run ended.
  janitor: { table: [...clusterState, 'DeleteItem'], schedules: { creates: ['workbench-auto-stop', 'notify'] }, ec2: 'manage', workspaces: 'manage', workbenches: 'launch', runs: 'stop' },
  // Drift: reads the instance map, confirms a loss with EC2, records degraded (state and event in one write, an archived chunk now and then), forgets a terminated instance.
  'instance-state': { table: ['GetItem', 'UpdateItem', 'PutItem', 'DeleteItem'], ec2: 'read', schedules: { creates: ['notify'] } },
  // workspaces: creating and reading may fail a workspace and move its cleanup schedule; deleting releases the name claim.
  'workspace-create': { table: workspaceState, schedules: { creates: ['workspace-timer'] }, workspaces: 'launch' },
  'workspace-list': { table: ['GetItem', 'UpdateItem', 'Query'] },
  'workspace-get': { table: workspaceState, schedules: { creates: ['workspace-timer'] }, workspaces: 'read' },
  'workspace-expired': { table: authenticated },
  'workspace-update': { table: workspaceState, schedules: { creates: ['workspace-timer'] }, workspaces: 'manage' },
  'workspace-delete': { table: [...workspaceState, 'DeleteItem'], schedules: { deletes: true }, workspaces: 'manage' },
  'workspace-events': { table: ['GetItem', 'UpdateItem', 'Query'] },
  'workspace-expire': { table: [...workspaceState, 'DeleteItem'], schedules: { creates: ['notify'] }, workspaces: 'manage' },
  // workbenches
  'workbench-list': { table: ['GetItem', 'UpdateItem', 'Query'] },
  'workbench-create': { table: clusterState, schedules: { creates: ['workbench-auto-stop', 'notify'] }, workbenches: 'launch' },
  // A read asks the backend, stops a task that outlived a stop, removes the auto-stop of a failed one,
  // launches a start a crash or a throttle interrupted (with its auto-stop), and places a task on its registered dedicated instance.
  'workbench-get': { table: clusterState, schedules: { creates: ['workbench-auto-stop', 'notify'] }, workbenches: 'launch' },
  'workbench-start': { table: clusterState, schedules: { creates: ['workbench-auto-stop', 'notify'] }, workbenches: 'launch' },
  'workbench-stop': { table: clusterState, schedules: { creates: ['notify'] }, workbenches: 'manage' },
  // The data is removed by a one-off task of the workbench family.
  'workbench-delete': { table: [...clusterState, 'DeleteItem'], schedules: { deletes: true }, workbenches: 'launch' },
  'workbench-share': { table: ['GetItem', 'UpdateItem', 'PutItem', 'Query'] },
  'workbench-unshare': { table: ['GetItem', 'UpdateItem', 'PutItem', 'Query', 'DeleteItem'] },
  // runs: starting a TEST reads the cluster (and may settle it, as any cluster read does) and signs a cluster JWT for the tests.
  'test-runner': { table: clusterState, signs: true, schedules: { creates: ['run-timeout', 'notify'] }, ec2: 'manage', runs: 'start' },
  release: { table: clusterState, schedules: { creates: ['run-timeout', 'notify'] }, ec2: 'manage', runs: 'start' },
  'get-run': { table: authenticated, runs: 'read' },
  'list-runs': { table: authenticated, runs: 'read' },
  'cancel-run': { table: clusterState, schedules: { deletes: true }, runs: 'stop' },
  'run-timeout': { table: clusterState, schedules: { creates: ['notify'] }, runs: 'stop' },
  // console: the device login counts rate limits (and its second step signs the user JWT); the files touch nothing.
  'login-device': { table: authenticated },
  'login-device-token': { table: [...authenticated, 'PutItem'], signs: true },
  console: {},
  'console-file': {},
  // notifications: reads a reminder's item (is it still due?), records an undelivered notification.
  notify: { table: ['GetItem', 'PutItem'], webhookSecret: true },
  // tokens: a token and its owner's pointer are written together; revoking adds to the revocation list.
  'token-create': { table: ['GetItem', 'UpdateItem', 'PutItem', 'Query'] },
  'token-list': { table: ['GetItem', 'UpdateItem', 'Query'] },
  'token-revoke': { table: ['GetItem', 'UpdateItem', 'PutItem', 'Query'] },
  logout: { table: ['GetItem', 'UpdateItem', 'PutItem', 'Query'] },
  // admin: the overview reads the status index (Query, counts included); force-absent deletes the cluster's schedules.
  'admin-overview': { table: authenticated },
  'admin-release-slot': { table: clusterState },
  'admin-force-absent': { table: clusterState, schedules: { deletes: true } },
};
