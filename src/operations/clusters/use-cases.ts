import { randomBytes, randomUUID } from 'node:crypto';
import type { Actor } from '../../actor.js';
import type { Catalog, ClusterEntry } from '../../domain/catalog.js';
import type { Clock } from '../../domain/clock.js';
import {
  absentCluster,
  type ClusterRules,
  type ClusterState,
  clusterNamed,
  clusterStatuses,
  decideCancel,
  decideDeploy,
  decideSchedule,
  type DeployRequest,
  deploymentLimitReached,
  driftDegrades,
  manageableCluster,
} from '../../domain/clusters.js';
import { ProvisionerError } from '../../domain/errors.js';
import { forEachLimited, janitorConcurrency } from '../../concurrency.js';
import { operationDuration } from '../../metrics.js';
import { systemCaller } from '../../domain/levels.js';
import type { ClusterCompute, MachineOwners, Scheduler, Store, SweptDeployment } from '../../ports.js';
import { type Change, Entities, type EntityType, type Step } from '../../store/entity.js';
import { deploymentSlotsKey } from '../../store/keys.js';
import { earlyFiringMs } from '../../domain/clock.js';
import { once } from '../../once.js';
import * as z from '../../zod.js';
// notifications
import { clusterDegraded, clusterFailed, clusterStuck, forgetDestroy, remindDestroy } from '../notifications/events.js';

/**
 * The cluster use cases: the seed's DEPLOY, SCHEDULE_DESTROY and DESTROY over narrow ports. Each
 * state change is one conditional write of the cluster (with its audit event), followed by its side
 * effects (compute, schedules); a request that loses a race decides again on what won.
 */
export interface ClusterDeps {
  store: Store;
  clock: Clock;
  catalog: Catalog;
  scheduler: Scheduler;
  compute: ClusterCompute;
  clusterRules: ClusterRules;
}

/** How a cluster's head item is stored: the state's fields, checked on every read. */
const clusterEntity: EntityType<ClusterState> = {
  kind: 'cluster',
  initial: absentCluster,
  fields: once(() =>
    z.object({
      name: z.string(),
      status: z.enum(clusterStatuses),
      deployment_id: z.optional(z.string()),
      nodes: z.optional(z.number()),
      cluster_version: z.optional(z.string()),
      deployed_by: z.optional(z.string()),
      deployed_at: z.optional(z.string()),
      deadline: z.optional(z.string()),
      destroy_at: z.optional(z.string()),
      destroying_since: z.optional(z.string()),
      schedule_id: z.optional(z.string()),
      check_id: z.optional(z.string()),
      repair_id: z.optional(z.string()),
      endpoints: z.optional(z.array(z.string())),
      reason: z.optional(z.string()),
      updated_at: z.optional(z.string()),
    }),
  ),
};

/** The clusters' entity store for one use case. */
export const clustersOf = (deps: Pick<ClusterDeps, 'store' | 'clock'>) => new Entities(deps.store, clusterEntity, deps.clock);
type Clusters = ReturnType<typeof clustersOf>;

/** The fields a change may set. */
type ClusterChange = Partial<Record<keyof Omit<ClusterState, 'version'>, unknown>>;

function change(actor: Actor, action: string, set: ClusterChange, details?: Record<string, unknown>): Change {
  return { set, action, author: { sub: actor.caller.sub, requestId: actor.requestId }, ...(details && { details }) };
}

/** What a cluster keeps of its deployment once it is absent: nothing. */
const absentChange = (): ClusterChange => ({
  status: 'absent',
  deployment_id: undefined,
  nodes: undefined,
  cluster_version: undefined,
  deployed_by: undefined,
  deployed_at: undefined,
  deadline: undefined,
  destroy_at: undefined,
  destroying_since: undefined,
  schedule_id: undefined,
  endpoints: undefined,
  check_id: undefined,
  repair_id: undefined,
  reason: undefined,
});

/** Logs a change once it is written: the one line per transition an operator reads. */
function logged(actor: Actor, written: ClusterState, from: ClusterState, action: string): ClusterState {
  actor.log.info('cluster event', { cluster: written.name, action, from: from.status, to: written.status, actor: actor.caller.sub });
  return written;
}

/** Progress found while answering a read is Provisioner's doing, not the reader's. */
const asSystem = (actor: Actor): Actor => ({ ...actor, caller: systemCaller('system') });

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

