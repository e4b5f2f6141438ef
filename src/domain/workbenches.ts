import type { Catalog } from './catalog.js';
import { parseDuration } from './duration.js';
import { ProvisionerError } from './errors.js';
import { atLeast, type Caller, levels } from './levels.js';

/**
 * Workbenches: one container per user (ECS in AWS, a process locally), started and stopped on
 * demand. `absent` is a workbench never written; `deleted` one removed (kept for its audit trail,
 * answered as 404). `pending_instance`: a dedicated instance was launched or started and the task
 * waits for it to register with the cluster. The others mirror the task's life as the backend reports it.
 */
export const workbenchStatuses = ['absent', 'provisioning', 'pending_instance', 'pending', 'running', 'stopping', 'stopped', 'failed', 'deleted'] as const;
export type WorkbenchStatus = (typeof workbenchStatuses)[number];

/** What a backend can say about a workbench's current task: a status of the task, or nothing left. */
export const taskStates = ['provisioning', 'pending', 'running', 'stopping', 'stopped', 'gone'] as const;
export type TaskState = (typeof taskStates)[number];

/** Statuses in which a task is (or is about to be) alive: a start is a no-op, a stop has work to do. */
export const liveStatuses: readonly WorkbenchStatus[] = ['provisioning', 'pending_instance', 'pending', 'running'];

export interface WorkbenchState {
  id: string;
  status: WorkbenchStatus;
  version: number;
  name?: string;
  /** The owner's subject (`github:<login>`) and login, for authorization and the endpoint. */
  owner?: string;
  owner_login?: string;
  cpu?: number;
  memory?: number;
  gpu?: number;
  dedicated_instance?: boolean;
  capacity_provider?: string;
  /** The current task: each start gets a new run id, which the backend is asked by. */
  run_id?: string;
  /** The ECS task the run's start returned (status and stop ask for exactly it). */
  task_arn?: string;
  /** The dedicated instance a `pending_instance` run waits for. */
  instance_id?: string;
  endpoint?: string;
  /** Logins the owner shared it with. */
  shares?: string[];
  /** The auto-stop schedule of the current run and when it fires. */
  stop_id?: string;
  stops_at?: string;
  /** A run not yet seen by the backend by then failed to start (a crash or a lost launch); cleared once it runs. */
  start_by?: string;
  reason?: string;
  created_at?: string;
  updated_at?: string;
}

export function absentWorkbench(id: string): WorkbenchState {
  return { id, status: 'absent', version: 0 };
}

/** The one answer for a workbench that does not exist or that the caller may not see, so ids do not leak. */
export function workbenchNotFound(id: string): ProvisionerError {
  return new ProvisionerError('workbench_not_found', `No workbench ${id}; GET /v1/workbenches lists yours.`);
}

export type Access = 'owner' | 'sharee';

/** GitHub logins are case-insensitive: shares are stored and compared in lowercase. */
export const normalLogin = (login: string) => login.toLowerCase();
const sameLogin = (a: string, b: string) => normalLogin(a) === normalLogin(b);

/** How the caller may use a workbench: its owner (or an administrator, or Provisioner), a sharee, or not at all (404). */
export function accessTo(state: WorkbenchState, caller: Caller): Access {
  if (state.status === 'absent' || state.status === 'deleted') throw workbenchNotFound(state.id);
  if (caller.level === 'administrator' || caller.sub === state.owner) return 'owner';
  if (caller.login !== null && caller.sub.startsWith('github:') && state.shares?.some((l) => sameLogin(l, caller.login ?? ''))) return 'sharee';
  throw workbenchNotFound(state.id);
}

/** Deleting and sharing are the owner's (and administrators'); a sharee may only start and stop. */
export function requireOwner(state: WorkbenchState, caller: Caller, what: string): void {
  if (accessTo(state, caller) !== 'owner') throw new ProvisionerError('forbidden', `Only the owner of ${state.id} may ${what} it.`);
}

export interface WorkbenchRequest {
  name: string;
  cpu: number;
  memory: number;
  gpu?: number;
  dedicated_instance?: boolean;
}

export type Limit = Catalog['workbenches']['limits'][keyof Catalog['workbenches']['limits']];

/**
 * The limits of a caller's level: its own entry, else the nearest lower level's; administrators
 * without an entry have none, and anyone else without one gets github_member's default.
 */
export function limitsFor(catalog: Catalog, caller: Caller): Limit | undefined {
  const table = catalog.workbenches.limits;
  const own = table[caller.level];
  if (own) return own;
  if (caller.level === 'administrator') return undefined;
  for (let i = levels.indexOf(caller.level); i >= 0; i--) {
    const lower = table[levels[i] ?? 'anonymous'];
    if (lower) return lower;
  }
  return { count: 1, cpu: 1024, memory: 4096, gpu: 0 };
}

