import { randomBytes } from 'node:crypto';
import type { Actor } from '../../actor.js';
import type { Catalog } from '../../domain/catalog.js';
import type { Clock } from '../../domain/clock.js';
import { ProvisionerError } from '../../domain/errors.js';
import { systemCaller } from '../../domain/levels.js';
import {
  absentWorkbench,
  accessTo,
  decideCreate,
  liveStatuses,
  requireOwner,
  settle,
  stopsAt,
  type WorkbenchRequest,
  type WorkbenchState,
  workbenchStatuses,
} from '../../domain/workbenches.js';
import type { Scheduler, Store, WorkbenchCompute, WorkbenchTask } from '../../ports.js';
import { type Change, Entities, type EntityType } from '../../store/entity.js';
import { workbenchKeys } from '../../store/keys.js';
import { once } from '../../once.js';
import * as z from '../../zod.js';

/**
 * The workbench use cases over narrow ports. Each state change is one conditional write of the
 * workbench (with its audit event) on (version, status), followed by its side effects (the backend,
 * the auto-stop schedule); a request that loses a race decides again on what won.
 */
export interface WorkbenchDeps {
  store: Store;
  clock: Clock;
  catalog: Catalog;
  scheduler: Scheduler;
  workbenchCompute: WorkbenchCompute;
}

const workbenchEntity: EntityType<WorkbenchState> = {
  kind: 'workbench',
  initial: absentWorkbench,
  fields: once(() =>
    z.object({
      id: z.string(),
      status: z.enum(workbenchStatuses),
      name: z.optional(z.string()),
      owner: z.optional(z.string()),
      owner_login: z.optional(z.string()),
      cpu: z.optional(z.number()),
      memory: z.optional(z.number()),
      gpu: z.optional(z.number()),
      dedicated_instance: z.optional(z.boolean()),
      capacity_provider: z.optional(z.string()),
      run_id: z.optional(z.string()),
      endpoint: z.optional(z.string()),
      shares: z.optional(z.array(z.string())),
      stop_id: z.optional(z.string()),
      stops_at: z.optional(z.string()),
      reason: z.optional(z.string()),
      created_at: z.optional(z.string()),
      updated_at: z.optional(z.string()),
    }),
  ),
};

/** The workbenches' entity store for one use case. */
export const workbenchesOf = (deps: Pick<WorkbenchDeps, 'store' | 'clock'>) => new Entities(deps.store, workbenchEntity, deps.clock);
type Workbenches = ReturnType<typeof workbenchesOf>;

type WorkbenchChange = Partial<Record<keyof Omit<WorkbenchState, 'version'> | 'gsi1pk' | 'gsi1sk', unknown>>;

function change(actor: Actor, action: string, set: WorkbenchChange, details?: Record<string, unknown>): Change {
  return { set, action, author: { sub: actor.caller.sub, requestId: actor.requestId }, ...(details && { details }) };
}

function logged(actor: Actor, written: WorkbenchState, from: WorkbenchState, action: string): WorkbenchState {
  actor.log.info('workbench event', { workbench: written.id, action, from: from.status, to: written.status, actor: actor.caller.sub });
  return written;
}

/** Progress found while answering a read is Provisioner's doing, not the reader's. */
const asSystem = (actor: Actor): Actor => ({ ...actor, caller: systemCaller('system') });
const shortId = () => randomBytes(6).toString('hex');
/** Workbench ids: `wb-` and 12 hex digits. */
const newWorkbenchId = () => `wb-${shortId()}`;
const stopScheduleName = (id: string, stopId: string) => `wbstop-${id}-${stopId}`;

/** The backend's view of a workbench's current run. */
export function taskOf(state: WorkbenchState): WorkbenchTask {
  return {
    workbenchId: state.id,
    runId: state.run_id ?? '',
    name: state.name ?? state.id,
    owner: state.owner ?? '',
    ...(state.owner_login !== undefined && { ownerLogin: state.owner_login }),
    cpu: state.cpu ?? 0,
    memory: state.memory ?? 0,
    gpu: state.gpu ?? 0,
    capacityProvider: state.capacity_provider ?? '',
    dedicatedInstance: state.dedicated_instance ?? false,
  };
}

