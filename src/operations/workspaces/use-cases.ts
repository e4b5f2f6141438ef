import { randomBytes } from 'node:crypto';
import { forEachLimited, janitorConcurrency } from '../../concurrency.js';
import type { Actor } from '../../actor.js';
import type { Catalog } from '../../domain/catalog.js';
import { type Clock, timerDue } from '../../domain/clock.js';
import { ProvisionerError } from '../../domain/errors.js';
import { systemCaller } from '../../domain/levels.js';
import {
  type CreateRequest,
  createRequestWindowMs,
  decideCreate,
  decideExtend,
  holdsSlot,
  endpointsOf,
  expiresIn,
  isWorkspaceId,
  noticeTime,
  unknownWorkspace,
  visibleWorkspace,
  workspaceNotFound,
  workspaceLimit,
  workspaceLimitReached,
  workspaceRules,
  type WorkspaceState,
  workspaceStatuses,
  type WorkspaceTimer,
  workspaceTimers,
  workspaceVariables,
  type WorkspaceRules,
} from '../../domain/workspaces.js';
import { workspaceValue } from '../../domain/catalog/workspaces.js';
import type { Key, Page, Scheduler, Store, WorkspaceBackend } from '../../ports.js';
import type { TargetInput } from '../../scheduling/targets.js';
import { type AuditEvent, type Change, Entities, type EntityType } from '../../store/entity.js';
import { workspaceKeys } from '../../store/keys.js';
import { once } from '../../once.js';
import * as z from '../../zod.js';
// notifications
import { earlyNotice, workspaceExpiring } from '../notifications/events.js';

/**
 * The workspace use cases: CREATE, LIST, GET, EXPIRED, EXTEND, DELETE and the timed calls. Each
 * change is one conditional write of the workspace (with its audit event), then its side effects.
 * The expiry is a one-time schedule per workspace (never a sweep over all of them); every schedule
 * carries an id the workspace records, so a schedule that was replaced does nothing when it fires.
 */
export interface WorkspaceDeps {
  store: Store;
  clock: Clock;
  catalog: Catalog;
  scheduler: Scheduler;
  workspaceBackend: WorkspaceBackend;
}

const fields = once(() =>
  z.object({
  id: z.string(),
  status: z.enum(workspaceStatuses),
  name: z.optional(z.string()),
  owner: z.optional(z.string()),
  created_at: z.optional(z.string()),
  expires_at: z.optional(z.string()),
  deadline: z.optional(z.string()),
  versions: z.optional(z.record(z.string(), z.string())),
  values: z.optional(z.record(z.string(), workspaceValue())),
  endpoints: z.optional(z.record(z.string(), z.string())),
  reason: z.optional(z.string()),
  failed_at: z.optional(z.string()),
  expire_id: z.optional(z.string()),
  notice_id: z.optional(z.string()),
  cleanup_id: z.optional(z.string()),
  updated_at: z.optional(z.string()),
  }),
);

const workspaceEntity: EntityType<WorkspaceState> = { kind: 'workspace', initial: unknownWorkspace, fields };

const workspacesOf = (deps: Pick<WorkspaceDeps, 'store' | 'clock'>) => new Entities(deps.store, workspaceEntity, deps.clock);
type Workspaces = ReturnType<typeof workspacesOf>;

/** The fields a change may set: the state's, and the list it is on. */
type WorkspaceChange = Partial<Record<keyof Omit<WorkspaceState, 'version'> | 'gsi1pk' | 'gsi1sk', unknown>>;

function change(actor: Actor, action: string, set: WorkspaceChange, details?: Record<string, unknown>): Change {
  return { set, action, author: { sub: actor.caller.sub, requestId: actor.requestId }, ...(details && { details }) };
}

function logged(actor: Actor, written: WorkspaceState, from: WorkspaceState, action: string): WorkspaceState {
  actor.log.info('workspace event', { workspace: written.id, action, from: from.status, to: written.status, actor: actor.caller.sub });
  return written;
}

/** Progress found while answering a read is Provisioner's doing, not the reader's. */
const asSystem = (actor: Actor): Actor => ({ ...actor, caller: systemCaller('system') });

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const scheduleName = (timer: WorkspaceTimer, id: string, scheduleId: string) => `${timer}-${id}-${scheduleId}`;
const idField: Record<WorkspaceTimer, 'expire_id' | 'notice_id' | 'cleanup_id'> = { expire: 'expire_id', notice: 'notice_id', cleanup: 'cleanup_id' };