/** A cluster as it is now: its stored state, brought up to date by asking the backend if it is on its way. */
export async function readCluster(deps: ClusterDeps, actor: Actor, cluster: ClusterEntry): Promise<ClusterState> {
  const clusters = clustersOf(deps);
  const stored = await clusters.load(cluster.name);
  try {
    return await refresh(deps, clusters, asSystem(actor), cluster, stored);
  } catch (error) {
    // A failing backend or scheduler never fails a read: it answers what the store holds (a later read records the progress).
    if (!(error instanceof ProvisionerError) || error.status !== 503) throw error;
    actor.log.warn('progress not checked: a dependency failed', { cluster: cluster.name, code: error.code });
    return clusters.load(cluster.name);
  }
}

/** The statuses in which a deployment holds one of its deployer's `max_deployments` slots: until its resources are gone. */
const holdsSlot = (state: ClusterState, sub: string) =>
  state.deployed_by === sub && (state.status === 'deploying' || state.status === 'running' || state.status === 'degraded' || state.status === 'destroying');

/**
 * Claims one of the caller's deployment slots for this cluster (one conditional write, so parallel
 * deploys across clusters never exceed the limit). When full, slots whose cluster the caller no
 * longer holds — claimed longer ago than a deploy takes, so not a request still on its way: a crash
 * between a deployment's end and its release — are freed and the claim retried.
 */
async function claimSlot(deps: ClusterDeps, clusters: Clusters, sub: string, name: string, max: number) {
  const key = deploymentSlotsKey(sub);
  const now = deps.clock.now();
  let claim = await deps.store.claim(key, name, max, now);
  if (claim.won) return claim;
  const settledBefore = now.getTime() - deps.clusterRules.operationTimeoutMs;
  const stale = [];
  for (const [other, claimedAt] of Object.entries(claim.members)) {
    if (Date.parse(claimedAt) < settledBefore && !holdsSlot(await clusters.load(other), sub)) stale.push(other);
  }
  if (stale.length > 0) {
    await Promise.all(stale.map((other) => deps.store.release(key, other)));
    claim = await deps.store.claim(key, name, max, now);
  }
  if (!claim.won) throw deploymentLimitReached(max);
  return claim;
}

/** Gives back a slot this request claimed, unless the cluster as stored now holds it. */
async function releaseUnheld(deps: ClusterDeps, clusters: Clusters, sub: string, name: string): Promise<void> {
  if (!holdsSlot(await clusters.load(name), sub)) await deps.store.release(deploymentSlotsKey(sub), name);
}

/** A deployment that ended gives its deployer's slot back. */
async function releaseSlot(deps: Pick<ClusterDeps, 'store'>, state: ClusterState): Promise<void> {
  if (state.deployed_by) await deps.store.release(deploymentSlotsKey(state.deployed_by), state.name);
}

