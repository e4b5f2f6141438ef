import type { Catalog, ClusterEntry } from './catalog.js';
import { durationRule, parseDuration } from './duration.js';
import { ProvisionerError } from './errors.js';
import type { Caller } from './levels.js';
import { requireClusterScope } from './api-tokens.js';

/**
 * The cluster state machine of the seed's DEPLOY, SCHEDULE_DESTROY and DESTROY, as pure decisions.
 * The operations apply each decision with one conditional write on (status, version).
 */
export const clusterStatuses = ['absent', 'deploying', 'running', 'degraded', 'destroying', 'failed'] as const;
/** Public clusters are open to everyone; private ones to their organization and administrators. */
export const visibilities = ['public', 'private'] as const;
export type ClusterStatus = (typeof clusterStatuses)[number];

export interface ClusterState {
  name: string;
  status: ClusterStatus;
  /** Optimistic-lock version; 0 when the cluster was never recorded. */
  version: number;
  deployment_id?: string;
  nodes?: number;
  cluster_version?: string;
  deployed_by?: string;
  deployed_at?: string;
  /** Deploying: must be running by then. Destroying: must be gone by then. */
  deadline?: string;
  destroy_at?: string;
  /** When the current destroy began (for its duration metric). */
  destroying_since?: string;
  /** The current destroy schedule; a schedule that fires with another id was replaced and does nothing. */
  schedule_id?: string;
  /** The one-time check at the deadline. */
  check_id?: string;
  /** Deploying to repair: until the backend's work lands it still reports the lost node, which is no failure before the deadline. */
  repair_id?: string;
  endpoints?: string[];
  reason?: string;
  updated_at?: string;
}

export interface ClusterRules {
  /** How long a deploy or a destroy may take: the seed's 10 minutes. */
  operationTimeoutMs: number;
  /** The seed's 5 minutes: a schedule that close to firing can no longer be moved or cancelled. */
  scheduleLockMs: number;
  /** The furthest ahead anyone may schedule a destroy. */
  maxScheduleAheadMs: number;
}

export const defaultRules: ClusterRules = { operationTimeoutMs: 10 * 60_000, scheduleLockMs: 5 * 60_000, maxScheduleAheadMs: 30 * 86_400_000 };

export function absentCluster(name: string): ClusterState {
  return { name, status: 'absent', version: 0 };
}

/** The one answer for a cluster that does not exist, or that the caller may not see. */
export function clusterNotFound(name: string): ProvisionerError {
  return new ProvisionerError('cluster_not_found', `No cluster named ${name}; GET /v1/clusters lists them.`);
}

export function clusterNamed(catalog: Catalog, name: string): ClusterEntry {
  const cluster = catalog.clusters.find((c) => c.name === name);
  if (!cluster) throw clusterNotFound(name);
  return cluster;
}

/** A cluster the caller may not see answers as if it did not exist. */
export function visibleCluster(catalog: Catalog, name: string, caller: Caller): ClusterEntry {
  const cluster = clusterNamed(catalog, name);
  if (!canSee(caller, cluster, catalog)) throw clusterNotFound(name);
  // tokens: a session from an API token narrowed to clusters sees the others, but acts on none (403).
  requireClusterScope(caller, cluster.name);
  return cluster;
}

/**
 * A cluster the caller may deploy, schedule and destroy: 404 when they may not even see it (the
 * same answer as for no such cluster), 403 when they see it but may not manage it.
 */
export function manageableCluster(catalog: Catalog, name: string, caller: Caller): ClusterEntry {
  const cluster = visibleCluster(catalog, name, caller);
  authorizeManage(caller, cluster, catalog);
  return cluster;
}

/**
 * DEPLOY, DESTROY and SCHEDULE_DESTROY: a private cluster is managed by the members of its
 * organization (its `org`, the catalog's by default: the same test ACCESS and reads use), a public
 * one by administrators.
 */
export function authorizeManage(caller: Caller, cluster: ClusterEntry, catalog: Catalog): void {
  if (caller.level === 'administrator') return;
  if (caller.level === 'anonymous') throw new ProvisionerError('authentication_required', `Log in to manage ${cluster.name}.`);
  const org = clusterOrg(cluster, catalog);
  if (cluster.visibility === 'private' && caller.orgs.includes(org)) return;
  throw new ProvisionerError(
    'forbidden',
    cluster.visibility === 'public' ? `${cluster.name} is public: only administrators deploy or destroy it.` : `${cluster.name} is managed by members of ${org}.`,
  );
}

