import type { WorkspacesCatalog } from './catalog.js';
import { parseDuration } from './duration.js';
import { ProvisionerError } from './errors.js';
import type { Caller } from './levels.js';
import { isResourceName, resourceNameRule } from './names.js';

/**
 * Workspaces: per-user environments with an expiry (the seed's Helium), as pure decisions. A
 * workspace is `creating` until its backend runs it (`ready`) or it fails; `deleting` once its
 * deletion started, `deleted` when nothing is left (then it answers 404, like one never made).
 */
export const workspaceStatuses = ['creating', 'ready', 'failed', 'deleting', 'deleted'] as const;
export type WorkspaceStatus = (typeof workspaceStatuses)[number];

/** What a timed call of a workspace does: delete at the expiry, warn before it, clean up a failed one. */
export const workspaceTimers = ['expire', 'notice', 'cleanup'] as const;
export type WorkspaceTimer = (typeof workspaceTimers)[number];

/** Workspace ids: `ws-` and 12 hex digits, a DNS label too (the backends name resources by it). */
export const workspaceIdPattern = /^ws-[0-9a-f]{12}$/;

export type WorkspaceValue = string | number | boolean;

export interface WorkspaceState {
  id: string;
  status: WorkspaceStatus;
  version: number;
  name?: string;
  /** The creator's subject (`github:<login>`); the only non-administrator who sees it. */
  owner?: string;
  created_at?: string;
  expires_at?: string;
  /** Creating: must be ready by then. */
  deadline?: string;
  versions?: Record<string, string>;
  /** The request's overrides, as given (the template's values are merged when the backend starts it). */
  values?: Record<string, WorkspaceValue>;
  endpoints?: Record<string, string>;
  reason?: string;
  failed_at?: string;
  /** The current schedule of each timer; one that fires with another id was replaced and does nothing. */
  expire_id?: string;
  notice_id?: string;
  cleanup_id?: string;
  updated_at?: string;
}

export function unknownWorkspace(id: string): WorkspaceState {
  return { id, status: 'deleted', version: 0 };
}

/** The one answer for a workspace that does not exist, or that the caller may not see. */
export function workspaceNotFound(id: string): ProvisionerError {
  return new ProvisionerError('workspace_not_found', `No workspace ${id}; GET /v1/workspaces lists yours.`);
}

/** Owners and administrators see a workspace (a deleted one only when `deleted`, for its trail); to anyone else it does not exist. */
export function visibleWorkspace(state: WorkspaceState, caller: Caller, deleted = false): WorkspaceState {
  if (state.version === 0 || (state.status === 'deleted' && !deleted)) throw workspaceNotFound(state.id);
  if (caller.level !== 'administrator' && state.owner !== caller.sub) throw workspaceNotFound(state.id);
  return state;
}

/**
 * How long a create can hold claims before recording its workspace: it does so within its request
 * (API Gateway cuts at 30 s, the API function's timeout is 29 s). An older claim no recorded
 * workspace holds is a crash's.
 */
export const createRequestWindowMs = 60_000;

export interface WorkspaceRules {
  defaultExpiryMs: number;
  maxExpiryMs: number;
  failedTtlMs: number;
  noticeMs: number;
  createTimeoutMs: number;
}

/** The catalog's durations in milliseconds (validated as durations by the catalog schema). */
export function workspaceRules(catalog: WorkspacesCatalog): WorkspaceRules {
  const ms = (text: string) => parseDuration(text) ?? 0;
  return {
    defaultExpiryMs: ms(catalog.default_expiry),
    maxExpiryMs: ms(catalog.max_expiry),
    failedTtlMs: ms(catalog.failed_ttl),
    noticeMs: ms(catalog.expiring_notice),
    createTimeoutMs: ms(catalog.create_timeout),
  };
}

export interface CreateRequest {
  name?: string;
  expiry?: string;
  versions?: Record<string, string>;
  values?: Record<string, WorkspaceValue>;
}

export interface CreateDecision {
  /** Undefined: generate one. */
  name?: string;
  expiresAt: Date;
  versions: Record<string, string>;
  values: Record<string, WorkspaceValue>;
}

const invalid = (field: string, message: string, details?: Record<string, unknown>) =>
  new ProvisionerError('invalid_request', `${field} ${message}`, { field, ...details });