/** The API's view of a workbench. */
export function workbenchView(state: WorkbenchState) {
  return {
    id: state.id,
    name: state.name ?? '',
    owner: state.owner_login ?? state.owner ?? '',
    status: state.status,
    cpu: state.cpu ?? 0,
    memory: state.memory ?? 0,
    gpu: state.gpu ?? 0,
    dedicated_instance: state.dedicated_instance ?? false,
    capacity_provider: state.capacity_provider ?? '',
    endpoint: state.status === 'running' ? (state.endpoint ?? null) : null,
    stops_at: state.stops_at ?? null,
    shares: state.shares ?? [],
    reason: state.reason ?? null,
    created_at: state.created_at ?? null,
    updated_at: state.updated_at ?? null,
  };
}

/** A new run's fields: a new run id, a new auto-stop schedule at max_runtime. */
function newRun(deps: WorkbenchDeps) {
  const now = deps.clock.now();
  return { runId: shortId(), stopId: shortId(), stopsAt: stopsAt(deps.catalog, now) };
}

/** Create: within the caller's limits, on the cheapest provider that fits; the task is on its way (202). */
export async function createWorkbench(deps: WorkbenchDeps, actor: Actor, request: WorkbenchRequest): Promise<WorkbenchState> {
  const { caller } = actor;
  const workbenches = workbenchesOf(deps);
  const owned = await ownedCount(deps, caller.sub);
  const { provider } = decideCreate(request, caller, deps.catalog, owned);
  if (request.dedicated_instance && deps.catalog.workbenches.ecs && !deps.catalog.workbenches.ecs.dedicated_launch_template) {
    throw new ProvisionerError('invalid_request', 'dedicated_instance is not offered: the catalog names no dedicated_launch_template.', { field: 'dedicated_instance' });
  }
  const id = newWorkbenchId();
  const now = deps.clock.now().toISOString();
  const run = newRun(deps);
  return workbenches.update<WorkbenchState>(id, async (state) => {
    if (state.version !== 0) throw new ProvisionerError('service_unavailable', 'Workbench id collision; retry.', undefined, { 'retry-after': '1' });
    const set: WorkbenchChange = {
      id,
      status: 'provisioning',
      name: request.name,
      owner: caller.sub,
      ...(caller.login !== null && { owner_login: caller.login }),
      cpu: request.cpu,
      memory: request.memory,
      gpu: request.gpu ?? 0,
      dedicated_instance: request.dedicated_instance ?? false,
      capacity_provider: provider,
      run_id: run.runId,
      shares: [],
      stop_id: run.stopId,
      stops_at: run.stopsAt.toISOString(),
      created_at: now,
      gsi1pk: workbenchKeys.owner(caller.sub),
      gsi1sk: `${now}#${id}`,
    };
    return {
      from: state,
      change: change(actor, 'create', set, { name: request.name, cpu: request.cpu, memory: request.memory, gpu: request.gpu ?? 0, capacity_provider: provider }),
      after: async (created) => launch(deps, workbenches, actor, state, created, 'create'),
    };
  });
}

/** Counted against `count`: every workbench the owner has that is not deleted (deleted ones leave the list). */
async function ownedCount(deps: WorkbenchDeps, sub: string): Promise<number> {
  const { items } = await deps.store.query({ index: 'gsi1', partition: workbenchKeys.owner(sub), limit: 100 });
  return items.length;
}

/** After a run was written: its auto-stop schedule, then the task; a refused launch fails the workbench. */
async function launch(deps: WorkbenchDeps, workbenches: Workbenches, actor: Actor, from: WorkbenchState, started: WorkbenchState, action: string): Promise<WorkbenchState> {
  logged(actor, started, from, action);
  if (from.stop_id) await deps.scheduler.cancel(stopScheduleName(from.id, from.stop_id));
  if (started.stop_id && started.stops_at) {
    await deps.scheduler.schedule({ name: stopScheduleName(started.id, started.stop_id), at: new Date(started.stops_at), target: 'workbench-auto-stop', payload: { workbench: started.id, stop_id: started.stop_id } });
  }
  try {
    await deps.workbenchCompute.start(taskOf(started));
  } catch (error) {
    const reason = `the backend refused to start it: ${(error as Error).message}`;
    actor.log.warn('workbench start refused', { workbench: started.id, error: (error as Error).message });
    await workbenches.commit(started.id, started, change(asSystem(actor), 'failed', { status: 'failed', reason, stop_id: undefined, stops_at: undefined }, { reason }));
    throw error instanceof ProvisionerError ? error : new ProvisionerError('backend_unavailable', `The workbench backend could not start ${started.id}; retry shortly.`, undefined, { 'retry-after': '5' });
  }
  // A stop that won the race in between stopped nothing yet: this run must not outlive it.
  const now = await workbenches.load(started.id);
  if (now.run_id !== started.run_id || !liveStatuses.includes(now.status)) await deps.workbenchCompute.stop(taskOf(started));
  return started;
}