/** DEPLOY. Returns the cluster as this request left it (or found it, when another request won). */
export async function deployCluster(deps: ClusterDeps, actor: Actor, name: string, request: DeployRequest): Promise<ClusterState> {
  const { caller } = actor;
  const cluster = manageableCluster(deps.catalog, name, caller);
  const clusters = clustersOf(deps);
  let claimed = false;
  const deployed = clusters.update<ClusterState>(name, async (loaded) => {
    const state = await refresh(deps, clusters, asSystem(actor), cluster, loaded);
    const now = deps.clock.now();
    const decision = decideDeploy(state, request, caller, cluster, deps.catalog, now, deps.clusterRules);
    if (decision.kind === 'repair') return repair(deps, clusters, actor, cluster, state, decision);
    if (decision.kind !== 'start') {
      // A slot claimed by an attempt that lost the race, for a deployment that is not the caller's.
      if (claimed && !holdsSlot(state, caller.sub)) await deps.store.release(deploymentSlotsKey(caller.sub), name);
      return { done: state };
    }
    if (decision.maxDeployments !== undefined) claimed = Boolean(await claimSlot(deps, clusters, caller.sub, name, decision.maxDeployments));
    const deploymentId = randomUUID();
    const checkId = shortId();
    const scheduleId = decision.destroyAt ? shortId() : undefined;
    const deadline = new Date(now.getTime() + deps.clusterRules.operationTimeoutMs);
    const set: ClusterChange = {
      name,
      status: 'deploying',
      deployment_id: deploymentId,
      nodes: decision.nodes,
      cluster_version: decision.version,
      deployed_by: caller.sub,
      deployed_at: now.toISOString(),
      deadline: deadline.toISOString(),
      destroy_at: decision.destroyAt?.toISOString(),
      schedule_id: scheduleId,
      check_id: checkId,
      repair_id: undefined,
      endpoints: undefined,
      reason: undefined,
    };
    // The schedules exist before the state points at them, so a crash after the write still has its
    // deadline check (and its destroy); a crash before it leaves stale schedules that do nothing.
    const checkName = scheduleName('check', name, checkId);
    const destroyName = scheduleId && scheduleName('destroy', name, scheduleId);
    await deps.scheduler.schedule({ name: checkName, at: deadline, target: 'check-deadline', payload: { cluster: name, check_id: checkId } });
    if (decision.destroyAt && scheduleId && destroyName) {
      await deps.scheduler.schedule({ name: destroyName, at: decision.destroyAt, target: 'destroy', payload: { cluster: name, schedule_id: scheduleId } });
    }
    return {
      from: state,
      change: change(actor, 'deploy', set, { nodes: decision.nodes, version: decision.version, deployment_id: deploymentId }),
      lost: async () => {
        await Promise.all([
          deps.scheduler.cancel(checkName),
          destroyName ? deps.scheduler.cancel(destroyName) : undefined,
        ]);
      },
      after: async (started) => {
        logged(actor, started, state, 'deploy');
        if (decision.destroyAt && scheduleId) await remindDestroy(deps, actor, name, caller.sub, decision.destroyAt, scheduleId);
        try {
          await deps.compute.deploy({ cluster, deploymentId, nodes: decision.nodes, version: decision.version });
        } catch (error) {
          await fail(deps, clusters, actor, cluster, started, `the backend refused the deployment: ${(error as Error).message}`);
          throw error instanceof ProvisionerError ? error : new ProvisionerError('backend_unavailable', `The ${cluster.backend.kind} backend could not start ${name}; retry shortly.`);
        }
        return started;
      },
    };
  });
  // A deploy that failed before its state was written gives back the slot it claimed (the store permitting).
  return deployed.catch(async (error: unknown) => {
    if (claimed) await releaseUnheld(deps, clusters, caller.sub, name).catch(() => undefined);
    throw error;
  });
}

/**
 * DEPLOY of a degraded cluster: the same deployment goes back to deploying, with a new deadline
 * check, and the backend starts the nodes it lost (its slot, schedules and deployer stay).
 */
async function repair(
  deps: ClusterDeps,
  clusters: Clusters,
  actor: Actor,
  cluster: ClusterEntry,
  state: ClusterState,
  decision: { nodes: number; version: string },
): Promise<Step<ClusterState, ClusterState>> {
  const deploymentId = state.deployment_id ?? '';
  const checkId = shortId();
  const deadline = new Date(deps.clock.now().getTime() + deps.clusterRules.operationTimeoutMs);
  const checkName = scheduleName('check', cluster.name, checkId);
  await deps.scheduler.schedule({ name: checkName, at: deadline, target: 'check-deadline', payload: { cluster: cluster.name, check_id: checkId } });
  const set: ClusterChange = { status: 'deploying', deadline: deadline.toISOString(), check_id: checkId, repair_id: checkId, reason: undefined };
  return {
    from: state,
    change: change(actor, 'repair', set, { deployment_id: deploymentId, nodes: decision.nodes, version: decision.version, reason: state.reason }),
    lost: () => deps.scheduler.cancel(checkName),
    after: async (repairing) => {
      logged(actor, repairing, state, 'repair');
      try {
        await deps.compute.deploy({ cluster, deploymentId, nodes: decision.nodes, version: decision.version, repair: checkId });
      } catch (error) {
        // The nodes still serving are kept: the cluster goes back to degraded, and DEPLOY may try again.
        const reason = `the backend refused the repair: ${(error as Error).message}`;
        const undo: ClusterChange = { status: 'degraded', deadline: undefined, check_id: undefined, repair_id: undefined, reason };
        const degraded = await clusters.commit(cluster.name, repairing, change(actor, 'repair-refused', undo, { reason }));
        if (degraded) {
          logged(actor, degraded, repairing, 'repair-refused');
          await deps.scheduler.cancel(checkName);
        }
        throw error instanceof ProvisionerError ? error : new ProvisionerError('backend_unavailable', `The ${cluster.backend.kind} backend could not repair ${cluster.name}; it stays degraded: retry shortly.`);
      }
      return repairing;
    },
  };
}

