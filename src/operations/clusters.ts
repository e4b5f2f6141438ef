import { randomBytes, randomUUID } from 'node:crypto';
import { type Catalog, type ClusterEntry, findCluster } from '../domain/catalog.js';
import {
  absentCluster,
  authorizeManage,
  canSee,
  type ClusterRules,
  type ClusterState,
  type ClusterStatus,
  decideCancel,
  decideDeploy,
  decideSchedule,
  type DeployRequest,
} from '../domain/clusters.js';
import { ProvisionerError } from '../domain/errors.js';
import type { Caller } from '../domain/levels.js';
import type { Log } from '../log.js';
import type { ClusterCompute, Scheduler, Store, StoredItem } from '../ports.js';
import type { Clock } from '../domain/clock.js';

/**
 * The cluster use cases. Every state change is one conditional write on (status, version) of the
 * cluster's item, followed by its side effects (compute, schedules) and an audit event; a request
 * that loses a race re-reads and answers from what won.
 */
export interface ClusterDeps {
  store: Store;
  clock: Clock;
  catalog: Catalog;
  scheduler: Scheduler;
  compute: ClusterCompute;
  clusterRules: ClusterRules;
}

export interface Actor {
  /** `github:<login>`, `actions:<repo>`, or `scheduler`. */
  sub: string;
  requestId: string;
  log: Log;
}

const stateKey = (name: string) => ({ pk: `cluster#${name}`, sk: 'state' });
const stateFields = ['status', 'deployment_id', 'nodes', 'cluster_version', 'deployed_by', 'deployed_at', 'deadline', 'destroy_at', 'schedule_id', 'check_id', 'endpoints', 'reason', 'updated_at'] as const;

export function clusterOrThrow(catalog: Catalog, name: string): ClusterEntry {
  const cluster = findCluster(catalog, name);
  if (!cluster) throw new ProvisionerError('cluster_not_found', `No cluster named ${name}; GET /v1/clusters lists them.`);
  return cluster;
}

/** A cluster the caller may not see answers as if it did not exist. */
export function visibleCluster(catalog: Catalog, name: string, caller: Caller): ClusterEntry {
  const cluster = clusterOrThrow(catalog, name);
  if (!canSee(caller, cluster, catalog)) throw new ProvisionerError('cluster_not_found', `No cluster named ${name}; GET /v1/clusters lists them.`);
  return cluster;
}

export async function loadState(store: Store, name: string): Promise<ClusterState> {
  const item = await store.get(stateKey(name));
  if (!item) return absentCluster(name);
  const state: ClusterState = { name, status: item.status as ClusterStatus, version: item.version };
  for (const field of stateFields) if (item[field] !== undefined) (state as unknown as Record<string, unknown>)[field] = item[field];
  return state;
}

/** One conditional write from `state` to `state + changes`; undefined when another request changed it first. */
async function apply(deps: ClusterDeps, state: ClusterState, changes: Partial<Record<(typeof stateFields)[number] | 'gsi1pk' | 'gsi1sk', unknown>>): Promise<ClusterState | undefined> {
  const updated_at = deps.clock.now().toISOString();
  if (state.version === 0) {
    const item = { ...stateKey(state.name), name: state.name, ...changes, updated_at };
    if (!(await deps.store.createIfAbsent(item))) return undefined;
    return loadState(deps.store, state.name);
  }
  const written = await deps.store.transition(stateKey(state.name), { version: state.version, status: state.status }, { ...changes, updated_at });
  return written ? loadState(deps.store, state.name) : undefined;
}

/** Appends the audit event of the transition that produced `after`; its version orders the trail. */
async function audit(deps: ClusterDeps, actor: Actor, after: ClusterState, action: string, from: ClusterStatus, details?: Record<string, unknown>) {
  const time = deps.clock.now().toISOString();
  const { name, status: to } = after;
  await deps.store.createIfAbsent({
    pk: `cluster#${name}`,
    sk: `event#${String(after.version).padStart(12, '0')}`,
    actor: actor.sub,
    action,
    from,
    to,
    time,
    request_id: actor.requestId,
    ...(details && { details }),
  });
  actor.log.info('cluster event', { cluster: name, action, from, to, actor: actor.sub });
}