/** Creates a timer's schedule and returns its id, for the workspace to record. */
async function startTimer(scheduler: Scheduler, timer: WorkspaceTimer, id: string, at: Date): Promise<string> {
  const scheduleId = hex(6);
  await scheduler.schedule({ name: scheduleName(timer, id, scheduleId), at, target: 'workspace-timer', payload: { workspace: id, timer, schedule_id: scheduleId } });
  return scheduleId;
}

async function stopTimers(scheduler: Scheduler, state: WorkspaceState, timers: readonly WorkspaceTimer[]): Promise<void> {
  await Promise.all(
    timers.flatMap((timer) => {
      const scheduleId = state[idField[timer]];
      if (!scheduleId) return [];
      const name = scheduleName(timer, state.id, scheduleId);
      // notifications: the notice's earlier reminder shares its id.
      return timer === 'notice' ? [scheduler.cancel(name), scheduler.cancel(`${name}-${earlyNotice.label}`)] : [scheduler.cancel(name)];
    }),
  );
}

/**
 * The notice timer: at `expiring_notice` before the expiry (recorded as `workspace.expiring`), and
 * (notifications) a reminder 24 h before under the same id, when that is earlier and still ahead.
 */
async function startNotice(scheduler: Scheduler, id: string, expiresAt: Date, notice: Date, now: Date, rules: WorkspaceRules): Promise<string> {
  const noticeId = await startTimer(scheduler, 'notice', id, notice);
  const early = new Date(expiresAt.getTime() - earlyNotice.ms);
  if (earlyNotice.ms > rules.noticeMs && early.getTime() > now.getTime()) {
    await scheduler.schedule({ name: `${scheduleName('notice', id, noticeId)}-${earlyNotice.label}`, at: early, target: 'workspace-timer', payload: { workspace: id, timer: 'notice', schedule_id: noticeId } });
  }
  return noticeId;
}

/** The API's view of a workspace. */
export function workspaceView(state: WorkspaceState, now: Date) {
  return {
    id: state.id,
    name: state.name ?? state.id,
    owner: state.owner ?? null,
    status: state.status,
    created_at: state.created_at ?? null,
    expires_at: state.expires_at ?? null,
    expires_in: expiresIn(state, now),
    versions: state.versions ?? {},
    endpoints: state.endpoints ?? {},
    reason: state.reason ?? null,
    updated_at: state.updated_at ?? null,
  };
}

/**
 * A workspace the caller may see, as stored (404 for anything else, without a read for a malformed
 * id). A deleted one only for its trail, which outlives it.
 */
async function loadVisible(workspaces: Workspaces, actor: Actor, id: string, deleted = false): Promise<WorkspaceState> {
  if (!isWorkspaceId(id)) throw workspaceNotFound(id);
  return visibleWorkspace(await workspaces.load(id), actor.caller, deleted);
}

/** What a create took before its workspace was written: given back if the write never happens. */
interface Taken {
  slot?: Key;
  name?: string;
  timers: Partial<Pick<WorkspaceState, 'expire_id' | 'notice_id' | 'cleanup_id'>>;
}

/**
 * CREATE: claims an owner's slot and the name, schedules the timers, records the workspace, then
 * asks the backend to start it. A create that fails before its workspace is recorded gives back
 * what it took; one that crashed leaves claims the next claim frees (older than a create's request
 * lives, no workspace holding them) and schedules that find no workspace.
 */
