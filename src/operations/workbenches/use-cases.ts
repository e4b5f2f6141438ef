import { randomBytes } from 'node:crypto';
import type { Actor } from '../../actor.js';
import type { Catalog } from '../../domain/catalog.js';
import type { Clock } from '../../domain/clock.js';
import { ProvisionerError } from '../../domain/errors.js';
import { operationDuration } from '../../metrics.js';
import { systemCaller } from '../../domain/levels.js';
import {
  absentWorkbench,
  accessTo,
  countLimitReached,
  decideCreate,
  liveStatuses,
  normalLogin,
  requireOwner,
  settle,
  stopsAt,
  type WorkbenchRequest,
  type WorkbenchState,
  workbenchStatuses,
} from '../../domain/workbenches.js';
import type { Scheduler, Store, StoredItem, WorkbenchCompute, WorkbenchStarted, WorkbenchTask } from '../../ports.js';
import { type Change, Entities, type EntityType } from '../../store/entity.js';
import { workbenchKeys } from '../../store/keys.js';
import { once } from '../../once.js';
// notifications
import { forgetAutoStop, remindAutoStop, workbenchFailed } from '../notifications/events.js';
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
      task_arn: z.optional(z.string()),
      instance_id: z.optional(z.string()),
      endpoint: z.optional(z.string()),
      shares: z.optional(z.array(z.string())),
      stop_id: z.optional(z.string()),
      stops_at: z.optional(z.string()),
      start_by: z.optional(z.string()),
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
    ...(state.task_arn !== undefined && { taskArn: state.task_arn }),
  };
}

/** The API's view of a workbench. */
export function workbenchView(state: WorkbenchState, shared = false) {
  return {
    id: state.id,
    name: state.name ?? '',
    owner: state.owner ?? '',
    owner_login: state.owner_login ?? state.owner?.replace(/^github:/, '') ?? '',
    status: state.status,
    cpu: state.cpu ?? 0,
    memory: state.memory ?? 0,
    gpu: state.gpu ?? 0,
    dedicated_instance: state.dedicated_instance ?? false,
    capacity_provider: state.capacity_provider ?? '',
    endpoint: state.status === 'running' ? (state.endpoint ?? null) : null,
    stops_at: state.stops_at ?? null,
    shares: state.shares ?? [],
    shared,
    reason: state.reason ?? null,
    created_at: state.created_at ?? null,
    updated_at: state.updated_at ?? null,
  };
}

/**
 * How long a run may take to show up at the backend: a start recorded but still unseen after this
 * (a crash between the intent and the launch, a launch lost) fails, so nothing stays provisioning.
 */
export const startDeadlineMs = 15 * 60_000;
/** A slot claimed longer ago than this for a workbench that does not exist is a crash's leftover, not a create on its way. */
const slotSettleMs = 5 * 60_000;
/** An auto-stop firing at most this long before its time is due (EventBridge Scheduler fires up to 60 s early). */
const earlyFiringMs = 90_000;

/** A new run's fields: a new run id, a new auto-stop schedule at max_runtime, the deadline to be seen by the backend. */
function newRun(deps: WorkbenchDeps) {
  const now = deps.clock.now();
  return {
    run_id: shortId(),
    task_arn: undefined,
    instance_id: undefined,
    stop_id: shortId(),
    stops_at: stopsAt(deps.catalog, now).toISOString(),
    start_by: new Date(now.getTime() + startDeadlineMs).toISOString(),
  };
}

/**
 * Create: within the caller's limits, on the cheapest provider that fits; the task is on its way
 * (202). The count limit is a slot claimed first (one conditional write, so parallel creates never
 * exceed it) and given back when the workbench was never written; the janitor's pointer is written
 * before the workbench, so a crash anywhere after leaves something the janitor re-examines.
 */