/** Memory per vCPU a task may have: 0.5 to 8 GiB, the range ECS's capacity accepts on every provider. */
const minMemoryPerCpuUnit = 0.5;
const maxMemoryPerCpuUnit = 8;

/**
 * Create: the size must be a valid combination (400 naming the range), within the caller's
 * limits (403 `limit_exceeded` naming the limit), and fit a provider; the cheapest that fits wins.
 * The `count` limit is returned, for the create to claim a slot under it (a conditional write).
 */
export function decideCreate(request: WorkbenchRequest, caller: Caller, catalog: Catalog): { provider: string; count?: number } {
  if (!atLeast(caller.level, 'github_member')) throw new ProvisionerError('authentication_required', 'Log in to own workbenches.');
  const gpu = request.gpu ?? 0;
  const minMemory = Math.ceil(request.cpu * minMemoryPerCpuUnit);
  const maxMemory = request.cpu * maxMemoryPerCpuUnit;
  if (request.memory < minMemory || request.memory > maxMemory) {
    throw new ProvisionerError('invalid_request', `memory must be between ${minMemory} and ${maxMemory} MiB for cpu ${request.cpu} (0.5 to 8 GiB per vCPU).`, {
      field: 'memory',
      min: minMemory,
      max: maxMemory,
    });
  }
  const limits = limitsFor(catalog, caller);
  if (limits) {
    const over = (limit: string, value: number, max: number) =>
      new ProvisionerError('limit_exceeded', `${limit} ${value} is above your level's limit of ${max}.`, { limit, value, max });
    if (request.cpu > limits.cpu) throw over('cpu', request.cpu, limits.cpu);
    if (request.memory > limits.memory) throw over('memory', request.memory, limits.memory);
    if (gpu > limits.gpu) throw over('gpu', gpu, limits.gpu);
  }
  const fitting = catalog.workbenches.providers.filter((p) => p.max_cpu >= request.cpu && p.max_memory >= request.memory && p.max_gpu >= gpu);
  const cheapest = fitting.reduce<(typeof fitting)[number] | undefined>((best, p) => (best === undefined || p.cost < best.cost ? p : best), undefined);
  if (!cheapest) {
    const providers = catalog.workbenches.providers;
    const most = (key: 'max_cpu' | 'max_memory' | 'max_gpu') => Math.max(...providers.map((p) => p[key]));
    throw new ProvisionerError(
      'invalid_request',
      `No capacity fits cpu ${request.cpu}, memory ${request.memory}, gpu ${gpu}: the largest offer cpu ${most('max_cpu')}, memory ${most('max_memory')} MiB, gpu ${most('max_gpu')}.`,
      { field: gpu > most('max_gpu') ? 'gpu' : request.cpu > most('max_cpu') ? 'cpu' : 'memory', max_cpu: most('max_cpu'), max_memory: most('max_memory'), max_gpu: most('max_gpu') },
    );
  }
  return { provider: cheapest.name, ...(limits && { count: limits.count }) };
}

/** The count limit, as a create that found every slot taken answers it. */
export function countLimitReached(max: number): ProvisionerError {
  return new ProvisionerError('limit_exceeded', `You own ${max} workbenches, the most allowed at your level; delete one first.`, { limit: 'count', value: max + 1, max });
}

/** When a run started now stops by itself: the catalog's `max_runtime` (12 h unless it says otherwise). */
export function stopsAt(catalog: Catalog, now: Date): Date {
  return new Date(now.getTime() + (parseDuration(catalog.workbenches.max_runtime) ?? 12 * 3_600_000));
}

/** The public endpoint from the catalog's template. */
export function endpointFor(template: string, state: Pick<WorkbenchState, 'id' | 'owner_login' | 'owner' | 'name'>): string {
  const owner = state.owner_login ?? state.owner?.replace(/[^A-Za-z0-9._-]/g, '-') ?? '';
  return template.replaceAll('{owner}', encodeURIComponent(owner)).replaceAll('{id}', state.id).replaceAll('{name}', encodeURIComponent(state.name ?? ''));
}

/**
 * What a task state found by a read means for the stored status: progress to record, or nothing.
 * A task that stopped without being asked is `failed` with its reason, never `running`; one that
 * should be stopping but still lives must be stopped again (a start raced the stop).
 */
export function settle(state: WorkbenchState, task: TaskState): { status: WorkbenchStatus } | { stopAgain: true } | undefined {
  if (state.status === 'stopping') {
    if (task === 'stopped' || task === 'gone') return { status: 'stopped' };
    if (task === 'stopping') return undefined;
    return { stopAgain: true };
  }
  if (!liveStatuses.includes(state.status)) return undefined;
  // Nothing yet while provisioning: the launch may still be on its way.
  if (task === 'gone') return state.status === 'provisioning' ? undefined : { status: 'failed' };
  if (task === 'stopped' || task === 'stopping') return { status: 'failed' };
  return task === state.status ? undefined : { status: task };
}