export async function createWorkspace(deps: WorkspaceDeps, actor: Actor, request: CreateRequest): Promise<WorkspaceState> {
  const catalog = deps.catalog.workspaces;
  const now = deps.clock.now();
  const decision = decideCreate(request, catalog, now);
  const id = `ws-${hex(6)}`;
  const rules = workspaceRules(catalog);
  const deadline = new Date(now.getTime() + rules.createTimeoutMs);
  const workspaces = workspacesOf(deps);
  const notice = noticeTime(decision.expiresAt, now, rules);
  const taken: Taken = { timers: {} };
  let created: WorkspaceState | undefined;
  try {
    const max = workspaceLimit(catalog, actor.caller);
    if (max !== undefined) taken.slot = await claimSlot(deps, workspaces, actor.caller.sub, id, max);
    const name = await claimName(deps, workspaces, decision.name, id);
    taken.name = name;
    taken.timers.expire_id = await startTimer(deps.scheduler, 'expire', id, decision.expiresAt);
    if (notice) taken.timers.notice_id = await startNotice(deps.scheduler, id, decision.expiresAt, notice, now, rules);
    taken.timers.cleanup_id = await startTimer(deps.scheduler, 'cleanup', id, new Date(deadline.getTime() + rules.failedTtlMs));
    const set: WorkspaceChange = {
      id,
      name,
      status: 'creating',
      owner: actor.caller.sub,
      created_at: now.toISOString(),
      expires_at: decision.expiresAt.toISOString(),
      deadline: deadline.toISOString(),
      versions: decision.versions,
      values: decision.values,
      ...taken.timers,
      gsi1pk: workspaceKeys.list,
      gsi1sk: workspaceKeys.order(actor.caller.sub, now.toISOString(), id),
    };
    created = await workspaces.commit(id, unknownWorkspace(id), change(actor, 'create', set, { name, expires_at: decision.expiresAt.toISOString(), versions: decision.versions }));
    if (!created) throw new ProvisionerError('service_unavailable', 'The workspace could not be recorded; retry shortly.', undefined, { 'retry-after': '1' });
  } catch (error) {
    await giveBack(deps, workspaces, actor, id, taken);
    throw error;
  }
  logged(actor, created, unknownWorkspace(id), 'create');
  const launched = notice ? created : await recordNotice(workspaces, actor, created);
  try {
    await deps.workspaceBackend.create(launchOf(deps.catalog, launched));
  } catch (error) {
    await fail(deps, workspaces, actor, launched, `the backend refused the workspace: ${(error as Error).message}`, true);
    throw error instanceof ProvisionerError ? error : new ProvisionerError('backend_unavailable', `The ${catalog.backend.kind} backend could not start ${launched.name}; retry shortly.`, undefined, { 'retry-after': '5' });
  }
  return launched;
}

/** Gives back what a create took, unless its workspace was recorded after all (a write that timed out but happened). */
async function giveBack(deps: WorkspaceDeps, workspaces: Workspaces, actor: Actor, id: string, taken: Taken): Promise<void> {
  try {
    if ((await workspaces.load(id)).version > 0) return;
    await Promise.all([
      stopTimers(deps.scheduler, { ...unknownWorkspace(id), ...taken.timers }, workspaceTimers),
      taken.name !== undefined && deps.store.release(workspaceKeys.name(taken.name), id),
      taken.slot && deps.store.release(taken.slot, id),
    ]);
  } catch (error) {
    // What is left is freed by the next claim, and the schedules find no workspace.
    actor.log.warn('a failed create could not give back its claims', { workspace: id, error: (error as Error).message });
  }
}

/** What the backend starts: the versions and the merged values of a recorded workspace. */
function launchOf(catalog: Catalog, state: WorkspaceState) {
  const full = { id: state.id, name: state.name ?? state.id, owner: state.owner ?? '', expires_at: state.expires_at ?? '', versions: state.versions ?? {}, values: state.values ?? {} };
  return { id: full.id, name: full.name, owner: full.owner, expiresAt: full.expires_at, versions: full.versions, environment: workspaceVariables(catalog.workspaces, full) };
}

/**
 * Claims `key` (a set of at most `max` workspace ids) for `id`. When full, members claimed longer ago
 * than a create's request lives whose workspace does not hold them (`holds`) — a crash before the workspace
 * was recorded, or after it was deleted — are freed and the claim retried once.
 */
async function claimFor(deps: WorkspaceDeps, workspaces: Workspaces, key: Key, id: string, max: number, holds: (state: WorkspaceState) => boolean): Promise<boolean> {
  const now = deps.clock.now();
  const claim = await deps.store.claim(key, id, max, now);
  if (claim.won) return true;
  const settledBefore = now.getTime() - Math.min(createRequestWindowMs, workspaceRules(deps.catalog.workspaces).createTimeoutMs);
  const stale: string[] = [];
  for (const [other, claimedAt] of Object.entries(claim.members)) {
    const state = await workspaces.load(other);
    if (!holds(state) && (state.version > 0 || Date.parse(claimedAt) < settledBefore)) stale.push(other);
  }
  if (stale.length === 0) return false;
  await Promise.all(stale.map((other) => deps.store.release(key, other)));
  return (await deps.store.claim(key, id, max, now)).won;
}