export async function createWorkbench(deps: WorkbenchDeps, actor: Actor, request: WorkbenchRequest): Promise<WorkbenchState> {
  const { caller } = actor;
  const workbenches = workbenchesOf(deps);
  const { provider, count } = decideCreate(request, caller, deps.catalog);
  if (request.dedicated_instance && deps.catalog.workbenches.ecs && !deps.catalog.workbenches.ecs.dedicated_launch_template) {
    throw new ProvisionerError('invalid_request', 'dedicated_instance is not offered: the catalog names no dedicated_launch_template.', { field: 'dedicated_instance' });
  }
  const id = newWorkbenchId();
  const now = deps.clock.now().toISOString();
  if (count !== undefined) await claimSlot(deps, workbenches, caller.sub, id, count);
  let written = false;
  try {
    await deps.store.createIfAbsent({ ...workbenchKeys.listed(id), created_at: now });
    return await workbenches.update<WorkbenchState>(id, async (state) => {
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
        ...newRun(deps),
        shares: [],
        created_at: now,
        gsi1pk: workbenchKeys.owner(caller.sub),
        gsi1sk: `${now}#${id}`,
      };
      return {
        from: state,
        change: change(actor, 'create', set, { name: request.name, cpu: request.cpu, memory: request.memory, gpu: request.gpu ?? 0, capacity_provider: provider }),
        after: async (created) => {
          written = true;
          try {
            return await launch(deps, workbenches, actor, state, created, 'create');
          } catch (error) {
            // The intent is recorded and a read re-drives it: a 503 here would make a retrying client create a second one.
            if (isTransient(error)) return created;
            throw error;
          }
        },
      };
    });
  } catch (error) {
    // Never written: the slot goes back (the store permitting; else the next full claim frees it).
    if (!written && count !== undefined) await deps.store.release(workbenchKeys.slots(caller.sub), id).catch(() => undefined);
    throw error;
  }
}

/** A workbench holds its owner's slot from its create until its delete. */
const holdsSlot = (state: WorkbenchState, sub: string) => state.owner === sub && state.status !== 'absent' && state.status !== 'deleted';

/**
 * Claims one of the owner's `count` slots for a new workbench. When all are taken, slots of
 * workbenches deleted, or never written and claimed long ago (a crash between the claim and the
 * write), are freed and the claim tried again.
 */
async function claimSlot(deps: WorkbenchDeps, workbenches: Workbenches, sub: string, id: string, max: number): Promise<void> {
  const key = workbenchKeys.slots(sub);
  const now = deps.clock.now();
  const claim = await deps.store.claim(key, id, max, now);
  if (claim.won) return;
  const stale: string[] = [];
  for (const [other, claimedAt] of Object.entries(claim.members)) {
    const state = await workbenches.load(other);
    const settled = state.status !== 'absent' || Date.parse(claimedAt) < now.getTime() - slotSettleMs;
    if (settled && !holdsSlot(state, sub)) stale.push(other);
  }
  if (stale.length === 0) throw countLimitReached(max);
  await Promise.all(stale.map((other) => deps.store.release(key, other)));
  if (!(await deps.store.claim(key, id, max, now)).won) throw countLimitReached(max);
}

/**
 * After a run was written: its auto-stop schedule, then the task. A refused launch fails the
 * workbench (and cancels the schedule it just made); a start that a stop or delete overtook stops
 * (or removes) what it started, so no run outlives the request that ended it.
 */
async function launch(deps: WorkbenchDeps, workbenches: Workbenches, actor: Actor, from: WorkbenchState, started: WorkbenchState, action: string): Promise<WorkbenchState> {
  logged(actor, started, from, action);
  if (from.stop_id) await deps.scheduler.cancel(stopScheduleName(from.id, from.stop_id));
  await armAutoStop(deps, actor, started);
  let outcome: WorkbenchStarted;
  try {
    outcome = await deps.workbenchCompute.start(taskOf(started));
  } catch (error) {
    // A transient failure keeps the intent (provisioning): a retry, a read or the janitor launches it again.
    if (isTransient(error)) throw error;
    const reason = `the backend refused to start it: ${(error as Error).message}`;
    actor.log.warn('workbench start refused', { workbench: started.id, error: (error as Error).message });
    const failed = await workbenches.commit(started.id, started, change(asSystem(actor), 'failed', { status: 'failed', reason, stop_id: undefined, stops_at: undefined, start_by: undefined }, { reason }));
    if (started.stop_id) await deps.scheduler.cancel(stopScheduleName(started.id, started.stop_id));
    if (failed) await workbenchFailed(deps, actor, failed, reason);
    await forgetAutoStop(deps, actor, started);
    throw error instanceof ProvisionerError ? error : new ProvisionerError('backend_unavailable', `The workbench backend could not start ${started.id}; retry shortly.`, undefined, { 'retry-after': '5' });
  }
  const recorded = await recordStart(deps, workbenches, asSystem(actor), started, outcome);
  await undoIfOvertaken(deps, { ...started, ...(outcome.taskArn && { task_arn: outcome.taskArn }) });
  return recorded;
}