/** The organization whose members use a private cluster. */
export function clusterOrg(cluster: ClusterEntry, catalog: Catalog): string {
  return cluster.org ?? catalog.organization;
}

/** Who sees a cluster in lists and reads: everyone for public ones; its org and administrators for private ones. */
export function canSee(caller: Caller, cluster: ClusterEntry, catalog: Catalog): boolean {
  return cluster.visibility === 'public' || caller.level === 'administrator' || caller.orgs.includes(clusterOrg(cluster, catalog));
}

/** True while a destroy is scheduled and now is inside the lock window before it. */
export function scheduleLocked(state: ClusterState, now: Date, rules: ClusterRules): boolean {
  return state.destroy_at !== undefined && now.getTime() >= Date.parse(state.destroy_at) - rules.scheduleLockMs;
}

export interface DeployRequest {
  nodes?: number;
  version?: string;
  ttl?: string;
}

export type DeployDecision =
  | { kind: 'running' }
  | { kind: 'deploying' }
  /** A degraded cluster: start the nodes its deployment lost, at its nodes and version. */
  | { kind: 'repair'; nodes: number; version: string }
  | {
      kind: 'start';
      nodes: number;
      version: string;
      destroyAt?: Date;
      /** The caller's `max_deployments`: the store claims one of that many slots before the deployment starts. */
      maxDeployments?: number;
    };

/**
 * DEPLOY: running → nothing to do; deploying → the same deployment; degraded → repair it; each only
 * when asked for the nodes and version it has (409 otherwise, naming them); destroying or about to
 * be destroyed → 409; otherwise start one, within the cluster's and the caller's limits (the count
 * of deployments, which concurrent requests race for, is claimed in the store).
 */
export function decideDeploy(
  state: ClusterState,
  request: DeployRequest,
  caller: Caller,
  cluster: ClusterEntry,
  catalog: Catalog,
  now: Date,
  rules: ClusterRules,
): DeployDecision {
  if (state.status === 'running' || state.status === 'deploying' || state.status === 'degraded') {
    const version = state.cluster_version ?? 'latest';
    if (request.version !== undefined && request.version !== version) {
      throw new ProvisionerError('version_mismatch', `${cluster.name} is ${state.status} with version ${version}, not ${request.version}; destroy it first to deploy another version.`, {
        running_version: version,
      });
    }
    if (request.nodes !== undefined && state.nodes !== undefined && request.nodes !== state.nodes) {
      throw new ProvisionerError('nodes_mismatch', `${cluster.name} is ${state.status} with ${state.nodes} nodes, not ${request.nodes}; destroy it first to deploy another size.`, {
        running_nodes: state.nodes,
      });
    }
    if (state.status !== 'degraded') return { kind: state.status };
  }
  if (state.status === 'destroying' || scheduleLocked(state, now, rules)) {
    // A destroy the backend keeps refusing stays destroying: its reason is what the caller can act on.
    const why = state.status === 'destroying' && state.reason ? state.reason : undefined;
    throw new ProvisionerError('scheduled_for_delete', `${cluster.name} is being destroyed${why ? ` (${why})` : ''}; deploy it again once it is absent.`, why ? { reason: why } : undefined);
  }
  if (state.status === 'degraded') return { kind: 'repair', nodes: state.nodes ?? 1, version: state.cluster_version ?? 'latest' };
  const limits = caller.level === 'administrator' ? {} : (catalog.limits.org_member ?? {});
  const maxNodes = Math.min(cluster.max_nodes ?? Infinity, limits.max_nodes ?? Infinity);
  const nodes = request.nodes ?? 1;
  if (nodes > maxNodes) {
    throw new ProvisionerError('invalid_request', `nodes must be at most ${maxNodes} for ${cluster.name}${limits.max_nodes ? ' at your level' : ''}.`, { max_nodes: maxNodes });
  }
  const maxTtlMs = limits.max_ttl ? parseDuration(limits.max_ttl) : undefined;
  let ttlMs = request.ttl ? parseDuration(request.ttl) : undefined;
  if (request.ttl && ttlMs === undefined) throw new ProvisionerError('invalid_request', `ttl ${durationRule}.`);
  if (ttlMs !== undefined && maxTtlMs !== undefined && ttlMs > maxTtlMs) {
    throw new ProvisionerError('invalid_request', `ttl must be at most ${limits.max_ttl} at your level.`, { max_ttl: limits.max_ttl });
  }
  // An org member's deployment always gets a destroy schedule, no later than max_ttl.
  ttlMs ??= maxTtlMs;
  if (ttlMs !== undefined && ttlMs > rules.maxScheduleAheadMs) throw new ProvisionerError('invalid_request', 'ttl is too far ahead.');
  const version = request.version ?? 'latest';
  const refusal = versionRefusal(cluster, version);
  if (refusal) throw new ProvisionerError('invalid_request', `version ${refusal}.`);
  return {
    kind: 'start',
    nodes,
    version,
    ...(ttlMs !== undefined && { destroyAt: new Date(now.getTime() + ttlMs) }),
    ...(limits.max_deployments !== undefined && { maxDeployments: limits.max_deployments }),
  };
}