/** One of the owner's `workspaces.limits` slots (403 `limit_exceeded` when all are held). */
async function claimSlot(deps: WorkspaceDeps, workspaces: Workspaces, owner: string, id: string, max: number): Promise<Key> {
  const key = workspaceKeys.slots(owner);
  if (!(await claimFor(deps, workspaces, key, id, max, (state) => holdsSlot(state, owner)))) throw workspaceLimitReached(max);
  return key;
}

/** A name is unique while its workspace exists: a claim of one member, the workspace id (released only by that id). */
async function claimName(deps: WorkspaceDeps, workspaces: Workspaces, name: string | undefined, id: string): Promise<string> {
  const holdsName = (claimed: string) => (state: WorkspaceState) => state.version > 0 && state.status !== 'deleted' && state.name === claimed;
  if (name !== undefined) {
    if (await claimFor(deps, workspaces, workspaceKeys.name(name), id, 1, holdsName(name))) return name;
    throw new ProvisionerError('name_taken', `A workspace named ${name} exists; choose another name or leave it out to get one.`, { field: 'name' });
  }
  // Generated names collide only by chance: a few tries.
  for (let attempt = 0; attempt < 5; attempt++) {
    const generated = `ws-${hex(3)}`;
    if (await claimFor(deps, workspaces, workspaceKeys.name(generated), id, 1, holdsName(generated))) return generated;
  }
  throw new ProvisionerError('service_unavailable', 'Could not generate a free workspace name; retry, or give one.', undefined, { 'retry-after': '1' });
}

/** LIST: the caller's workspaces (an administrator's: everyone's), one Query of the workspace list. */
export async function listWorkspaces(deps: Pick<WorkspaceDeps, 'store'>, actor: Actor, limit: number, nextToken?: string): Promise<Page<WorkspaceState>> {
  const all = actor.caller.level === 'administrator';
  const page = await deps.store.query({ index: 'gsi1', partition: workspaceKeys.list, ...(!all && { prefix: workspaceKeys.ownerPrefix(actor.caller.sub) }), limit, nextToken, newestFirst: true });
  const items = page.items.flatMap((item) => {
    const parsed = fields().safeParse(item);
    return parsed.success ? [{ ...parsed.data, version: item.version }] : [];
  });
  return { items, ...(page.nextToken && { nextToken: page.nextToken }) };
}

/** GET: the workspace, brought up to date by asking the backend while it is creating or deleting. */
export async function readWorkspace(deps: WorkspaceDeps, actor: Actor, id: string): Promise<WorkspaceState> {
  const workspaces = workspacesOf(deps);
  const state = await loadVisible(workspaces, actor, id);
  const fresh = await refresh(deps, workspaces, asSystem(actor), state, true).catch((error: unknown) => {
    // A read answers from the store while the backend (or the scheduler) fails; the next read checks again.
    if (!(error instanceof ProvisionerError && error.code === 'dependency_unavailable')) throw error;
    actor.log.warn('workspace progress not checked: a dependency failed', { workspace: id, code: error.code });
    return state;
  });
  // Deleted while being read: gone for the reader too.
  return visibleWorkspace(fresh, systemCaller('system'));
}

/** EXPIRED: from the store only. */
export async function workspaceExpiry(deps: Pick<WorkspaceDeps, 'store' | 'clock'>, actor: Actor, id: string) {
  const state = await loadVisible(workspacesOf(deps), actor, id);
  const expiresAt = state.expires_at ?? null;
  return { expired: expiresAt !== null && deps.clock.now().getTime() >= Date.parse(expiresAt), expires_at: expiresAt };
}