/** DESTROY from the API: the caller must be allowed to manage the cluster. */
export async function destroyCluster(deps: ClusterDeps, actor: Actor, name: string): Promise<ClusterState> {
  return destroy(deps, clustersOf(deps), actor, manageableCluster(deps.catalog, name, actor.caller));
}

/**
 * The seed's DESTROY, in its order: destroy, wait for the resources to be gone, then remove the
 * schedules. Absent stays absent; destroying is driven again; anything else becomes destroying
 * with a deadline check, keeping its slot and its destroy schedule until the backend reports it gone.
 */
async function destroy(deps: ClusterDeps, clusters: Clusters, actor: Actor, cluster: ClusterEntry, loaded?: ClusterState): Promise<ClusterState> {
  return clusters.update<ClusterState>(
    cluster.name,
    async (state) => {
      if (state.status === 'absent') return { done: state };
      if (state.status === 'destroying') return { done: await driveDestroy(deps, clusters, actor, cluster, state) };
      const checkId = shortId();
      const deadline = new Date(deps.clock.now().getTime() + deps.clusterRules.operationTimeoutMs);
      const set: ClusterChange = { status: 'destroying', destroying_since: deps.clock.now().toISOString(), deadline: deadline.toISOString(), check_id: checkId, repair_id: undefined, reason: undefined };
      const checkName = scheduleName('check', cluster.name, checkId);
      await deps.scheduler.schedule({ name: checkName, at: deadline, target: 'check-deadline', payload: { cluster: cluster.name, check_id: checkId } });
      return {
        from: state,
        change: change(actor, 'destroy', set),
        lost: () => deps.scheduler.cancel(checkName),
        after: async (destroying) => {
          logged(actor, destroying, state, 'destroy');
          // A deploy's deadline check is replaced by the destroy's (it would find a stale id anyway).
          if (state.check_id) await deps.scheduler.cancel(scheduleName('check', cluster.name, state.check_id));
          return driveDestroy(deps, clusters, actor, cluster, destroying);
        },
      };
    },
    loaded,
  );
}

/**
 * Asks the backend to remove a destroying cluster's deployment (idempotent), then records what it
 * finds. A refusal is recorded as the reason, the cluster stays destroying (its deadline check
 * retries), and the caller gets a 503.
 */
async function driveDestroy(deps: ClusterDeps, clusters: Clusters, actor: Actor, cluster: ClusterEntry, state: ClusterState): Promise<ClusterState> {
  if (state.deployment_id) {
    try {
      await deps.compute.destroy({ cluster, deploymentId: state.deployment_id });
    } catch (error) {
      const reason = `the backend refused the destroy: ${(error as Error).message}; retried by ${state.deadline}`;
      actor.log.warn('destroy refused', { cluster: cluster.name, reason });
      const written = await clusters.commit(cluster.name, state, change(actor, 'destroy-refused', { reason }, { reason }));
      if (written) logged(actor, written, state, 'destroy-refused');
      // An AWS service throttling or failing keeps its own code (and Retry-After) for the caller.
      if (error instanceof ProvisionerError && error.code === 'dependency_unavailable') throw error;
      throw new ProvisionerError('backend_unavailable', `The ${cluster.backend.kind} backend could not destroy ${cluster.name} now; it stays destroying and is retried by ${state.deadline}.`, undefined, {
        'retry-after': '30',
      });
    }
  }
  return refresh(deps, clusters, actor, cluster, state);
}

/**
 * A destroy schedule fired: destroy only if it is still the cluster's current schedule. Its id, not
 * the clock, decides, so a firing up to a minute before its time (Scheduler's precision) is due.
 */
export async function scheduledDestroy(deps: ClusterDeps, actor: Actor, clusterName: string, scheduleId: string): Promise<'destroyed' | 'stale'> {
  const cluster = clusterNamed(deps.catalog, clusterName);
  const clusters = clustersOf(deps);
  const state = await clusters.load(clusterName);
  if (state.schedule_id !== scheduleId) {
    actor.log.info('replaced schedule fired; nothing to do', { cluster: clusterName, schedule_id: scheduleId });
    return 'stale';
  }
  await destroy(deps, clusters, actor, cluster, state);
  return 'destroyed';
}

