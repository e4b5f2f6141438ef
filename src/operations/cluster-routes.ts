import type { Routes } from '../api/routes.js';
import { authorizeManage, canSee, destroyTime } from '../domain/clusters.js';
import { ProvisionerError } from '../domain/errors.js';
import { accepted, ok } from '../http/reply.js';
import type { OperationContext, OperationFn } from '../http/types.js';
import type { AuthDeps } from '../deps.js';
import {
  type Actor,
  cancelDestroy,
  type ClusterDeps,
  clusterOrThrow,
  clusterView,
  deployCluster,
  destroyCluster,
  loadState,
  refresh,
  scheduleDestroy,
  visibleCluster,
} from './clusters.js';

type Deps = AuthDeps & ClusterDeps;

const actorOf = (context: OperationContext<unknown>): Actor => ({ sub: context.caller.sub, requestId: context.requestId, log: context.log });

export const listClusters: OperationFn<Routes['list-clusters'], Deps> = async ({ query }, context) => {
  const { deps, caller } = context;
  const after = query.next_token === undefined ? undefined : decodeName(query.next_token);
  const visible = deps.catalog.clusters.filter((c) => canSee(caller, c, deps.catalog)).sort((a, b) => a.name.localeCompare(b.name));
  const rest = after === undefined ? visible : visible.filter((c) => c.name > after);
  const pageOf = rest.slice(0, query.limit);
  const items = await Promise.all(pageOf.map(async (c) => clusterView(c, await refresh(deps, actorOf(context), c, await loadState(deps.store, c.name)))));
  const last = pageOf[pageOf.length - 1];
  return ok({ items, ...(rest.length > query.limit && last && { next_token: Buffer.from(last.name).toString('base64url') }) });
};

function decodeName(token: string): string {
  const name = Buffer.from(token, 'base64url').toString('utf8');
  if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(name)) throw new ProvisionerError('invalid_next_token', 'next_token is not one this API issued; start again without it.');
  return name;
}

export const getCluster: OperationFn<Routes['get-cluster'], Deps> = async ({ params }, context) => {
  const cluster = visibleCluster(context.deps.catalog, params.cluster, context.caller);
  return ok(clusterView(cluster, await refresh(context.deps, actorOf(context), cluster, await loadState(context.deps.store, cluster.name))));
};

// Managing answers 403 (not 404) to those who may not: the rule for deploy, schedule and destroy.
export const deploy: OperationFn<Routes['deploy'], Deps> = async ({ params, body }, context) => {
  const cluster = clusterOrThrow(context.deps.catalog, params.cluster);
  const state = await deployCluster(context.deps, context.caller, actorOf(context), cluster.name, body);
  const view = clusterView(cluster, state);
  return state.status === 'running' ? ok(view) : accepted(view);
};

export const scheduleDestroyRoute: OperationFn<Routes['schedule-destroy'], Deps> = async ({ params, body }, context) => {
  const cluster = clusterOrThrow(context.deps.catalog, params.cluster);
  const state = await scheduleDestroy(context.deps, context.caller, actorOf(context), cluster.name, destroyTime(body, context.deps.clock.now()));
  return ok(clusterView(cluster, state));
};

export const cancelDestroyRoute: OperationFn<Routes['cancel-destroy'], Deps> = async ({ params }, context) => {
  const cluster = clusterOrThrow(context.deps.catalog, params.cluster);
  return ok(clusterView(cluster, await cancelDestroy(context.deps, context.caller, actorOf(context), cluster.name)));
};

export const destroy: OperationFn<Routes['destroy'], Deps> = async ({ params }, context) => {
  const cluster = clusterOrThrow(context.deps.catalog, params.cluster);
  authorizeManage(context.caller, cluster, context.deps.catalog);
  const state = await destroyCluster(context.deps, actorOf(context), cluster);
  const view = clusterView(cluster, state);
  return state.status === 'absent' ? ok(view) : accepted(view);
};

export const clusterEvents: OperationFn<Routes['cluster-events'], AuthDeps> = async ({ params, query }, context) => {
  const cluster = visibleCluster(context.deps.catalog, params.cluster, context.caller);
  const page = await context.deps.store.query({ partition: `cluster#${cluster.name}`, prefix: 'event#', newestFirst: true, limit: query.limit, nextToken: query.next_token });
  const items = page.items.map((item) => ({
    time: String(item.time),
    actor: String(item.actor),
    action: String(item.action),
    from: item.from as never,
    to: item.to as never,
    request_id: String(item.request_id),
    ...(item.details !== undefined && { details: item.details as Record<string, unknown> }),
  }));
  return ok({ items, ...(page.nextToken && { next_token: page.nextToken }) });
};