/** A transient dependency failure (503 `dependency_unavailable`), as the adapters report it. */
const isTransient = (error: unknown) => error instanceof ProvisionerError && error.code === 'dependency_unavailable';

/**
 * Records what a start did for the same run, if still current: the task's ARN (status and stop
 * then ask for exactly it), or `pending_instance` while a dedicated instance registers.
 */
async function recordStart(deps: WorkbenchDeps, workbenches: Workbenches, actor: Actor, started: WorkbenchState, outcome: WorkbenchStarted): Promise<WorkbenchState> {
  if (!outcome.taskArn && !outcome.pendingInstance) return started;
  return workbenches.update<WorkbenchState>(
    started.id,
    async (state) => {
      if (state.run_id !== started.run_id || !liveStatuses.includes(state.status)) return { done: state };
      const set: WorkbenchChange = outcome.taskArn
        ? { task_arn: outcome.taskArn, ...(state.status === 'pending_instance' && { status: 'provisioning' }) }
        : { status: 'pending_instance', instance_id: outcome.pendingInstance };
      if (outcome.taskArn === state.task_arn && (outcome.taskArn || state.status === 'pending_instance')) return { done: state };
      const action = outcome.taskArn ? 'task-started' : 'pending_instance';
      return { from: state, change: change(actor, action, set, { ...(outcome.taskArn && { task_arn: outcome.taskArn }), ...(outcome.pendingInstance && { instance_id: outcome.pendingInstance }) }), after: async (written) => logged(actor, written, state, action) };
    },
    started,
  );
}

/** The run's auto-stop schedule (idempotent by name, so a re-drive makes no second one). */
async function armAutoStop(deps: WorkbenchDeps, actor: Actor, state: WorkbenchState): Promise<void> {
  if (!state.stop_id || !state.stops_at) return;
  await deps.scheduler.schedule({ name: stopScheduleName(state.id, state.stop_id), at: new Date(state.stops_at), target: 'workbench-auto-stop', payload: { workbench: state.id, stop_id: state.stop_id } });
  await remindAutoStop(deps, actor, state, liveStatuses);
}

/** A stop or delete that won the race while `started` launched stopped nothing yet: this run must not outlive it. */
async function undoIfOvertaken(deps: WorkbenchDeps, started: WorkbenchState): Promise<void> {
  const now = await workbenchesOf(deps).load(started.id);
  if (now.status === 'deleted') await backend(() => deps.workbenchCompute.remove(taskOf(started)), started.id);
  else if (now.run_id !== started.run_id || !liveStatuses.includes(now.status)) await backend(() => deps.workbenchCompute.stop(taskOf(started)), started.id);
}

/** A workbench the caller may see, brought up to date by asking the backend when its task is alive. */
export async function readWorkbench(deps: WorkbenchDeps, actor: Actor, id: string): Promise<WorkbenchState> {
  const workbenches = workbenchesOf(deps);
  const state = await workbenches.load(id);
  accessTo(state, actor.caller);
  return refresh(deps, workbenches, asSystem(actor), state);
}

/**
 * A page of the workbenches of `ownerSub`, as stored (a read of one asks the backend). The first
 * page of one's own list also holds the workbenches shared with `sharee` (marked `shared`), each
 * checked against its current shares.
 */
export async function listWorkbenches(deps: Pick<WorkbenchDeps, 'store' | 'clock'>, ownerSub: string, limit: number, nextToken?: string, sharee?: string) {
  const workbenches = workbenchesOf(deps);
  const page = await workbenches.list(workbenchKeys.owner(ownerSub), limit, nextToken, false);
  const own = page.items.map((state) => ({ state, shared: false }));
  if (sharee === undefined || nextToken !== undefined) return { items: own, nextToken: page.nextToken };
  const login = normalLogin(sharee);
  const pointers = await deps.store.query({ partition: workbenchKeys.sharedWith(login), limit: 100 });
  const shared = await Promise.all(pointers.items.map((pointer) => workbenches.load(pointer.sk)));
  const current = shared.filter((state) => state.status !== 'deleted' && state.status !== 'absent' && state.owner !== ownerSub && (state.shares ?? []).includes(login));
  return { items: [...own, ...current.map((state) => ({ state, shared: true }))], nextToken: page.nextToken };
}