/** EXTEND (or shorten): the new deletion schedule first, the workspace points at it, the old one removed after. */
export async function extendWorkspace(deps: WorkspaceDeps, actor: Actor, id: string, expiry: string): Promise<WorkspaceState> {
  const workspaces = workspacesOf(deps);
  const loaded = await loadVisible(workspaces, actor, id);
  const rules = workspaceRules(deps.catalog.workspaces);
  return workspaces.update<WorkspaceState>(
    id,
    async (state) => {
      const now = deps.clock.now();
      const expiresAt = decideExtend(state, expiry, deps.catalog.workspaces, now);
      const notice = noticeTime(expiresAt, now, rules);
      const expireId = await startTimer(deps.scheduler, 'expire', id, expiresAt);
      const noticeId = notice && (await startNotice(deps.scheduler, id, expiresAt, notice, now, rules));
      const made = { ...state, expire_id: expireId, notice_id: noticeId };
      return {
        from: state,
        change: change(actor, 'extend', { expires_at: expiresAt.toISOString(), expire_id: expireId, notice_id: noticeId }, { from: state.expires_at, expires_at: expiresAt.toISOString() }),
        after: async (extended) => {
          logged(actor, extended, state, 'extend');
          await stopTimers(deps.scheduler, state, ['expire', 'notice']);
          await deps.workspaceBackend.retag?.(id, expiresAt.toISOString());
          return notice ? extended : recordNotice(workspaces, actor, extended);
        },
        lost: () => stopTimers(deps.scheduler, made, ['expire', 'notice']),
      };
    },
    loaded,
  );
}

/** DELETE from the API: owners and administrators. */
export async function deleteWorkspace(deps: WorkspaceDeps, actor: Actor, id: string): Promise<WorkspaceState> {
  const workspaces = workspacesOf(deps);
  return remove(deps, workspaces, actor, await loadVisible(workspaces, actor, id));
}

/**
 * Deleted stays so; anything else but deleting starts the deletion (timers off, recorded as
 * `deleting`), then the deletion is driven: name released, backend told. A workspace already
 * deleting is driven again, so a DELETE retried after a failure finishes what the first began.
 * `still`: a timed deletion's condition, decided again on every state the write meets (a PATCH that
 * won the race moved the expiry: the old timer then does nothing).
 */
async function remove(deps: WorkspaceDeps, workspaces: Workspaces, actor: Actor, loaded: WorkspaceState, still: (state: WorkspaceState) => boolean = () => true): Promise<WorkspaceState> {
  return workspaces.update<WorkspaceState>(
    loaded.id,
    async (state) => {
      if (state.status === 'deleted' || state.version === 0 || !still(state)) return { done: state };
      if (state.status === 'deleting') return { done: await driveDelete(deps, workspaces, actor, state) };
      const set: WorkspaceChange = { status: 'deleting', deadline: undefined, expire_id: undefined, notice_id: undefined, cleanup_id: undefined };
      return {
        from: state,
        change: change(actor, 'delete', set),
        after: async (deleting) => {
          logged(actor, deleting, state, 'delete');
          await stopTimers(deps.scheduler, state, workspaceTimers);
          return driveDelete(deps, workspaces, actor, deleting);
        },
      };
    },
    loaded,
  );
}

/** A deleting workspace's side effects, each safe to repeat: its name released (by its id), the backend told, progress recorded. */
async function driveDelete(deps: WorkspaceDeps, workspaces: Workspaces, actor: Actor, deleting: WorkspaceState): Promise<WorkspaceState> {
  if (deleting.name) await deps.store.release(workspaceKeys.name(deleting.name), deleting.id);
  await deps.workspaceBackend.delete(deleting.id);
  return refresh(deps, workspaces, actor, deleting, false);
}

/**
 * Progress, found by asking the backend: creating becomes ready (with its endpoints) or failed (on
 * the backend's word or past its deadline); deleting becomes deleted once nothing is left.
 * `reschedule`: a failure moves the cleanup to `failed_ttl` from now (the timer function, which
 * cannot schedule itself, deletes right away instead).
 */