const shortId = () => randomBytes(6).toString('hex');
const scheduleName = (purpose: 'destroy' | 'check', cluster: string, id: string) => `${purpose}-${cluster.slice(0, 40)}-${id}`;

/** The API's view of a cluster. */
export function clusterView(cluster: ClusterEntry, state: ClusterState) {
  return {
    name: cluster.name,
    visibility: cluster.visibility,
    status: state.status,
    nodes: state.nodes ?? 0,
    version: state.cluster_version ?? null,
    deployed_by: state.deployed_by ?? null,
    destroy_at: state.destroy_at ?? null,
    deadline: state.deadline ?? null,
    endpoints: state.endpoints ?? [],
    reason: state.reason ?? null,
    updated_at: state.updated_at ?? null,
  };
}

/** Deploying clusters of this caller now counted against their `max_deployments`. */
async function activeDeployments(store: Store, sub: string): Promise<number> {
  const { items } = await store.query({ index: 'gsi1', partition: `deployer#${sub}`, limit: 100 });
  return items.filter((item: StoredItem) => item.status === 'deploying' || item.status === 'running').length;
}

/** DEPLOY. Returns the cluster as this request left it (or found it, when another request won). */
export async function deployCluster(deps: ClusterDeps, caller: Caller, actor: Actor, name: string, request: DeployRequest): Promise<ClusterState> {
  const cluster = clusterOrThrow(deps.catalog, name);
  authorizeManage(caller, cluster, deps.catalog);
  for (;;) {
    const state = await refresh(deps, actor, cluster, await loadState(deps.store, name));
    const now = deps.clock.now();
    // Only a new deployment by someone with limits needs their count of active ones.
    const counted = state.status !== 'running' && state.status !== 'deploying' && caller.level !== 'administrator';
    const active = counted ? await activeDeployments(deps.store, caller.sub) : 0;
    const decision = decideDeploy(state, request, caller, cluster, deps.catalog, active, now, deps.clusterRules);
    if (decision.kind !== 'start') return state;
    const deploymentId = randomUUID();
    const checkId = shortId();
    const scheduleId = decision.destroyAt ? shortId() : undefined;
    const started = await apply(deps, state, {
      status: 'deploying',
      deployment_id: deploymentId,
      nodes: decision.nodes,
      cluster_version: decision.version,
      deployed_by: caller.sub,
      deployed_at: now.toISOString(),
      deadline: new Date(now.getTime() + deps.clusterRules.operationTimeoutMs).toISOString(),
      destroy_at: decision.destroyAt?.toISOString(),
      schedule_id: scheduleId,
      check_id: checkId,
      endpoints: undefined,
      reason: undefined,
      gsi1pk: `deployer#${caller.sub}`,
      gsi1sk: name,
    });
    if (!started) continue; // another request changed the cluster first: answer from what it did
    await audit(deps, actor, started, 'deploy', state.status, { nodes: decision.nodes, version: decision.version, deployment_id: deploymentId });
    await deps.scheduler.schedule({ name: scheduleName('check', name, checkId), at: new Date(started.deadline ?? now), target: 'check-deadline', payload: { cluster: name, check_id: checkId } });
    if (decision.destroyAt && scheduleId) {
      await deps.scheduler.schedule({ name: scheduleName('destroy', name, scheduleId), at: decision.destroyAt, target: 'destroy', payload: { cluster: name, schedule_id: scheduleId } });
    }
    try {
      await deps.compute.deploy({ cluster, deploymentId, nodes: decision.nodes, version: decision.version });
    } catch (error) {
      await fail(deps, actor, cluster, started, `the backend refused the deployment: ${(error as Error).message}`);
      throw error instanceof ProvisionerError ? error : new ProvisionerError('backend_unavailable', `The ${cluster.backend.kind} backend could not start ${name}; retry shortly.`);
    }
    return started;
  }
}