/** Start: a no-op when the task is alive; otherwise a new run (and a new auto-stop). Owners and sharees. */
export async function startWorkbench(deps: WorkbenchDeps, actor: Actor, id: string): Promise<WorkbenchState> {
  const workbenches = workbenchesOf(deps);
  return workbenches.update<WorkbenchState>(id, async (loaded) => {
    accessTo(loaded, actor.caller);
    const state = await refresh(deps, workbenches, asSystem(actor), loaded);
    // The refresh may have found a newer state (a delete, a lost share): decide on that one, never commit from `deleted`.
    accessTo(state, actor.caller);
    if (liveStatuses.includes(state.status)) return { done: state };
    const set: WorkbenchChange = { status: 'provisioning', ...newRun(deps), endpoint: undefined, reason: undefined };
    return {
      from: state,
      change: change(actor, 'start', set, { run_id: set.run_id }),
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
      // Launches nothing (a stop is about to end the run): the stop function may not launch.
      const state = await refresh(deps, workbenches, asSystem(actor), current, false);
      accessTo(state, actor.caller);
      if (state.status === 'stopped' || state.status === 'stopping') return { done: state };
      // A failed task is gone already: stopping only clears the failure.
      const to = state.status === 'failed' ? 'stopped' : 'stopping';
      return {
        from: state,
        change: change(actor, 'stop', { status: to, stop_id: undefined, stops_at: undefined, start_by: undefined, endpoint: undefined }),
        after: async (stopping) => {
          logged(actor, stopping, state, 'stop');
          if (state.stop_id) await deps.scheduler.cancel(stopScheduleName(id, state.stop_id));
          await forgetAutoStop(deps, actor, state);
          if (to === 'stopping') await backend(() => deps.workbenchCompute.stop(taskOf(state)), id);
          return refresh(deps, workbenches, asSystem(actor), stopping, false);
        },
      };
    },
    loaded,
  );
}

/**
 * The auto-stop fired: stop only if it is still the current run's schedule and its time has come.
 * EventBridge Scheduler fires up to a minute early: within 90 s of its time it is due. An earlier
 * firing (which AWS does not document) is logged and ignored: this function is the schedule's
 * target and cannot be given its own ARN to arm it again (a CloudFormation cycle).
 */
export async function autoStop(deps: WorkbenchDeps, actor: Actor, id: string, stopId: string): Promise<'stopped' | 'stale' | 'early'> {
  const state = await workbenchesOf(deps).load(id);
  if (state.stop_id !== stopId) {
    actor.log.info('replaced auto-stop fired; nothing to do', { workbench: id, stop_id: stopId });
    return 'stale';
  }
  if (state.stops_at && Date.parse(state.stops_at) - deps.clock.now().getTime() > earlyFiringMs) {
    actor.log.warn('auto-stop fired more than 90 s early; ignored', { workbench: id, stops_at: state.stops_at });
    return 'early';
  }
  await stopWorkbench(deps, actor, id, state);
  return 'stopped';
}

/**
 * Delete: the owner's (or an administrator's). Gone from lists at once; the task, data and
 * instance are removed after, then the slot, the share pointers and the janitor's pointer. A delete
 * whose cleanup failed (503) is retried by deleting again: only the cleanup runs.
 */
export async function deleteWorkbench(deps: WorkbenchDeps, actor: Actor, id: string): Promise<WorkbenchState> {
  const workbenches = workbenchesOf(deps);
  return workbenches.update<WorkbenchState>(id, async (state) => {
    if (state.status === 'deleted' && (actor.caller.level === 'administrator' || actor.caller.sub === state.owner)) {
      await cleanUpDeleted(deps, state, state);
      return { done: state };
    }
    requireOwner(state, actor.caller, 'delete');
    return {
      from: state,
      change: change(actor, 'delete', { status: 'deleted', stop_id: undefined, stops_at: undefined, start_by: undefined, endpoint: undefined, shares: [], gsi1pk: undefined, gsi1sk: undefined }),
      after: async (deleted) => {
        logged(actor, deleted, state, 'delete');
        await forgetAutoStop(deps, actor, state);
        await cleanUpDeleted(deps, state, deleted);
        return deleted;
      },
    };
  });
}

/** What follows a delete (`before` is the state it deleted): every step idempotent, so a retry or the janitor finishes it. */
async function cleanUpDeleted(deps: WorkbenchDeps, before: WorkbenchState, deleted: WorkbenchState): Promise<void> {
  if (before.stop_id) await deps.scheduler.cancel(stopScheduleName(before.id, before.stop_id));
  await backend(() => deps.workbenchCompute.remove(taskOf(before)), before.id);
  if (deleted.owner) await deps.store.release(workbenchKeys.slots(deleted.owner), deleted.id);
  await Promise.all((before.shares ?? []).map((login) => deps.store.remove(workbenchKeys.share(normalLogin(login), before.id))));
  await deps.store.remove(workbenchKeys.listed(before.id));
}

/**
 * Share with a login (idempotent, in any case: GitHub logins are case-insensitive), or revoke; the
 * owner's (or an administrator's) only. The sharee's pointer is written before a share and removed
 * after a revoke, so a pointer may outlive its share (the list checks) but never the reverse.
 */
export async function shareWorkbench(deps: Pick<WorkbenchDeps, 'store' | 'clock'>, actor: Actor, id: string, asGiven: string, share: boolean): Promise<WorkbenchState> {
  const login = normalLogin(asGiven);
  return workbenchesOf(deps).update<WorkbenchState>(id, async (state) => {
    requireOwner(state, actor.caller, share ? 'share' : 'revoke shares of');
    const shares = (state.shares ?? []).map(normalLogin);
    if (share === shares.includes(login)) return { done: state };
    if (share && shares.length >= 20) throw new ProvisionerError('limit_exceeded', `${id} is shared with 20 logins, the most allowed; revoke one first.`, { limit: 'shares', max: 20 });
    if (share) await deps.store.createIfAbsent({ ...workbenchKeys.share(login, id) });
    const next = share ? [...shares, login].sort() : shares.filter((l) => l !== login);
    const action = share ? 'share' : 'unshare';
    return {
      from: state,
      change: change(actor, action, { shares: next }, { login }),
      after: async (written) => {
        if (!share) await deps.store.remove(workbenchKeys.share(login, id));
        return logged(actor, written, state, action);
      },
    };
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
 * reason, a run still unseen past its start deadline fails (and is stopped, should it appear late),
 * and a task that lives on while stopping is stopped again. With `redrive`, a start the backend never
 * saw is launched again and a task waiting for its dedicated instance is placed once it registered.
 * A backend that does not answer leaves the stored state as the answer.
 */
async function refresh(deps: WorkbenchDeps, workbenches: Workbenches, actor: Actor, state: WorkbenchState, redrive = true): Promise<WorkbenchState> {
  if (!liveStatuses.includes(state.status) && state.status !== 'stopping') return state;
  const pastStart = state.start_by !== undefined && Date.parse(state.start_by) < deps.clock.now().getTime();
  let task;
  try {
    // Waiting for a dedicated instance: the start asks whether it registered, and places the task once it has.
    if (state.status === 'pending_instance' && !pastStart) return redrive ? await recordStart(deps, workbenches, actor, state, await deps.workbenchCompute.start(taskOf(state))) : state;
    task = state.status === 'pending_instance' ? { state: 'gone' as const } : await deps.workbenchCompute.status(taskOf(state));
    // Recorded but not at the backend (a launch a crash or a transient failure interrupted): launch it again, idempotently.
    if (redrive && state.status === 'provisioning' && task.state === 'gone' && !state.task_arn && !pastStart) {
      actor.log.info('re-driving an interrupted start', { workbench: state.id, run_id: state.run_id });
      await armAutoStop(deps, actor, state);
      return await recordStart(deps, workbenches, actor, state, await deps.workbenchCompute.start(taskOf(state)));
    }
  } catch (error) {
    actor.log.warn('workbench backend unavailable; answering from the store', { workbench: state.id, error: (error as Error).message });
    return state;
  }
  const late = (state.status === 'provisioning' || state.status === 'pending_instance') && task.state === 'gone' && pastStart;
  const outcome = late ? { status: 'failed' as const } : settle(state, task.state);
  if (!outcome) return state;
  if ('stopAgain' in outcome) {
    await deps.workbenchCompute.stop(taskOf(state)).catch((error: unknown) => actor.log.warn('stopping again failed; the next read retries', { workbench: state.id, error: (error as Error).message }));
    return state;
  }
  const failed = outcome.status === 'failed';
  const reason = late ? 'the start did not reach the backend in time; start it again' : failed ? (task.reason ?? `the task is ${task.state}`) : undefined;
  const set: WorkbenchChange = {
    status: outcome.status,
    ...(outcome.status === 'running' && { endpoint: task.endpoint, start_by: undefined }),
    ...(failed && { reason, stop_id: undefined, stops_at: undefined, start_by: undefined, endpoint: undefined }),
  };
  const written = await workbenches.commit(state.id, state, change(actor, outcome.status, set, reason ? { reason } : undefined));
  if (!written) return workbenches.load(state.id);
  logged(actor, written, state, outcome.status);
  if (state.start_by && (failed || outcome.status === 'running')) operationDuration('workbench-start', new Date(Date.parse(state.start_by) - startDeadlineMs).toISOString(), deps.clock.now(), outcome.status);
  if (failed && state.stop_id) await deps.scheduler.cancel(stopScheduleName(state.id, state.stop_id));
  if (failed) await Promise.all([workbenchFailed(deps, actor, written, reason ?? 'failed'), forgetAutoStop(deps, actor, state)]);
  if (late) await deps.workbenchCompute.stop(taskOf(state)).catch((error: unknown) => actor.log.warn('stopping a late run failed; the janitor retries', { workbench: state.id, error: (error as Error).message }));
  return written;
}

/**
 * The janitor's part for workbenches (hourly in AWS, at every start and `npm run janitor` locally):
 * every workbench on its list is re-examined — a run recorded but never launched (a crash between
 * the intent and the launch) is launched again by the refresh (its schedule and task are idempotent
 * by name and run id) until its start deadline, then fails; a delete's cleanup is finished; then the backend
 * removes runs that no live workbench owns and that started before the sweep (`sweep`, where the
 * backend has one). Pointers of workbenches never written (a crash before the first write) go.
 */
export async function sweepWorkbenches(deps: WorkbenchDeps, actor: Actor): Promise<{ examined: number; swept: string[] }> {
  const workbenches = workbenchesOf(deps);
  const system = asSystem(actor);
  const began = deps.clock.now();
  const live = new Set<string>();
  let examined = 0;
  let nextToken: string | undefined;
  do {
    const page = await deps.store.query({ partition: workbenchKeys.all, limit: 100, nextToken });
    for (const pointer of page.items) {
      examined++;
      try {
        const state = await converge(deps, workbenches, system, pointer, began);
        if (state && liveStatuses.includes(state.status) && state.run_id) live.add(state.run_id);
      } catch (error) {
        actor.log.warn('workbench sweep step failed; the next sweep retries', { workbench: pointer.sk, error: (error as Error).message });
        const state = await workbenches.load(pointer.sk).catch(() => undefined);
        if (state?.run_id && state.status !== 'deleted') live.add(state.run_id);
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  const swept = (await deps.workbenchCompute.sweep?.(live, began)) ?? [];
  return { examined, swept };
}

/** One workbench of the janitor's list: a pointer never followed by a write goes, a delete is finished, the rest refreshed (which re-drives a start). */
async function converge(deps: WorkbenchDeps, workbenches: Workbenches, actor: Actor, pointer: StoredItem, began: Date): Promise<WorkbenchState | undefined> {
  const state = await workbenches.load(pointer.sk);
  if (state.status === 'absent') {
    // A create that died before its first write; one still on its way is younger than a start may take.
    if (Date.parse(String(pointer.created_at ?? '')) < began.getTime() - startDeadlineMs) await deps.store.remove(workbenchKeys.listed(pointer.sk));
    return undefined;
  }
  if (state.status === 'deleted') {
    await cleanUpDeleted(deps, state, state);
    return state;
  }
  return refresh(deps, workbenches, actor, state);
}