async function refresh(deps: WorkspaceDeps, workspaces: Workspaces, actor: Actor, state: WorkspaceState, reschedule: boolean): Promise<WorkspaceState> {
  if (state.status !== 'creating' && state.status !== 'deleting') return state;
  const status = await deps.workspaceBackend.status(state.id);
  if (state.status === 'deleting') {
    if (status.state !== 'gone') return state;
    const written = await workspaces.commit(state.id, state, change(actor, 'deleted', { status: 'deleted', endpoints: undefined, gsi1pk: undefined, gsi1sk: undefined }));
    if (!written) return workspaces.load(state.id);
    // Nothing is left: the owner's slot is free again.
    if (state.owner) await deps.store.release(workspaceKeys.slots(state.owner), state.id);
    return logged(actor, written, state, 'deleted');
  }
  if (status.state === 'running' && status.host !== undefined && status.port !== undefined) {
    const endpoints = endpointsOf(deps.catalog.workspaces, { host: status.host, port: status.port, id: state.id, name: state.name ?? state.id });
    const written = await workspaces.commit(state.id, state, change(actor, 'ready', { status: 'ready', endpoints, deadline: undefined, cleanup_id: undefined }, { endpoints }));
    if (!written) return workspaces.load(state.id);
    await stopTimers(deps.scheduler, state, ['cleanup']);
    return logged(actor, written, state, 'ready');
  }
  const pastDeadline = state.deadline !== undefined && deps.clock.now().getTime() >= Date.parse(state.deadline);
  // 'gone' while creating means not started yet (the backend call may still be on its way).
  if (status.state === 'failed' || pastDeadline) {
    const reason = status.state === 'failed' ? (status.reason ?? 'the backend reports it failed') : `not ready by its deadline ${state.deadline}`;
    return fail(deps, workspaces, actor, state, reason, reschedule);
  }
  return state;
}

/** Marks a workspace failed with its reason; it stays for `failed_ttl` (to be looked at), then the cleanup deletes it. */
async function fail(deps: WorkspaceDeps, workspaces: Workspaces, actor: Actor, state: WorkspaceState, reason: string, reschedule: boolean): Promise<WorkspaceState> {
  const now = deps.clock.now();
  const cleanupId = reschedule ? await startTimer(deps.scheduler, 'cleanup', state.id, new Date(now.getTime() + workspaceRules(deps.catalog.workspaces).failedTtlMs)) : state.cleanup_id;
  const set: WorkspaceChange = { status: 'failed', reason, failed_at: now.toISOString(), deadline: undefined, cleanup_id: cleanupId };
  const failed = await workspaces.commit(state.id, state, change(actor, 'failed', set, { reason }));
  if (!failed) {
    if (reschedule && cleanupId) await deps.scheduler.cancel(scheduleName('cleanup', state.id, cleanupId));
    return workspaces.load(state.id);
  }
  if (reschedule) await stopTimers(deps.scheduler, state, ['cleanup']);
  return logged(actor, failed, state, 'failed');
}

/** Records `workspace.expiring` (the hook for notifications): a change of no status, in the workspace's events. */
async function recordNotice(workspaces: Workspaces, actor: Actor, state: WorkspaceState): Promise<WorkspaceState> {
  const written = await workspaces.commit(state.id, state, change(actor, 'workspace.expiring', { notice_id: undefined }, { expires_at: state.expires_at }));
  return written ?? workspaces.load(state.id);
}

/** A workspace timer fired: only the schedule the workspace still records does anything. */
export async function workspaceTimer(deps: WorkspaceDeps, actor: Actor, input: TargetInput<'workspace-timer'>): Promise<string> {
  if (!isWorkspaceId(input.workspace)) return 'stale';
  const workspaces = workspacesOf(deps);
  const state = await workspaces.load(input.workspace);
  if (state[idField[input.timer]] !== input.schedule_id) {
    actor.log.info('replaced workspace schedule fired; nothing to do', { workspace: input.workspace, timer: input.timer, schedule_id: input.schedule_id });
    return 'stale';
  }
  if (input.timer === 'notice') {
    if (state.status !== 'creating' && state.status !== 'ready') return 'stale';
    const noticeMs = workspaceRules(deps.catalog.workspaces).noticeMs;
    const expiresAt = Date.parse(state.expires_at ?? '');
    // notifications: the earlier reminder (24 h) only tells; the notice itself is recorded, then told.
    if (!timerDue(new Date(expiresAt - noticeMs).toISOString(), deps.clock.now())) {
      await workspaceExpiring(deps, actor, state, earlyNotice.label);
      return 'reminded';
    }
    await recordNotice(workspaces, actor, state);
    await workspaceExpiring(deps, actor, state, deps.catalog.workspaces.expiring_notice);
    return 'noticed';
  }
  if (input.timer === 'expire') {
    // Decided again on whatever state the write meets: an extension that won records a new expiry and schedule.
    const expiring = (current: WorkspaceState) => current.expire_id === input.schedule_id && timerDue(current.expires_at, deps.clock.now());
    if (!expiring(state)) return 'stale';
    const after = await remove(deps, workspaces, actor, state, expiring);
    return after.status === 'deleting' || after.status === 'deleted' ? after.status : 'stale';
  }
  // Past its deadline a creating workspace becomes ready or failed; a refresh that lost a race (to an extend, say) reads again.
  let current = state;
  for (let attempt = 0; attempt < 3 && current.status === 'creating'; attempt++) current = await refresh(deps, workspaces, actor, current, false);
  if (current.status !== 'failed') return current.status;
  return (await remove(deps, workspaces, actor, current, (latest) => latest.status === 'failed' && latest.cleanup_id === input.schedule_id)).status;
}