/** SCHEDULE_DESTROY: replace (or set) the destroy schedule, unless it is locked. */
export async function scheduleDestroy(deps: ClusterDeps, actor: Actor, name: string, at: Date): Promise<ClusterState> {
  manageableCluster(deps.catalog, name, actor.caller);
  return clustersOf(deps).update<ClusterState>(name, async (state) => {
    decideSchedule(state, at, actor.caller, deps.catalog, deps.clock.now(), deps.clusterRules);
    const scheduleId = shortId();
    const next = scheduleName('destroy', name, scheduleId);
    // The new schedule exists before the state points at it; the old one is removed after.
    await deps.scheduler.schedule({ name: next, at, target: 'destroy', payload: { cluster: name, schedule_id: scheduleId } });
    const action = state.destroy_at ? 'reschedule-destroy' : 'schedule-destroy';
    return {
      from: state,
      change: change(actor, action, { destroy_at: at.toISOString(), schedule_id: scheduleId }, { destroy_at: at.toISOString() }),
      after: async (updated) => {
        if (state.schedule_id) await deps.scheduler.cancel(scheduleName('destroy', name, state.schedule_id));
        await forgetDestroy(deps, actor, name, state.schedule_id);
        await remindDestroy(deps, actor, name, updated.deployed_by, at, scheduleId);
        return logged(actor, updated, state, action);
      },
      lost: () => deps.scheduler.cancel(next),
    };
  });
}

/** Cancels the destroy schedule, under the same lock. */
export async function cancelDestroy(deps: ClusterDeps, actor: Actor, name: string): Promise<ClusterState> {
  manageableCluster(deps.catalog, name, actor.caller);
  return clustersOf(deps).update<ClusterState>(name, async (state) => {
    decideCancel(state, actor.caller, deps.catalog, deps.clock.now(), deps.clusterRules);
    const scheduleId = state.schedule_id;
    if (!scheduleId) return { done: state };
    return {
      from: state,
      change: change(actor, 'cancel-destroy', { destroy_at: undefined, schedule_id: undefined }),
      after: async (updated) => {
        await deps.scheduler.cancel(scheduleName('destroy', name, scheduleId));
        await forgetDestroy(deps, actor, name, scheduleId);
        return logged(actor, updated, state, 'cancel-destroy');
      },
    };
  });
}

/**
 * Progress, found by asking the backend (on a read, or at the deadline check): deploying becomes
 * running, or failed past its deadline (and is cleaned up); destroying becomes absent once gone, or
 * is driven again past its deadline; running becomes degraded on a backend that reports drift on read.
 * `dueEarlyMs`: how long before the deadline it already counts as passed (a scheduled check may fire early).
 */
async function refresh(deps: ClusterDeps, clusters: Clusters, actor: Actor, cluster: ClusterEntry, state: ClusterState, dueEarlyMs = 0): Promise<ClusterState> {
  if (state.status === 'running') return deps.compute.driftOnRead ? checkDrift(deps, clusters, actor, cluster, state) : state;
  if (state.status !== 'deploying' && state.status !== 'destroying') return state;
  const expected = state.status === 'deploying' && state.repair_id && { nodes: state.nodes ?? 1 };
  const status = state.deployment_id ? await deps.compute.status({ cluster, deploymentId: state.deployment_id, ...expected }) : { state: 'gone' as const, endpoints: [] };
  const pastDeadline = state.deadline !== undefined && deps.clock.now().getTime() + dueEarlyMs >= Date.parse(state.deadline);
  const settle = async (action: string, set: ClusterChange, details?: Record<string, unknown>) => {
    const written = await clusters.commit(cluster.name, state, change(actor, action, set, details));
    if (!written) return clusters.load(cluster.name);
    logged(actor, written, state, action);
    if (written.status === 'running' && !state.repair_id) operationDuration('deploy', state.deployed_at, deps.clock.now(), 'running');
    if (written.status === 'absent') operationDuration('destroy', state.destroying_since, deps.clock.now(), 'absent');
    // Gone: only now are the schedules removed and the slot given back.
    await Promise.all([
      state.check_id ? deps.scheduler.cancel(scheduleName('check', cluster.name, state.check_id)) : undefined,
      written.status === 'absent' && state.schedule_id ? deps.scheduler.cancel(scheduleName('destroy', cluster.name, state.schedule_id)) : undefined,
      written.status === 'absent' ? releaseSlot(deps, state) : undefined,
      written.status === 'absent' ? forgetDestroy(deps, actor, cluster.name, state.schedule_id) : undefined,
      written.status === 'degraded' ? clusterDegraded(deps, actor, written, String(set.reason)) : undefined,
    ]);
    return written;
  };
  if (state.status === 'deploying') {
    if (status.state === 'running') return settle('running', { status: 'running', deadline: undefined, repair_id: undefined, endpoints: status.endpoints }, { endpoints: status.endpoints });
    // 'gone' while deploying means not started yet (the backend call may still be on its way); a
    // repair's backend reports the lost node until its work lands, so only its deadline fails it.
    if (state.repair_id && pastDeadline) {
      // A repair that did not land keeps what still serves: degraded again, for another DEPLOY or a destroy.
      const reason = `the repair was not done by its deadline ${state.deadline}${status.reason ? `: ${status.reason}` : ''}`;
      return settle('repair-late', { status: 'degraded', deadline: undefined, check_id: undefined, repair_id: undefined, reason }, { reason });
    }
    if (((status.state === 'failed' || status.state === 'degraded') && !state.repair_id) || pastDeadline) {
      const reason = pastDeadline ? `not running by its deadline ${state.deadline}` : (status.reason ?? `the backend reports ${status.state}`);
      return fail(deps, clusters, actor, cluster, state, reason);
    }
    return state;
  }
  if (status.state === 'gone') {
    return settle('absent', absentChange());
  }
  if (pastDeadline) return retryDestroy(deps, clusters, actor, cluster, state);
  return state;
}

