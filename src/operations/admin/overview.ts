import type { Clock } from '../../domain/clock.js';
import type { ClusterRules } from '../../domain/clusters.js';
import { clusterStatuses } from '../../domain/clusters.js';
import { runStatuses } from '../../domain/runs.js';
import { workbenchStatuses } from '../../domain/workbenches.js';
import { workspaceStatuses } from '../../domain/workspaces.js';
import type { Store, StoredItem } from '../../ports.js';
import { type EntityKind, statusIndexKey } from '../../store/keys.js';

export interface OverviewDeps {
  store: Store;
  clock: Clock;
  clusterRules: ClusterRules;
}

/** Each area's statuses, counted one by one on the status index. */
const areas = {
  clusters: { kind: 'cluster', statuses: clusterStatuses },
  workspaces: { kind: 'workspace', statuses: workspaceStatuses },
  workbenches: { kind: 'workbench', statuses: workbenchStatuses },
  runs: { kind: 'run', statuses: runStatuses },
} as const satisfies Record<string, { kind: EntityKind; statuses: readonly string[] }>;

/** The states that should pass: an entity in one longer than an operation may take is stuck. */
const transitional: { kind: EntityKind; status: string }[] = [
  { kind: 'cluster', status: 'deploying' },
  { kind: 'cluster', status: 'destroying' },
  { kind: 'workspace', status: 'creating' },
  { kind: 'workspace', status: 'deleting' },
  { kind: 'workbench', status: 'provisioning' },
  { kind: 'workbench', status: 'pending_instance' },
  { kind: 'workbench', status: 'pending' },
  { kind: 'workbench', status: 'stopping' },
  { kind: 'run', status: 'queued' },
];

/** Clusters that hold their deployer's slot. */
const slotHolding = ['deploying', 'running', 'degraded', 'destroying'] as const;

/** At most this many entries per list section; the counts are always whole. */
const sectionLimit = 100;
const hourMs = 3_600_000;

const text = (item: StoredItem, field: string): string | undefined => (typeof item[field] === 'string' ? (item[field] as string) : undefined);
const idOf = (item: StoredItem) => item.pk.slice(item.pk.indexOf('#') + 1);
/** When an entity entered its status: the status index's sort key is `<since>#<id>`. */
const sinceOf = (item: StoredItem) => String(item.gsi2sk ?? '').split('#')[0] ?? '';

/** Every item of one kind in one status, all pages (for the sections that show them all: bounded by what is active). */
async function inStatus(store: Store, kind: EntityKind, status: string, range?: { from?: string; to?: string }, limit = 1000): Promise<StoredItem[]> {
  const items: StoredItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await store.query({ index: 'gsi2', partition: statusIndexKey(kind, status), ...(range && { range }), limit: Math.min(limit - items.length, 500), nextToken });
    items.push(...page.items);
    nextToken = page.nextToken;
  } while (nextToken && items.length < limit);
  return items;
}

/**
 * Entities in a transitional state since before the operation timeout: what an operator should look
 * at. One Query per transitional status, reading only the stuck ones (the index is ordered by when
 * each entered its status).
 */
export async function stuckItems(deps: OverviewDeps, limit = sectionLimit) {
  const cutoff = new Date(deps.clock.now().getTime() - deps.clusterRules.operationTimeoutMs).toISOString();
  const found = await Promise.all(transitional.map(async ({ kind, status }) => (await inStatus(deps.store, kind, status, { to: cutoff }, limit)).map((item) => ({ kind, item }))));
  return found
    .flat()
    .sort((a, b) => sinceOf(a.item).localeCompare(sinceOf(b.item)))
    .slice(0, limit)
    .map(({ kind, item }) => {
      const owner = text(item, 'owner') ?? text(item, 'deployed_by') ?? text(item, 'created_by');
      const deadline = text(item, 'deadline');
      const reason = text(item, 'reason');
      return { kind, id: idOf(item), status: String(item.status), since: sinceOf(item), ...(deadline && { deadline }), ...(owner && { owner }), ...(reason && { reason }) };
    });
}