/**
 * The janitor's part for workspaces: brings every listed workspace to where its own timers and
 * requests would have, had nothing crashed or failed. Deleting → the deletion driven again;
 * creating past its deadline → ready or failed; failed past `failed_ttl`, or anything past its
 * expiry → deleted. One workspace's failure does not stop the others.
 */
export async function sweepWorkspaces(deps: WorkspaceDeps, actor: Actor): Promise<{ examined: number; changed: string[] }> {
  const workspaces = workspacesOf(deps);
  const changed: string[] = [];
  let examined = 0;
  let nextToken: string | undefined;
  do {
    const page = await listWorkspaces(deps, { ...actor, caller: systemCaller('system') }, 100, nextToken);
    await forEachLimited(page.items, janitorConcurrency, async (listed) => {
      examined++;
      const after = await converge(deps, workspaces, actor, listed).catch((error: unknown) => {
        actor.log.warn('workspace not converged; the next sweep tries again', { workspace: listed.id, error: (error as Error).message });
        return listed;
      });
      if (after.status !== listed.status) changed.push(listed.id);
    });
    nextToken = page.nextToken;
  } while (nextToken);
  return { examined, changed };
}

/**
 * A creating workspace the backend has nothing of: its create was recorded but the start never
 * happened (a crash between the two). The start is asked again (backends make a repeated start of
 * one workspace a no-op), then progress is checked as a read would.
 */
async function redriveCreate(deps: WorkspaceDeps, workspaces: Workspaces, actor: Actor, state: WorkspaceState): Promise<WorkspaceState> {
  const pastDeadline = state.deadline !== undefined && deps.clock.now().getTime() >= Date.parse(state.deadline);
  if (!pastDeadline && (await deps.workspaceBackend.status(state.id)).state === 'gone') {
    actor.log.info('workspace start re-driven: recorded as creating, nothing started', { workspace: state.id });
    await deps.workspaceBackend.create(launchOf(deps.catalog, state));
  }
  return refresh(deps, workspaces, actor, state, false);
}

async function converge(deps: WorkspaceDeps, workspaces: Workspaces, actor: Actor, listed: WorkspaceState): Promise<WorkspaceState> {
  // The list is an index, read eventually: the state itself decides.
  const state = await workspaces.load(listed.id);
  if (state.status === 'deleting') return driveDelete(deps, workspaces, actor, state);
  const current = state.status === 'creating' ? await redriveCreate(deps, workspaces, actor, state) : state;
  const now = deps.clock.now();
  const keptUntil = Date.parse(current.failed_at ?? '') + workspaceRules(deps.catalog.workspaces).failedTtlMs;
  const failedLongAgo = current.status === 'failed' && !(now.getTime() < keptUntil);
  const expired = (current.status === 'creating' || current.status === 'ready' || current.status === 'failed') && current.expires_at !== undefined && timerDue(current.expires_at, now);
  return failedLongAgo || expired ? remove(deps, workspaces, actor, current) : current;
}

/** The audit trail of a workspace the caller may see, newest first. */
export async function workspaceTrail(deps: Pick<WorkspaceDeps, 'store' | 'clock'>, actor: Actor, id: string, limit: number, nextToken?: string): Promise<Page<AuditEvent>> {
  const workspaces = workspacesOf(deps);
  await loadVisible(workspaces, actor, id, true);
  return workspaces.trail(id, limit, nextToken);
}
