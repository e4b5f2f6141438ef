import type { Actor } from '../../actor.js';
import type { ClusterState } from '../../domain/clusters.js';
import type { RunState } from '../../domain/runs.js';
import type { WorkbenchState } from '../../domain/workbenches.js';
import type { WorkspaceState } from '../../domain/workspaces.js';
import { reminderOffsets } from '../../domain/notifications.js';
import type { Store } from '../../ports.js';
import { cancelReminders, notify, type NotifyDeps, notifyOnce, scheduleReminders } from './notify.js';

/**
 * What each area tells the webhooks, one function per event, so that a use case adds one line where
 * the event happens (after its state is saved). None of them throws.
 */

/** A scheduled destroy's reminders (24 h and 1 h before), valid while the cluster records `scheduleId` and is not already going. */
export function remindDestroy(deps: NotifyDeps, actor: Actor, name: string, owner: string | undefined, at: Date, scheduleId: string): Promise<void> {
  return scheduleReminders(deps, actor, {
    at,
    offsets: reminderOffsets.destroy,
    field: 'schedule_id',
    value: scheduleId,
    statuses: ['deploying', 'running', 'degraded'],
    notification: (left) => ({
      event: 'expiring',
      kind: 'cluster',
      id: name,
      name,
      ...(owner && { owner }),
      at: at.toISOString(),
      text: `Cluster ${name} will be destroyed in ${left}, at ${at.toISOString()} (its scheduled destroy).`,
      details: { reason: 'scheduled-destroy', in: left },
    }),
  });
}

/** The reminders of a destroy schedule that was moved, cancelled or is done. */
export function forgetDestroy(deps: Pick<NotifyDeps, 'scheduler'>, actor: Actor, name: string, scheduleId: string | undefined): Promise<void> {
  return cancelReminders(deps, actor, { id: name }, scheduleId, reminderOffsets.destroy);
}

export function clusterFailed(deps: NotifyDeps, actor: Actor, state: ClusterState, reason: string): Promise<void> {
  return notify(deps, actor, {
    event: 'failed',
    kind: 'cluster',
    id: state.name,
    name: state.name,
    ...(state.deployed_by && { owner: state.deployed_by }),
    at: deps.clock.now().toISOString(),
    text: `Cluster ${state.name}: the deployment failed: ${reason}`,
    details: { reason, ...(state.deployment_id && { deployment_id: state.deployment_id }) },
  });
}

export function clusterDegraded(deps: NotifyDeps, actor: Actor, state: ClusterState, reason: string): Promise<void> {
  return notify(deps, actor, {
    event: 'degraded',
    kind: 'cluster',
    id: state.name,
    name: state.name,
    ...(state.deployed_by && { owner: state.deployed_by }),
    at: deps.clock.now().toISOString(),
    text: `Cluster ${state.name} is degraded: ${reason}. DEPLOY it again to repair it.`,
    details: { reason, ...(state.deployment_id && { deployment_id: state.deployment_id }) },
  });
}

/** A destroy the backend refuses past its deadline: told once per destroy (deployment), not at every re-armed check. */
export function clusterStuck(deps: NotifyDeps & { store: Store }, actor: Actor, state: ClusterState, reason: string): Promise<void> {
  return notifyOnce(deps, actor, `stuck#cluster#${state.name}#${state.deployment_id ?? ''}`, {
    event: 'stuck',
    kind: 'cluster',
    id: state.name,
    name: state.name,
    ...(state.deployed_by && { owner: state.deployed_by }),
    at: deps.clock.now().toISOString(),
    text: `Cluster ${state.name} is stuck destroying: ${reason}. An operator must look at it.`,
    details: { reason, ...(state.deployment_id && { deployment_id: state.deployment_id }) },
  });
}

/** A workspace's reminder before its notice (the notice timer's earlier firing, under the same id). */
export const earlyNotice = reminderOffsets.workspace[0];

/** The workspace's notice timer fired (24 h, then `expiring_notice`, before its expiry). */
export function workspaceExpiring(deps: NotifyDeps, actor: Actor, state: WorkspaceState, left: string): Promise<void> {
  return notify(deps, actor, {
    event: 'expiring',
    kind: 'workspace',
    id: state.id,
    ...(state.name && { name: state.name }),
    ...(state.owner && { owner: state.owner }),
    ...(state.expires_at && { at: state.expires_at }),
    text: `Workspace ${state.name ?? state.id} expires in ${left}, at ${state.expires_at}; PATCH its expiry to keep it.`,
    details: { in: left },
  });
}

/** A workbench run's reminder 15 min before its auto-stop, valid while the workbench records that run's `stop_id` and is live. */
export function remindAutoStop(deps: NotifyDeps, actor: Actor, state: WorkbenchState, live: readonly string[]): Promise<void> {
  if (!state.stop_id || !state.stops_at) return Promise.resolve();
  const at = new Date(state.stops_at);
  return scheduleReminders(deps, actor, {
    at,
    offsets: reminderOffsets.autoStop,
    field: 'stop_id',
    value: state.stop_id,
    statuses: live,
    notification: (left) => ({
      event: 'expiring',
      kind: 'workbench',
      id: state.id,
      ...(state.name && { name: state.name }),
      ...(state.owner && { owner: state.owner }),
      at: state.stops_at,
      text: `Workbench ${state.name ?? state.id} stops in ${left}, at ${state.stops_at} (its max_runtime); save your work, or start it again after.`,
      details: { reason: 'auto-stop', in: left },
    }),
  });
}

/** The reminders of a run that was stopped, failed or deleted. */
export function forgetAutoStop(deps: Pick<NotifyDeps, 'scheduler'>, actor: Actor, state: WorkbenchState): Promise<void> {
  return cancelReminders(deps, actor, { id: state.id }, state.stop_id, reminderOffsets.autoStop);
}

export function workbenchFailed(deps: NotifyDeps, actor: Actor, state: WorkbenchState, reason: string): Promise<void> {
  return notify(deps, actor, {
    event: 'failed',
    kind: 'workbench',
    id: state.id,
    ...(state.name && { name: state.name }),
    ...(state.owner && { owner: state.owner }),
    at: deps.clock.now().toISOString(),
    text: `Workbench ${state.name ?? state.id} failed: ${reason}`,
    details: { reason },
  });
}

/** A run that failed or ran out of time (a cancelled one was someone's choice). */
export function runFailed(deps: NotifyDeps, actor: Actor, state: RunState): Promise<void> {
  const why = state.status === 'timed_out' ? 'timed out' : 'failed';
  const reason = state.reason ?? (state.failed_step ? `step ${state.failed_step} failed` : why);
  return notify(deps, actor, {
    event: 'failed',
    kind: 'run',
    id: state.id,
    ...(state.created_by && { owner: state.created_by }),
    at: state.finished_at ?? deps.clock.now().toISOString(),
    text: `Run ${state.id}${state.cluster ? ` on ${state.cluster}` : ''} ${why}: ${reason}`,
    details: { status: state.status, reason, ...(state.cluster && { cluster: state.cluster }), ...(state.failed_step && { failed_step: state.failed_step }) },
  });
}