/** A workbench the caller may see, brought up to date by asking the backend when its task is alive. */
export async function readWorkbench(deps: WorkbenchDeps, actor: Actor, id: string): Promise<WorkbenchState> {
  const workbenches = workbenchesOf(deps);
  const state = await workbenches.load(id);
  accessTo(state, actor.caller);
  return refresh(deps, workbenches, asSystem(actor), state);
}

/** A page of the workbenches of `ownerSub`, as stored (a read of one asks the backend). */
export async function listWorkbenches(deps: Pick<WorkbenchDeps, 'store' | 'clock'>, ownerSub: string, limit: number, nextToken?: string) {
  return workbenchesOf(deps).list(workbenchKeys.owner(ownerSub), limit, nextToken, false);
}

/** Start: a no-op when the task is alive; otherwise a new run (and a new auto-stop). Owners and sharees. */
export async function startWorkbench(deps: WorkbenchDeps, actor: Actor, id: string): Promise<WorkbenchState> {
  const workbenches = workbenchesOf(deps);
  return workbenches.update<WorkbenchState>(id, async (loaded) => {
    accessTo(loaded, actor.caller);
    const state = await refresh(deps, workbenches, asSystem(actor), loaded);
    if (liveStatuses.includes(state.status)) return { done: state };
    const run = newRun(deps);
    const set: WorkbenchChange = { status: 'provisioning', run_id: run.runId, stop_id: run.stopId, stops_at: run.stopsAt.toISOString(), endpoint: undefined, reason: undefined };
    return {
      from: state,
      change: change(actor, 'start', set, { run_id: run.runId }),
      after: async (started) => launch(deps, workbenches, actor, state, started, 'start'),
    };
  });
}

/** Stop: a no-op when stopped or stopping; otherwise the task is asked to stop (data stays). Owners and sharees. */
export async function stopWorkbench(deps: WorkbenchDeps, actor: Actor, id: string, loaded?: WorkbenchState): Promise<WorkbenchState> {
  const workbenches = workbenchesOf(deps);
  return workbenches.update<WorkbenchState>(
    id,
    async (current) => {
      accessTo(current, actor.caller);
      const state = await refresh(deps, workbenches, asSystem(actor), current);
      if (state.status === 'stopped' || state.status === 'stopping') return { done: state };
      // A failed task is gone already: stopping only clears the failure.
      const to = state.status === 'failed' ? 'stopped' : 'stopping';
      return {
        from: state,
        change: change(actor, 'stop', { status: to, stop_id: undefined, stops_at: undefined, endpoint: undefined }),
        after: async (stopping) => {
          logged(actor, stopping, state, 'stop');
          if (state.stop_id) await deps.scheduler.cancel(stopScheduleName(id, state.stop_id));
          if (to === 'stopping') await backend(() => deps.workbenchCompute.stop(taskOf(state)), id);
          return refresh(deps, workbenches, asSystem(actor), stopping);
        },
      };
    },
    loaded,
  );
}

/** The auto-stop fired: stop only if it is still the current run's schedule. */
export async function autoStop(deps: WorkbenchDeps, actor: Actor, id: string, stopId: string): Promise<'stopped' | 'stale'> {
  const state = await workbenchesOf(deps).load(id);
  if (state.stop_id !== stopId) {
    actor.log.info('replaced auto-stop fired; nothing to do', { workbench: id, stop_id: stopId });
    return 'stale';
  }
  await stopWorkbench(deps, actor, id, state);
  return 'stopped';
}