/**
 * A destroy not done by its deadline stays destroying (still counted, its destroy schedule kept)
 * with the reason, and is driven again under a new deadline check, until the backend reports it gone.
 */
async function retryDestroy(deps: ClusterDeps, clusters: Clusters, actor: Actor, cluster: ClusterEntry, state: ClusterState): Promise<ClusterState> {
  const checkId = shortId();
  const deadline = new Date(deps.clock.now().getTime() + deps.clusterRules.operationTimeoutMs);
  const checkName = scheduleName('check', cluster.name, checkId);
  const reason = `not gone by its deadline ${state.deadline}; destroying again until ${deadline.toISOString()}`;
  await deps.scheduler.schedule({ name: checkName, at: deadline, target: 'check-deadline', payload: { cluster: cluster.name, check_id: checkId } });
  const written = await clusters.commit(cluster.name, state, change(actor, 'destroy-retry', { deadline: deadline.toISOString(), check_id: checkId, reason }, { reason }));
  if (!written) {
    await deps.scheduler.cancel(checkName);
    return clusters.load(cluster.name);
  }
  logged(actor, written, state, 'destroy-retry');
  const [, refused] = await Promise.all([
    state.check_id ? deps.scheduler.cancel(scheduleName('check', cluster.name, state.check_id)) : undefined,
    state.deployment_id
      ? deps.compute.destroy({ cluster, deploymentId: state.deployment_id }).then(
          () => undefined,
          (error: unknown) => (error as Error).message,
        )
      : undefined,
  ]);
  if (refused === undefined) return written;
  // The next check retries; the reason says why it is not gone, for the caller and the operator.
  actor.log.warn('destroy retry refused', { cluster: cluster.name, error: refused });
  const why = `${reason}; the backend refused the destroy: ${refused}`;
  const recorded = await clusters.commit(cluster.name, written, change(actor, 'destroy-refused', { reason: why }, { reason: why }));
  await clusterStuck(deps, actor, recorded ?? written, why);
  return recorded ? logged(actor, recorded, written, 'destroy-refused') : clusters.load(cluster.name);
}

/** A read of a running cluster on a backend that reports drift on read: a lost node makes it degraded. */
async function checkDrift(deps: ClusterDeps, clusters: Clusters, actor: Actor, cluster: ClusterEntry, state: ClusterState): Promise<ClusterState> {
  if (!state.deployment_id) return state;
  const status = await deps.compute.status({ cluster, deploymentId: state.deployment_id });
  if (status.state === 'running' || status.state === 'pending') return state;
  const reason = status.reason ?? (status.state === 'gone' ? 'every node is gone' : `the backend reports ${status.state}`);
  return degrade(deps, clusters, actor, cluster, state, reason);
}

/** Running → degraded, with the reason. */
const degradeChange = (actor: Actor, state: ClusterState, reason: string) => change(actor, 'degraded', { status: 'degraded', reason }, { deployment_id: state.deployment_id, reason });

/** Found on a read: one conditional write; a lost race answers what won (the next read looks again). */
async function degrade(deps: ClusterDeps, clusters: Clusters, actor: Actor, cluster: ClusterEntry, state: ClusterState, reason: string): Promise<ClusterState> {
  const written = await clusters.commit(cluster.name, state, degradeChange(actor, state, reason));
  if (!written) return clusters.load(cluster.name);
  await clusterDegraded(deps, actor, written, reason);
  return logged(actor, written, state, 'degraded');
}