/**
 * An ISO 8601 time with its date, hours, minutes and zone (`2026-12-05T10:00:00Z`, `...+01:00`):
 * `Date.parse` alone would take `Fri Dec 05 2026` or `12345` as a time.
 */
const isoTimePattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
export const expiryRule = 'must be a duration such as "36h" or "2d", or an ISO 8601 time such as "2026-12-05T10:00:00Z"';

/** The time an expiry text names, from `now`; undefined for anything but a duration or an ISO 8601 time. */
export function expiryAt(expiry: string, now: Date): Date | undefined {
  const ms = parseDuration(expiry);
  if (ms !== undefined) return new Date(now.getTime() + ms);
  if (!isoTimePattern.test(expiry)) return undefined;
  const at = new Date(expiry);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/**
 * An expiry: a duration from now (`"36h"`, `"2d"`) or an ISO 8601 time; in the future, and no later
 * than `max_expiry` after the creation (exactly the limit is allowed).
 */
export function expiryTime(expiry: string, createdAt: Date, now: Date, catalog: WorkspacesCatalog): Date {
  const rules = workspaceRules(catalog);
  const at = expiryAt(expiry, now);
  if (at === undefined) throw invalid('expiry', `${expiryRule}.`);
  if (at.getTime() <= now.getTime()) throw invalid('expiry', 'must be in the future.');
  const latest = createdAt.getTime() + rules.maxExpiryMs;
  if (at.getTime() > latest) {
    throw invalid('expiry', `must be at most ${catalog.max_expiry} after the workspace's creation, no later than ${new Date(latest).toISOString()}.`, {
      max_expiry: catalog.max_expiry,
      latest: new Date(latest).toISOString(),
    });
  }
  return at;
}

/** The keys Provisioner itself sets on every workspace: requests may not override them. */
export function provisionerKeys(catalog: WorkspacesCatalog): string[] {
  return ['workspace.id', 'workspace.name', 'workspace.owner', 'workspace.expiresAt', ...Object.keys(catalog.template.components).map((c) => `${c}.version`)];
}

/**
 * Values reach a workspace only under this prefix (`pachd.logLevel` → `PROVISIONER_VALUE_PACHD_LOGLEVEL`):
 * a key never names a variable of its own, so none can be `NODE_OPTIONS`, `LD_PRELOAD`, `PATH` or `AWS_*`.
 */
export const valueVariablePrefix = 'PROVISIONER_VALUE_';

/** The one variable a values key becomes; keys that map to the same variable are the same key. */
export function variableOf(key: string): string {
  return `${valueVariablePrefix}${key.replace(/\./g, '_').toUpperCase()}`;
}

/** Whether two keys touch once mapped: the same variable, or one under the other (`AUTH.enabled` under `auth`). */
const overlaps = (a: string, b: string) => {
  const [x, y] = [variableOf(a), variableOf(b)];
  return x === y || x.startsWith(`${y}_`) || y.startsWith(`${x}_`);
};

/** Names of `Object.prototype`'s members: as keys of a plain object they break the store's marshalling and lookups. */
const reservedKeys = new Set(Object.getOwnPropertyNames(Object.prototype));

/** CREATE's spec: name, expiry, versions of known components, overrides of keys requests may set. */
export function decideCreate(request: CreateRequest, catalog: WorkspacesCatalog, now: Date): CreateDecision {
  if (request.name !== undefined && !isResourceName(request.name)) throw invalid('name', `must be a DNS label: ${resourceNameRule}.`);
  const rules = workspaceRules(catalog);
  const expiresAt = request.expiry === undefined ? new Date(now.getTime() + rules.defaultExpiryMs) : expiryTime(request.expiry, now, now, catalog);
  const components = catalog.template.components;
  const versions: Record<string, string> = {};
  for (const [name, component] of Object.entries(components)) versions[name] = component.default;
  for (const [name, version] of Object.entries(request.versions ?? {})) {
    if (!Object.hasOwn(components, name)) {
      throw invalid(`versions.${name}`, `is not a component of workspaces; they are ${Object.keys(components).join(', ')}.`, { components: Object.keys(components) });
    }
    versions[name] = version;
  }
  const controlled = [...provisionerKeys(catalog), ...catalog.template.controlled];
  const seen = new Map<string, string>();
  for (const key of Object.keys(request.values ?? {})) {
    if (reservedKeys.has(key)) throw invalid(`values.${key}`, 'is a reserved name; choose another key.', { key });
    const owner = controlled.find((c) => overlaps(key, c));
    if (owner !== undefined) {
      const hint = owner.endsWith('.version') ? ` (set it with versions.${owner.slice(0, -'.version'.length)})` : '';
      throw invalid(`values.${key}`, `cannot be set: ${owner} is controlled by Provisioner${hint}.`, { key, controlled: owner });
    }
    const other = seen.get(variableOf(key));
    if (other !== undefined) throw invalid(`values.${key}`, `is the same key as ${other} (keys differ by more than case).`, { key, collides_with: other });
    seen.set(variableOf(key), key);
  }
  return { ...(request.name !== undefined && { name: request.name }), expiresAt, versions, values: request.values ?? {} };
}

/**
 * The variables a workspace runs with, each a value under `PROVISIONER_VALUE_`, lowest precedence
 * first: the template's values, then the request's overrides, then Provisioner's own keys (which
 * requests cannot name, so nothing is silently ignored). Merged by variable, so a request's
 * `PACHD.LOGLEVEL` overrides the template's `pachd.logLevel`.
 */
export function workspaceVariables(catalog: WorkspacesCatalog, state: Required<Pick<WorkspaceState, 'id' | 'name' | 'owner' | 'expires_at' | 'versions'>> & Pick<WorkspaceState, 'values'>) {
  const own: Record<string, WorkspaceValue> = {
    'workspace.id': state.id,
    'workspace.name': state.name,
    'workspace.owner': state.owner,
    'workspace.expiresAt': state.expires_at,
  };
  for (const [component, version] of Object.entries(state.versions)) own[`${component}.version`] = version;
  const variables: Record<string, string> = {};
  for (const values of [catalog.template.values, state.values ?? {}, own]) {
    for (const [key, value] of Object.entries(values)) variables[variableOf(key)] = String(value);
  }
  return variables;
}

/** The catalog's endpoint templates, filled in for a running workspace. */
export function endpointsOf(catalog: WorkspacesCatalog, fill: { host: string; port: number; id: string; name: string }): Record<string, string> {
  const values: Record<string, string> = { host: fill.host, port: String(fill.port), id: fill.id, name: fill.name };
  return Object.fromEntries(Object.entries(catalog.template.endpoints).map(([name, template]) => [name, template.replace(/\{(host|port|id|name)\}/g, (_, key: string) => values[key] ?? '')]));
}

/** EXTEND (PATCH expiry): only a workspace on its way or ready; the limit counts from its creation. */
export function decideExtend(state: WorkspaceState, expiry: string, catalog: WorkspacesCatalog, now: Date): Date {
  if (state.status !== 'creating' && state.status !== 'ready') {
    throw new ProvisionerError('workspace_not_active', `Workspace ${state.id} is ${state.status}; only a creating or ready workspace's expiry can change.`);
  }
  return expiryTime(expiry, new Date(state.created_at ?? now.toISOString()), now, catalog);
}

/** The workspaces a caller of `caller`'s level may have at once; undefined: no limit. */
export function workspaceLimit(catalog: WorkspacesCatalog, caller: Caller): number | undefined {
  return catalog.limits[caller.level]?.count;
}

export function workspaceLimitReached(max: number): ProvisionerError {
  return new ProvisionerError('limit_exceeded', `You have ${max} workspaces, the most your level may have at once; delete one first.`, { limit: 'workspaces.limits.count', max });
}

/** The statuses in which a workspace holds one of its owner's slots: until its backend has nothing left. */
export function holdsSlot(state: WorkspaceState, owner: string): boolean {
  return state.version > 0 && state.owner === owner && state.status !== 'deleted';
}


/** When the `workspace.expiring` notice is due; undefined when the expiry is already that close. */
export function noticeTime(expiresAt: Date, now: Date, rules: WorkspaceRules): Date | undefined {
  const at = expiresAt.getTime() - rules.noticeMs;
  return at > now.getTime() ? new Date(at) : undefined;
}

/** Whole seconds until the expiry, never negative. */
export function expiresIn(state: WorkspaceState, now: Date): number | null {
  if (!state.expires_at) return null;
  return Math.max(0, Math.floor((Date.parse(state.expires_at) - now.getTime()) / 1000));
}

/** Whether a path's id is a workspace id at all (anything else is 404 without a read). */
export function isWorkspaceId(text: string): boolean {
  return workspaceIdPattern.test(text);
}
