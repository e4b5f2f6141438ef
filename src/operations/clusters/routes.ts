import type { Routes } from '../../api/routes.js';
import type { AuthDeps } from '../../deps.js';
import { inClusterScope } from '../../domain/api-tokens.js';
import { canSee, clusterNamed, destroyTime, type ClusterStatus, visibleCluster } from '../../domain/clusters.js';
import { isResourceName } from '../../domain/names.js';
import { ProvisionerError } from '../../domain/errors.js';
import { accepted, ok } from '../../http/reply.js';
import { trailPage } from '../trail.js';
import type { OperationContext, OperationFn } from '../../http/types.js';
import type { Actor } from '../../actor.js';
import { cancelDestroy, type ClusterDeps, clusterTrail, clusterView, deployCluster, destroyCluster, readCluster, scheduleDestroy } from './use-cases.js';

/** The cluster routes: HTTP in (params, query, body), a use case, HTTP out. */
type Deps = AuthDeps & ClusterDeps;

const actorOf = (context: OperationContext<unknown>): Actor => ({ caller: context.caller, requestId: context.requestId, log: context.log });

export const listClusters: OperationFn<Routes['list-clusters'], Deps> = async ({ query }, context) => {
  const { deps, caller } = context;
  const after = query.next_token === undefined ? undefined : decodeName(query.next_token);
  const visible = deps.catalog.clusters.filter((c) => canSee(caller, c, deps.catalog) && inClusterScope(caller, c.name)).sort((a, b) => a.name.localeCompare(b.name));
  const rest = after === undefined ? visible : visible.filter((c) => c.name > after);
  const pageOf = rest.slice(0, query.limit);
  const items = await Promise.all(pageOf.map(async (c) => clusterView(c, await readCluster(deps, actorOf(context), c))));
  const last = pageOf[pageOf.length - 1];
  return ok({ items, ...(rest.length > query.limit && last && { next_token: Buffer.from(last.name).toString('base64url') }) });
};

/** The list's cursor is the last name shown. */
function decodeName(token: string): string {
  const name = Buffer.from(token, 'base64url').toString('utf8');
  if (!isResourceName(name)) throw new ProvisionerError('invalid_next_token', 'next_token is not one this API issued for this list; start again without it.');
  return name;
}

export const getCluster: OperationFn<Routes['get-cluster'], Deps> = async ({ params }, context) => {
  const cluster = visibleCluster(context.deps.catalog, params.cluster, context.caller);
  return ok(clusterView(cluster, await readCluster(context.deps, actorOf(context), cluster)));
};

export const deploy: OperationFn<Routes['deploy'], Deps> = async ({ params, body }, context) => {
  const state = await deployCluster(context.deps, actorOf(context), params.cluster, body);
  const view = clusterView(clusterNamed(context.deps.catalog, params.cluster), state);
  return state.status === 'running' ? ok(view) : accepted(view);
};

export const scheduleDestroyRoute: OperationFn<Routes['schedule-destroy'], Deps> = async ({ params, body }, context) => {
  const state = await scheduleDestroy(context.deps, actorOf(context), params.cluster, destroyTime(body, context.deps.clock.now()));
  return ok(clusterView(clusterNamed(context.deps.catalog, params.cluster), state));
};

export const cancelDestroyRoute: OperationFn<Routes['cancel-destroy'], Deps> = async ({ params }, context) => {
  const state = await cancelDestroy(context.deps, actorOf(context), params.cluster);
  return ok(clusterView(clusterNamed(context.deps.catalog, params.cluster), state));
};

export const destroy: OperationFn<Routes['destroy'], Deps> = async ({ params }, context) => {
  const state = await destroyCluster(context.deps, actorOf(context), params.cluster);
  const view = clusterView(clusterNamed(context.deps.catalog, params.cluster), state);
  return state.status === 'absent' ? ok(view) : accepted(view);
};

export const clusterEvents: OperationFn<Routes['cluster-events'], AuthDeps> = async ({ params, query }, context) => {
  const cluster = visibleCluster(context.deps.catalog, params.cluster, context.caller);
  const page = await clusterTrail(context.deps, cluster.name, query.limit, query.next_token);
  return ok(trailPage<ClusterStatus>(page));
};