/**
 * Drift reported by an event (an EC2 instance of the cluster stopped or was terminated outside
 * Provisioner): a running cluster whose current deployment it is becomes degraded, if the backend
 * (`lost`) confirms it serves fewer than its nodes now. Anything else (another deployment's
 * machine, a cluster deploying or being destroyed, a late event of a machine a repair replaced)
 * changes nothing. Undefined for a cluster the catalog does not know.
 */
export async function recordDrift(
  deps: Pick<ClusterDeps, 'store' | 'clock' | 'catalog' | 'scheduler'> & { machineOwners: Pick<MachineOwners, 'lost'> },
  actor: Actor,
  drift: { cluster: string; deploymentId: string; reason: string },
): Promise<ClusterState | undefined> {
  const cluster = deps.catalog.clusters.find((c) => c.name === drift.cluster);
  if (!cluster) return undefined;
  return clustersOf(deps).update<ClusterState>(cluster.name, async (state) => {
    if (!driftDegrades(state, drift.deploymentId)) return { done: state };
    const lost = await deps.machineOwners.lost({ cluster, deploymentId: drift.deploymentId, nodes: state.nodes ?? 1 });
    if (!lost) {
      actor.log.info('drift event, but every node serves; nothing to do', { cluster: cluster.name, reason: drift.reason });
      return { done: state };
    }
    const reason = lost === drift.reason ? lost : `${drift.reason}; now ${lost}`;
    return {
      from: state,
      change: degradeChange(actor, state, reason),
      after: async (degraded) => {
        await clusterDegraded(deps, actor, degraded, reason);
        return logged(actor, degraded, state, 'degraded');
      },
    };
  });
}

/** Marks a deployment failed with its reason and removes what it left behind. */
async function fail(deps: ClusterDeps, clusters: Clusters, actor: Actor, cluster: ClusterEntry, state: ClusterState, reason: string): Promise<ClusterState> {
  const set: ClusterChange = { status: 'failed', reason, deadline: undefined, destroy_at: undefined, schedule_id: undefined, check_id: undefined, repair_id: undefined };
  const failed = await clusters.commit(cluster.name, state, change(actor, 'failed', set, { reason }));
  if (!failed) return clusters.load(cluster.name);
  logged(actor, failed, state, 'failed');
  operationDuration('deploy', state.deployed_at, deps.clock.now(), 'failed');
  await clusterFailed(deps, actor, failed, reason);
  await Promise.all([removeSchedules(deps, cluster.name, state), releaseSlot(deps, state), forgetDestroy(deps, actor, cluster.name, state.schedule_id)]);
  if (state.deployment_id) await deps.compute.destroy({ cluster, deploymentId: state.deployment_id });
  return failed;
}

async function removeSchedules(deps: Pick<ClusterDeps, 'scheduler'>, name: string, state: ClusterState): Promise<void> {
  await Promise.all([
    state.schedule_id ? deps.scheduler.cancel(scheduleName('destroy', name, state.schedule_id)) : undefined,
    state.check_id ? deps.scheduler.cancel(scheduleName('check', name, state.check_id)) : undefined,
  ]);
}

/**
 * The one-time check at a deadline: only the check the cluster still expects does anything. It is
 * due when it fires, even up to `earlyFiringMs` before the deadline: no later check would come.
 */
export async function checkDeadline(deps: ClusterDeps, actor: Actor, clusterName: string, checkId: string): Promise<ClusterState> {
  const cluster = clusterNamed(deps.catalog, clusterName);
  const clusters = clustersOf(deps);
  const state = await clusters.load(clusterName);
  if (state.check_id !== checkId) return state;
  return refresh(deps, clusters, actor, cluster, state, earlyFiringMs);
}

/** The audit trail of a cluster the caller may see, newest first. */
export async function clusterTrail(deps: Pick<ClusterDeps, 'store' | 'clock'>, name: string, limit: number, nextToken?: string) {
  return clustersOf(deps).trail(name, limit, nextToken);
}

/**
 * The janitor (hourly in AWS, at every start and `npm run janitor` locally): re-examines every
 * cluster, so a deploy or destroy that a crash left half done converges, then removes backend
 * resources that no deploying or running cluster owns (a destroy that landed while its deploy was
 * still launching, a crash between launch and record) and records each removal on the cluster's trail.
 */