/** DESTROY, from the API or a schedule. Absent stays absent; anything else starts (or continues) a destroy. */
export async function destroyCluster(deps: ClusterDeps, actor: Actor, cluster: ClusterEntry): Promise<ClusterState> {
  for (;;) {
    const state = await loadState(deps.store, cluster.name);
    if (state.status === 'absent' || state.status === 'destroying') return state;
    const now = deps.clock.now();
    const checkId = shortId();
    const destroying = await apply(deps, state, {
      status: 'destroying',
      deadline: new Date(now.getTime() + deps.clusterRules.operationTimeoutMs).toISOString(),
      destroy_at: undefined,
      schedule_id: undefined,
      check_id: checkId,
      gsi1pk: undefined,
      gsi1sk: undefined,
    });
    if (!destroying) continue;
    await audit(deps, actor, destroying, 'destroy', state.status);
    await removeSchedules(deps, cluster.name, state);
    await deps.scheduler.schedule({ name: scheduleName('check', cluster.name, checkId), at: new Date(destroying.deadline ?? now), target: 'check-deadline', payload: { cluster: cluster.name, check_id: checkId } });
    if (state.deployment_id) await deps.compute.destroy({ cluster, deploymentId: state.deployment_id });
    return refresh(deps, actor, cluster, destroying);
  }
}

/** A schedule fired: destroy only if it is still the cluster's current schedule. */
export async function scheduledDestroy(deps: ClusterDeps, actor: Actor, clusterName: string, scheduleId: string): Promise<'destroyed' | 'stale'> {
  const cluster = clusterOrThrow(deps.catalog, clusterName);
  const state = await loadState(deps.store, clusterName);
  if (state.schedule_id !== scheduleId) {
    actor.log.info('replaced schedule fired; nothing to do', { cluster: clusterName, schedule_id: scheduleId });
    return 'stale';
  }
  await destroyCluster(deps, actor, cluster);
  return 'destroyed';
}

/** SCHEDULE_DESTROY: replace (or set) the destroy schedule, unless it is locked. */
export async function scheduleDestroy(deps: ClusterDeps, caller: Caller, actor: Actor, name: string, at: Date): Promise<ClusterState> {
  const cluster = clusterOrThrow(deps.catalog, name);
  authorizeManage(caller, cluster, deps.catalog);
  for (;;) {
    const state = await loadState(deps.store, name);
    decideSchedule(state, at, caller, deps.catalog, deps.clock.now(), deps.clusterRules);
    const scheduleId = shortId();
    // The new schedule exists before the state points at it; the old one is removed after.
    await deps.scheduler.schedule({ name: scheduleName('destroy', name, scheduleId), at, target: 'destroy', payload: { cluster: name, schedule_id: scheduleId } });
    const updated = await apply(deps, state, { destroy_at: at.toISOString(), schedule_id: scheduleId });
    if (!updated) {
      await deps.scheduler.cancel(scheduleName('destroy', name, scheduleId));
      continue;
    }
    if (state.schedule_id) await deps.scheduler.cancel(scheduleName('destroy', name, state.schedule_id));
    await audit(deps, actor, updated, state.destroy_at ? 'reschedule-destroy' : 'schedule-destroy', state.status, { destroy_at: updated.destroy_at });
    return updated;
  }
}

/** Cancels the destroy schedule, under the same lock. */
export async function cancelDestroy(deps: ClusterDeps, caller: Caller, actor: Actor, name: string): Promise<ClusterState> {
  const cluster = clusterOrThrow(deps.catalog, name);
  authorizeManage(caller, cluster, deps.catalog);
  for (;;) {
    const state = await loadState(deps.store, name);
    decideCancel(state, caller, deps.catalog, deps.clock.now(), deps.clusterRules);
    if (!state.schedule_id) return state;
    const updated = await apply(deps, state, { destroy_at: undefined, schedule_id: undefined });
    if (!updated) continue;
    await deps.scheduler.cancel(scheduleName('destroy', name, state.schedule_id));
    await audit(deps, actor, updated, 'cancel-destroy', state.status);
    return updated;
  }
}