/**
 * GET /v1/admin/overview: counts by status per area (a `Select: COUNT` Query per status), stuck
 * items, deployment slots, what is due in the next hour and the runs that failed in the last 24 h —
 * all from the status index, never a Scan. The counts read every index entry of their status (that
 * is what counting is in DynamoDB); the lists read only what they show: active clusters, running
 * workbenches and runs, ready workspaces, the last day's failed runs.
 */
export async function overview(deps: OverviewDeps) {
  const now = deps.clock.now();
  const inHour = new Date(now.getTime() + hourMs).toISOString();
  const dayAgo = new Date(now.getTime() - 24 * hourMs).toISOString();
  const counted = Promise.all(
    Object.entries(areas).map(async ([area, { kind, statuses }]) => {
      const counts = await Promise.all(statuses.map(async (status) => [status, await deps.store.count({ index: 'gsi2', partition: statusIndexKey(kind, status) })] as const));
      return [area, Object.fromEntries(counts)] as const;
    }),
  );
  const [counts, stuck, active, workbenches, workspaces, runningRuns, failed, timedOut] = await Promise.all([
    counted,
    stuckItems(deps),
    Promise.all(slotHolding.map((status) => inStatus(deps.store, 'cluster', status))).then((lists) => lists.flat()),
    inStatus(deps.store, 'workbench', 'running'),
    inStatus(deps.store, 'workspace', 'ready'),
    inStatus(deps.store, 'run', 'running'),
    inStatus(deps.store, 'run', 'failed', { from: dayAgo }, sectionLimit),
    inStatus(deps.store, 'run', 'timed_out', { from: dayAgo }, sectionLimit),
  ]);

  const slots = new Map<string, string[]>();
  for (const cluster of active) {
    const deployer = text(cluster, 'deployed_by');
    if (deployer) slots.set(deployer, [...(slots.get(deployer) ?? []), idOf(cluster)].sort());
  }

  const nowIso = now.toISOString();
  const soon = (at: string | undefined) => at !== undefined && at >= nowIso && at <= inHour;
  const due: { kind: EntityKind; id: string; action: 'destroy' | 'auto-stop' | 'expire' | 'timeout'; at: string }[] = [
    ...active.filter((c) => soon(text(c, 'destroy_at'))).map((c) => ({ kind: 'cluster' as const, id: idOf(c), action: 'destroy' as const, at: text(c, 'destroy_at') ?? '' })),
    ...workbenches.filter((w) => soon(text(w, 'stops_at'))).map((w) => ({ kind: 'workbench' as const, id: idOf(w), action: 'auto-stop' as const, at: text(w, 'stops_at') ?? '' })),
    ...workspaces.filter((w) => soon(text(w, 'expires_at'))).map((w) => ({ kind: 'workspace' as const, id: idOf(w), action: 'expire' as const, at: text(w, 'expires_at') ?? '' })),
    ...runningRuns.filter((r) => soon(text(r, 'deadline'))).map((r) => ({ kind: 'run' as const, id: idOf(r), action: 'timeout' as const, at: text(r, 'deadline') ?? '' })),
  ]
    .sort((a, b) => a.at.localeCompare(b.at))
    .slice(0, sectionLimit);

  const failedRuns = [...failed, ...timedOut]
    .map((run) => {
      const cluster = text(run, 'cluster');
      const reason = text(run, 'reason');
      return { id: idOf(run), status: run.status === 'timed_out' ? ('timed_out' as const) : ('failed' as const), ended_at: text(run, 'finished_at') ?? sinceOf(run), ...(cluster && { cluster }), ...(reason && { reason }) };
    })
    .sort((a, b) => b.ended_at.localeCompare(a.ended_at))
    .slice(0, sectionLimit);

  return {
    generated_at: nowIso,
    areas: Object.fromEntries(counts) as { [A in keyof typeof areas]: Record<(typeof areas)[A]['statuses'][number], number> },
    stuck,
    slots: [...slots].map(([deployer, clusters]) => ({ deployer, clusters })).sort((a, b) => a.deployer.localeCompare(b.deployer)),
    due,
    failed_runs: failedRuns,
  };
}