/**
 * Drift (a node stopped or was terminated outside Provisioner: spot reclaim, a manual terminate)
 * degrades a running cluster, and only when the node belongs to its current deployment: a node of
 * an earlier deployment, or of one being deployed or destroyed, says nothing about what runs.
 */
export function driftDegrades(state: ClusterState, deploymentId: string): boolean {
  return state.status === 'running' && state.deployment_id === deploymentId;
}

/** Why a cluster's backend cannot take `version`, or undefined when it can (a launch template version is a number, latest or default). */
export function versionRefusal(cluster: ClusterEntry, version: string): string | undefined {
  const { backend } = cluster;
  if (backend.kind === 'ec2' && backend.version?.kind === 'launch_template_version' && !/^(\d{1,10}|latest|default)$/.test(version)) {
    return `${cluster.name} takes a launch template version as its version: a number, latest or default`;
  }
  return undefined;
}

/** A caller who already holds all the deployments their level allows. */
export function deploymentLimitReached(max: number): ProvisionerError {
  return new ProvisionerError('deployment_limit_reached', `You already have ${max} deployments, the most allowed at your level; destroy one first.`, { max_deployments: max });
}

/**
 * SCHEDULE_DESTROY: a schedule within the lock window cannot change; the new time must be in the
 * future and within the caller's limit (an org member's: max_ttl from the deployment).
 */
export function decideSchedule(state: ClusterState, at: Date, caller: Caller, catalog: Catalog, now: Date, rules: ClusterRules): void {
  if (state.status !== 'running' && state.status !== 'deploying' && state.status !== 'degraded') {
    throw new ProvisionerError('cluster_not_deployed', `${state.name} is ${state.status}; only a deploying, running or degraded cluster can be scheduled for destroy.`);
  }
  if (scheduleLocked(state, now, rules)) {
    throw new ProvisionerError('schedule_locked', `The destroy at ${state.destroy_at} is less than ${rules.scheduleLockMs / 60_000} minutes away and can no longer change.`, {
      destroy_at: state.destroy_at,
    });
  }
  if (at.getTime() <= now.getTime()) throw new ProvisionerError('invalid_request', 'The destroy time must be in the future.');
  let limit = now.getTime() + rules.maxScheduleAheadMs;
  const maxTtl = caller.level === 'administrator' ? undefined : catalog.limits.org_member?.max_ttl;
  if (maxTtl && state.deployed_at) limit = Math.min(limit, Date.parse(state.deployed_at) + (parseDuration(maxTtl) ?? 0));
  if (at.getTime() > limit) {
    throw new ProvisionerError('invalid_request', `The destroy time must be no later than ${new Date(limit).toISOString()}.`, { latest: new Date(limit).toISOString() });
  }
}

/** Cancelling a destroy: not inside the lock window, and not for an org member's deployment, which must keep one. */
export function decideCancel(state: ClusterState, caller: Caller, catalog: Catalog, now: Date, rules: ClusterRules): void {
  if (state.destroy_at === undefined) return;
  if (scheduleLocked(state, now, rules)) {
    throw new ProvisionerError('schedule_locked', `The destroy at ${state.destroy_at} is less than ${rules.scheduleLockMs / 60_000} minutes away and can no longer be cancelled.`);
  }
  if (caller.level !== 'administrator' && catalog.limits.org_member?.max_ttl) {
    throw new ProvisionerError('forbidden', `Deployments at your level must keep a destroy schedule (at most ${catalog.limits.org_member.max_ttl}); move it with PUT instead.`);
  }
}

/** `{"at": ISO}` or `{"in": "90m"}` as a time. */
export function destroyTime(body: { at?: string; in?: string }, now: Date): Date {
  if (body.at) return new Date(body.at);
  const ms = parseDuration(body.in ?? '');
  if (ms === undefined) throw new ProvisionerError('invalid_request', `in ${durationRule}.`);
  return new Date(now.getTime() + ms);
}