/**
 * Progress, found by asking the backend (on a read, or at the deadline check): deploying becomes
 * running, or failed past its deadline (and is cleaned up); destroying becomes absent, or failed.
 */
export async function refresh(deps: ClusterDeps, actor: Actor, cluster: ClusterEntry, state: ClusterState): Promise<ClusterState> {
  if (state.status !== 'deploying' && state.status !== 'destroying') return state;
  const status = state.deployment_id ? await deps.compute.status({ cluster, deploymentId: state.deployment_id }) : { state: 'gone' as const, endpoints: [] };
  const pastDeadline = state.deadline !== undefined && deps.clock.now().getTime() >= Date.parse(state.deadline);
  if (state.status === 'deploying') {
    if (status.state === 'running') {
      const running = await apply(deps, state, { status: 'running', deadline: undefined, endpoints: status.endpoints });
      if (!running) return loadState(deps.store, cluster.name);
      await audit(deps, actor, running, 'running', 'deploying', { endpoints: status.endpoints });
      if (state.check_id) await deps.scheduler.cancel(scheduleName('check', cluster.name, state.check_id));
      return running;
    }
    // 'gone' while deploying means not started yet (the backend call may still be on its way).
    if (status.state === 'failed' || pastDeadline) {
      const reason = pastDeadline ? `not running by its deadline ${state.deadline}` : (status.reason ?? `the backend reports ${status.state}`);
      return fail(deps, actor, cluster, state, reason);
    }
    return state;
  }
  if (status.state === 'gone') {
    const absent = await apply(deps, state, {
      status: 'absent',
      deployment_id: undefined,
      nodes: undefined,
      cluster_version: undefined,
      deployed_by: undefined,
      deployed_at: undefined,
      deadline: undefined,
      endpoints: undefined,
      check_id: undefined,
      reason: undefined,
    });
    if (!absent) return loadState(deps.store, cluster.name);
    await audit(deps, actor, absent, 'absent', 'destroying');
    if (state.check_id) await deps.scheduler.cancel(scheduleName('check', cluster.name, state.check_id));
    return absent;
  }
  if (pastDeadline) return fail(deps, actor, cluster, state, `not gone by its deadline ${state.deadline}`);
  return state;
}

/** Marks a deployment failed with its reason and removes what it left behind. */
async function fail(deps: ClusterDeps, actor: Actor, cluster: ClusterEntry, state: ClusterState, reason: string): Promise<ClusterState> {
  const failed = await apply(deps, state, { status: 'failed', reason, deadline: undefined, destroy_at: undefined, schedule_id: undefined, check_id: undefined, gsi1pk: undefined, gsi1sk: undefined });
  if (!failed) return loadState(deps.store, cluster.name);
  await audit(deps, actor, failed, 'failed', state.status, { reason });
  await removeSchedules(deps, cluster.name, state);
  if (state.deployment_id) await deps.compute.destroy({ cluster, deploymentId: state.deployment_id });
  return failed;
}

async function removeSchedules(deps: ClusterDeps, name: string, state: ClusterState): Promise<void> {
  await Promise.all([
    state.schedule_id ? deps.scheduler.cancel(scheduleName('destroy', name, state.schedule_id)) : undefined,
    state.check_id ? deps.scheduler.cancel(scheduleName('check', name, state.check_id)) : undefined,
  ]);
}

/** The one-time check at a deadline: only the check the cluster still expects does anything. */
export async function checkDeadline(deps: ClusterDeps, actor: Actor, clusterName: string, checkId: string): Promise<ClusterState> {
  const cluster = clusterOrThrow(deps.catalog, clusterName);
  const state = await loadState(deps.store, clusterName);
  if (state.check_id !== checkId) return state;
  return refresh(deps, actor, cluster, state);
}
