import type { Routes } from '../../api/routes.js';
import type { AuthDeps } from '../../deps.js';
import { clusterNamed } from '../../domain/clusters.js';
import { ok } from '../../http/reply.js';
import type { OperationFn } from '../../http/types.js';
import { type ClusterDeps, clusterView, forceAbsent, releaseClusterSlot } from '../clusters/use-cases.js';
import { overview, type OverviewDeps } from './overview.js';

/** The administrators' routes (the route table lets only administrators in). */
export const adminOverviewRoute: OperationFn<Routes['admin-overview'], OverviewDeps> = async (_input, { deps }) => ok(await overview(deps), { 'cache-control': 'no-store' });


export const adminReleaseSlotRoute: OperationFn<Routes['admin-release-slot'], AuthDeps> = async ({ params, body }, { deps, caller, requestId, log }) => {
  const state = await releaseClusterSlot(deps, { caller, requestId, log }, params.cluster, body.reason);
  return ok(clusterView(clusterNamed(deps.catalog, params.cluster), state));
};

export const adminForceAbsentRoute: OperationFn<Routes['admin-force-absent'], AuthDeps & Pick<ClusterDeps, 'scheduler'>> = async ({ params, body }, { deps, caller, requestId, log }) => {
  const state = await forceAbsent(deps, { caller, requestId, log }, params.cluster, body.reason);
  return ok(clusterView(clusterNamed(deps.catalog, params.cluster), state));
};