/** Delete: the owner's (or an administrator's). Gone from lists at once; the task, data and instance are removed after. */
export async function deleteWorkbench(deps: WorkbenchDeps, actor: Actor, id: string): Promise<WorkbenchState> {
  const workbenches = workbenchesOf(deps);
  return workbenches.update<WorkbenchState>(id, async (state) => {
    // A delete whose cleanup failed (503) is retried by deleting again: the owner may, and only the cleanup runs.
    if (state.status === 'deleted' && (actor.caller.level === 'administrator' || actor.caller.sub === state.owner)) {
      await backend(() => deps.workbenchCompute.remove(taskOf(state)), id);
      return { done: state };
    }
    requireOwner(state, actor.caller, 'delete');
    return {
      from: state,
      change: change(actor, 'delete', { status: 'deleted', stop_id: undefined, stops_at: undefined, endpoint: undefined, shares: [], gsi1pk: undefined, gsi1sk: undefined }),
      after: async (deleted) => {
        logged(actor, deleted, state, 'delete');
        if (state.stop_id) await deps.scheduler.cancel(stopScheduleName(id, state.stop_id));
        await backend(() => deps.workbenchCompute.remove(taskOf(state)), id);
        return deleted;
      },
    };
  });
}

/** Share with a login (idempotent), or revoke; the owner's (or an administrator's) only. */
export async function shareWorkbench(deps: Pick<WorkbenchDeps, 'store' | 'clock'>, actor: Actor, id: string, login: string, share: boolean): Promise<WorkbenchState> {
  return workbenchesOf(deps).update<WorkbenchState>(id, async (state) => {
    requireOwner(state, actor.caller, share ? 'share' : 'revoke shares of');
    const shares = state.shares ?? [];
    if (share === shares.includes(login)) return { done: state };
    if (share && shares.length >= 20) throw new ProvisionerError('limit_exceeded', `${id} is shared with 20 logins, the most allowed; revoke one first.`, { limit: 'shares', max: 20 });
    const next = share ? [...shares, login].sort() : shares.filter((l) => l !== login);
    const action = share ? 'share' : 'unshare';
    return { from: state, change: change(actor, action, { shares: next }, { login }), after: async (written) => logged(actor, written, state, action) };
  });
}

/** A backend failure after the state was written: 503, and a retry finds the recorded intent. */
async function backend(call: () => Promise<void>, id: string): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (error instanceof ProvisionerError) throw error;
    throw new ProvisionerError('backend_unavailable', `The workbench backend did not answer for ${id}; retry shortly.`, { cause: (error as Error).message }, { 'retry-after': '5' });
  }
}

/**
 * Progress, found by asking the backend while the task is alive or stopping: the task's status is
 * recorded (running with its endpoint), a task that stopped unasked fails the workbench with ECS's
 * reason, and a task that lives on while stopping is stopped again. A backend that does not answer
 * leaves the stored state as the answer.
 */
async function refresh(deps: WorkbenchDeps, workbenches: Workbenches, actor: Actor, state: WorkbenchState): Promise<WorkbenchState> {
  if (!liveStatuses.includes(state.status) && state.status !== 'stopping') return state;
  let task;
  try {
    task = await deps.workbenchCompute.status(taskOf(state));
  } catch (error) {
    actor.log.warn('workbench backend unavailable; answering from the store', { workbench: state.id, error: (error as Error).message });
    return state;
  }
  const outcome = settle(state, task.state);
  if (!outcome) return state;
  if ('stopAgain' in outcome) {
    await deps.workbenchCompute.stop(taskOf(state)).catch((error: unknown) => actor.log.warn('stopping again failed; the next read retries', { workbench: state.id, error: (error as Error).message }));
    return state;
  }
  const failed = outcome.status === 'failed';
  const reason = failed ? (task.reason ?? `the task is ${task.state}`) : undefined;
  const set: WorkbenchChange = {
    status: outcome.status,
    ...(outcome.status === 'running' && { endpoint: task.endpoint }),
    ...(failed && { reason, stop_id: undefined, stops_at: undefined, endpoint: undefined }),
  };
  const written = await workbenches.commit(state.id, state, change(actor, outcome.status, set, reason ? { reason } : undefined));
  if (!written) return workbenches.load(state.id);
  logged(actor, written, state, outcome.status);
  if (failed && state.stop_id) await deps.scheduler.cancel(stopScheduleName(state.id, state.stop_id));
  return written;
}
