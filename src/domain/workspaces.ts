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
 * An expiry: a duration from now (`"36h"`, `"2d"`) or an ISO 8601 time; in the future, and no later
 * than `max_expiry` after the creation (exactly the limit is allowed).
 */
export function expiryTime(expiry: string, createdAt: Date, now: Date, catalog: WorkspacesCatalog): Date {
  const rules = workspaceRules(catalog);
  const ms = parseDuration(expiry);
  const at = ms !== undefined ? new Date(now.getTime() + ms) : new Date(expiry);
  if (Number.isNaN(at.getTime())) throw invalid('expiry', 'must be a duration such as "36h" or "2d", or an ISO 8601 time.');
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

/** Whether two dotted keys touch: equal, or one is under the other. */
const overlaps = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);

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
  for (const key of Object.keys(request.values ?? {})) {
    const owner = controlled.find((c) => overlaps(key, c));
    if (owner !== undefined) {
      const hint = owner.endsWith('.version') ? ` (set it with versions.${owner.slice(0, -'.version'.length)})` : '';
      throw invalid(`values.${key}`, `cannot be set: ${owner} is controlled by Provisioner${hint}.`, { key, controlled: owner });
    }
  }
  return { ...(request.name !== undefined && { name: request.name }), expiresAt, versions, values: request.values ?? {} };
}

/**
 * The values a workspace runs with, lowest precedence first: the template's values, then the
 * request's overrides, then Provisioner's own keys (which requests cannot name, so nothing is
 * silently ignored).
 */
export function mergedValues(catalog: WorkspacesCatalog, state: Required<Pick<WorkspaceState, 'id' | 'name' | 'owner' | 'expires_at' | 'versions'>> & Pick<WorkspaceState, 'values'>) {
  const own: Record<string, WorkspaceValue> = {
    'workspace.id': state.id,
    'workspace.name': state.name,
    'workspace.owner': state.owner,
    'workspace.expiresAt': state.expires_at,
  };
  for (const [component, version] of Object.entries(state.versions)) own[`${component}.version`] = version;
  return { ...catalog.template.values, ...state.values, ...own };
}

/** Values as environment variables: `pachd.logLevel` → `PACHD_LOGLEVEL`. */
export function environmentOf(values: Record<string, WorkspaceValue>): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) environment[key.replace(/\./g, '_').toUpperCase()] = String(value);
  return environment;
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