export async function sweepClusters(deps: ClusterDeps, actor: Actor): Promise<{ examined: number; swept: SweptDeployment[] }> {
  const startedAt = deps.clock.now();
  const clusters = clustersOf(deps);
  const active = new Set<string>();
  // Independent per cluster: 16 at a time, so 10,000 clusters cost 10,000 reads but not 10,000 round trips in a row.
  await forEachLimited(deps.catalog.clusters, janitorConcurrency, async (cluster) => {
    const state = await refresh(deps, clusters, actor, cluster, await clusters.load(cluster.name));
    if (state.deployment_id && (state.status === 'deploying' || state.status === 'running' || state.status === 'degraded')) active.add(state.deployment_id);
  });
  const swept = await deps.compute.sweep(active, startedAt);
  for (const { cluster: name, deploymentId } of swept) {
    const cluster = deps.catalog.clusters.find((c) => c.name === name);
    actor.log.warn('swept resources of an inactive deployment', { cluster: name, deployment_id: deploymentId });
    if (!cluster) continue;
    await clusters.update<ClusterState>(cluster.name, async (state) => ({
      from: state,
      change: change(actor, 'swept', {}, { deployment_id: deploymentId }),
      // A destroy the sweep completed is settled here too, not at the next read.
      after: async (written) => refresh(deps, clusters, actor, cluster, logged(actor, written, state, 'swept')),
    }));
  }
  return { examined: deps.catalog.clusters.length, swept };
}

// admin
/**
 * FORCE-ABSENT (administrators): for a destroy the backend refuses forever, records the cluster
 * `absent` with the administrator and their reason, deletes its schedules and frees its slot. Only a
 * destroying or failed cluster (an absent one answers as it is, so a retry is harmless): anything
 * else is the normal DESTROY's job. What the backend still
 * holds is the janitor's: nothing active owns that deployment any more.
 */
export async function forceAbsent(deps: Pick<ClusterDeps, 'store' | 'clock' | 'catalog' | 'scheduler'>, actor: Actor, name: string, reason: string): Promise<ClusterState> {
  const cluster = clusterNamed(deps.catalog, name);
  const clusters = clustersOf(deps);
  return clusters.update<ClusterState>(cluster.name, async (state) => {
    // A retry after it was done (or a cluster already gone) answers what is.
    if (state.status === 'absent') return { done: state };
    if (state.status !== 'destroying' && state.status !== 'failed') throw notStuck(name, state.status, 'force-absent');
    const details = { reason, administrator: actor.caller.sub, ...(state.deployment_id && { deployment_id: state.deployment_id }), ...(state.reason && { was: state.reason }) };
    return {
      from: state,
      change: change(actor, 'force-absent', absentChange(), details),
      after: async (absent) => {
        actor.log.warn('cluster forced absent', { cluster: name, administrator: actor.caller.sub, deployment_id: state.deployment_id });
        await Promise.all([removeSchedules(deps, name, state), releaseSlot(deps, state), forgetDestroy(deps, actor, name, state.schedule_id)]);
        return logged(actor, absent, state, 'force-absent');
      },
    };
  });
}

/**
 * RELEASE-SLOT (administrators): gives the deployer's slot of a destroying or failed cluster back
 * (recorded on the cluster's trail with the reason), so a destroy the backend refuses stops blocking
 * its deployer; the cluster keeps its state and the destroy keeps being retried.
 */
export async function releaseClusterSlot(deps: Pick<ClusterDeps, 'store' | 'clock' | 'catalog'>, actor: Actor, name: string, reason: string): Promise<ClusterState> {
  const cluster = clusterNamed(deps.catalog, name);
  const clusters = clustersOf(deps);
  return clusters.update<ClusterState>(cluster.name, async (state) => {
    if (state.status === 'absent' || (state.status === 'failed' && !state.deployed_by)) return { done: state };
    if ((state.status !== 'destroying' && state.status !== 'failed') || !state.deployed_by) throw notStuck(name, state.status, 'release-slot');
    return {
      from: state,
      change: change(actor, 'slot-released', {}, { reason, administrator: actor.caller.sub, deployer: state.deployed_by }),
      after: async (written) => {
        await releaseSlot(deps, state);
        return logged(actor, written, state, 'slot-released');
      },
    };
  });
}

function notStuck(name: string, status: string, action: string): ProvisionerError {
  return new ProvisionerError('cluster_not_stuck', `Cluster ${name} is ${status}: ${action} is only for a destroying or failed cluster (use DESTROY otherwise).`, { cluster: name, status });
}

