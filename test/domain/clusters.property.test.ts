import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { deployBody, destroyScheduleBody } from '../../src/api/schemas.js';
import { type Catalog, type ClusterEntry, parseCatalog } from '../../src/domain/catalog.js';
import {
  authorizeManage,
  canSee,
  clusterStatuses,
  type ClusterState,
  decideCancel,
  decideDeploy,
  decideSchedule,
  defaultRules,
  type DeployRequest,
  destroyTime,
  manageableCluster,
  scheduleLocked,
  visibleCluster,
} from '../../src/domain/clusters.js';
import { parseDuration } from '../../src/domain/duration.js';
import { ProvisionerError } from '../../src/domain/errors.js';
import { type Caller, levels, systemCaller } from '../../src/domain/levels.js';
import { isSafeRef } from '../../src/domain/runs.js';

/**
 * Properties of the cluster decisions over random states, callers, catalogs, requests and times.
 * Every generated request and catalog is one the API's and the catalog's schemas admit.
 */
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const LOCK = defaultRules.scheduleLockMs;
const orgs = ['acme', 'beta', 'gamma'] as const;

const nowArb = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2040-01-01T00:00:00Z'), noInvalidDate: true });

/** Durations as the API and the catalog admit them, mostly small, sometimes as large as the pattern allows. */
const durationArb = fc
  .tuple(fc.oneof({ arbitrary: fc.integer({ min: 1, max: 120 }), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: 999_999 }), weight: 1 }), fc.constantFrom('s', 'm', 'h', 'd'))
  .map(([n, unit]) => `${n}${unit}`);

const catalogArb = fc
  .record(
    {
      organization: fc.constantFrom(...orgs),
      clusters: fc.constant([
        { name: 'demo', visibility: 'public', backend: { kind: 'local' } },
        { name: 'home-dev', visibility: 'private', max_nodes: 8, backend: { kind: 'local' } },
        { name: 'beta-lab', visibility: 'private', org: 'beta', backend: { kind: 'local' } },
        { name: 'big-public', visibility: 'public', max_nodes: 500, backend: { kind: 'local' } },
      ]),
      limits: fc.record(
        {
          org_member: fc.record(
            // The catalog admits a max_ttl of at most 30 days (what the scheduler accepts).
            { max_nodes: fc.integer({ min: 1, max: 50 }), max_ttl: durationArb.filter((d) => (parseDuration(d) ?? Infinity) <= defaultRules.maxScheduleAheadMs), max_deployments: fc.integer({ min: 1, max: 5 }) },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ['organization', 'clusters'] },
  )
  .map((json) => parseCatalog(JSON.stringify(json), 'generated'));

const callerArb: fc.Arbitrary<Caller> = fc.oneof(
  fc.record({
    sub: fc.constantFrom('github:olga', 'github:gil', 'actions:acme/docs', 'anonymous'),
    login: fc.constantFrom('olga', 'gil', null),
    level: fc.constantFrom(...levels),
    orgs: fc.subarray([...orgs]),
  }),
  fc.constantFrom(systemCaller('system'), systemCaller('scheduler')),
);
const limitedCallerArb = callerArb.filter((c) => c.level !== 'administrator');

/** Offsets from now: around the lock window, and further out either way. */
const offsetArb = fc.oneof(
  fc.integer({ min: -2 * LOCK, max: 2 * LOCK }),
  fc.constantFrom(LOCK - 1, LOCK, LOCK + 1, 0, -1, 1),
  fc.integer({ min: -40 * DAY, max: 40 * DAY }),
);

/** A stored cluster state, every status, with or without a destroy time near `now`. */
function stateArb(statuses: readonly ClusterState['status'][] = clusterStatuses) {
  return fc.record(
    {
      status: fc.constantFrom(...statuses),
      version: fc.nat({ max: 50 }),
      destroyOffset: fc.option(offsetArb, { nil: undefined }),
      deployedAgo: fc.option(fc.integer({ min: 0, max: 40 * DAY }), { nil: undefined }),
      nodes: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
    },
    { requiredKeys: ['status', 'version', 'destroyOffset', 'deployedAgo', 'nodes'] },
  );
}
type StateSeed = { status: ClusterState['status']; version: number; destroyOffset?: number; deployedAgo?: number; nodes?: number };

function stateAt(seed: StateSeed, name: string, now: Date): ClusterState {
  const state: ClusterState = { name, status: seed.status, version: seed.version };
  if (seed.destroyOffset !== undefined) state.destroy_at = new Date(now.getTime() + seed.destroyOffset).toISOString();
  if (seed.deployedAgo !== undefined) state.deployed_at = new Date(now.getTime() - seed.deployedAgo).toISOString();
  if (seed.nodes !== undefined) state.nodes = seed.nodes;
  if (seed.status !== 'absent') state.deployment_id = 'd-1';
  return state;
}

const deployRequestArb: fc.Arbitrary<DeployRequest> = fc.record(
  { nodes: fc.integer({ min: 1, max: 1000 }), version: fc.stringMatching(/^[A-Za-z0-9._/-]{1,20}$/).filter(isSafeRef), ttl: durationArb },
  { requiredKeys: [] },
);

const destroyBodyArb = fc.oneof(
  fc.record({ in: durationArb }),
  fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => ({ at: d.toISOString() })),
  fc.tuple(nowArb, fc.integer({ min: -14, max: 14 })).map(([d, h]) => ({ at: d.toISOString().replace('Z', `${h < 0 ? '-' : '+'}${String(Math.abs(h)).padStart(2, '0')}:00`) })),
);

const clusterOf = (catalog: Catalog, index: number): ClusterEntry => {
  const cluster = catalog.clusters[index % catalog.clusters.length];
  if (!cluster) throw new Error('generated catalog has no clusters');
  return cluster;
};

/** Runs `fn`; anything it throws must be a client error: a ProvisionerError with a 4xx status. */
function onlyClientErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProvisionerError);
    const status = (error as ProvisionerError).status;
    expect(status >= 400 && status < 500).toBe(true);
  }
}

/** Runs `fn` and answers the code of the ProvisionerError it throws, or undefined. */
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (error instanceof ProvisionerError) return error.code;
    throw error;
  }
}

describe('cluster decisions, over random states, callers and times', () => {
  it('never start a second deployment: deploying stays deploying, running stays running, degraded is repaired; each only as deployed', () => {
    fc.assert(
      fc.property(stateArb(), deployRequestArb, callerArb, catalogArb, fc.nat(), nowArb, (seed, request, caller, catalog, index, now) => {
        const cluster = clusterOf(catalog, index);
        const state = stateAt(seed, cluster.name, now);

        let decision: ReturnType<typeof decideDeploy> | undefined;
        onlyClientErrors(() => (decision = decideDeploy(state, request, caller, cluster, catalog, now, defaultRules)));

        const asked = (request.nodes === undefined || state.nodes === undefined || request.nodes === state.nodes) && (request.version === undefined || request.version === 'latest');
        if (['deploying', 'running', 'degraded'].includes(state.status) && !asked) expect(decision).toBeUndefined();
        if (state.status === 'deploying' && asked) expect(decision).toEqual({ kind: 'deploying' });
        if (state.status === 'running' && asked) expect(decision).toEqual({ kind: 'running' });
        if (state.status === 'degraded' && asked && !scheduleLocked(state, now, defaultRules)) expect(decision).toEqual({ kind: 'repair', nodes: state.nodes ?? 1, version: 'latest' });
        if (decision?.kind === 'start') {
          expect(['absent', 'failed']).toContain(state.status);
          expect(scheduleLocked(state, now, defaultRules)).toBe(false);
        }
      }),
    );
  });

  it('never move or cancel a schedule inside its lock', () => {
    fc.assert(
      fc.property(
        stateArb(['deploying', 'running', 'degraded']),
        fc.integer({ min: -DAY, max: LOCK }),
        destroyBodyArb,
        callerArb,
        catalogArb,
        nowArb,
        (seed, lockedOffset, body, caller, catalog, now) => {
          // A destroy time inside the lock window (or already past) makes the schedule locked.
          const state = stateAt({ ...seed, destroyOffset: lockedOffset }, 'home-dev', now);
          expect(scheduleLocked(state, now, defaultRules)).toBe(true);

          expect(codeOf(() => decideSchedule(state, destroyTime(body, now), caller, catalog, now, defaultRules))).toBe('schedule_locked');
          expect(codeOf(() => decideCancel(state, caller, catalog, now, defaultRules))).toBe('schedule_locked');
        },
      ),
    );
  });

  it('lock a schedule exactly when now is within the lock window of its destroy time', () => {
    fc.assert(
      fc.property(stateArb(), nowArb, (seed, now) => {
        const state = stateAt(seed, 'demo', now);

        const locked = scheduleLocked(state, now, defaultRules);

        expect(locked).toBe(seed.destroyOffset !== undefined && seed.destroyOffset <= LOCK);
      }),
    );
  });

  it("give a non-administrator's deployment a destroy time within max_ttl", () => {
    fc.assert(
      fc.property(
        stateArb(['absent', 'failed']),
        deployRequestArb,
        limitedCallerArb,
        catalogArb.filter((c) => c.limits.org_member?.max_ttl !== undefined),
        fc.nat(),
        fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }),
        nowArb,
        (seed, generated, caller, catalog, index, percentOfMax, now) => {
          const cluster = clusterOf(catalog, index);
          const state = stateAt(seed, cluster.name, now);
          const maxTtl = catalog.limits.org_member?.max_ttl ?? '';
          const maxTtlMs = parseDuration(maxTtl);
          if (maxTtlMs === undefined) throw new Error('generated max_ttl does not parse');
          // Often a ttl around max_ttl, in its unit: just under, at, and just over it.
          const [, count, unit] = /^(\d+)([smhd])$/.exec(maxTtl) ?? [];
          const near = Math.min(999_999, Math.ceil((Number(count) * (percentOfMax ?? 100)) / 100));
          const request = percentOfMax === undefined ? generated : { ...generated, ttl: `${near}${unit}` };

          let decision: ReturnType<typeof decideDeploy> | undefined;
          onlyClientErrors(() => (decision = decideDeploy(state, request, caller, cluster, catalog, now, defaultRules)));

          if (decision?.kind === 'start') {
            expect(decision.destroyAt).toBeInstanceOf(Date);
            expect(decision.destroyAt?.getTime()).toBeGreaterThan(now.getTime());
            expect(decision.destroyAt?.getTime()).toBeLessThanOrEqual(now.getTime() + maxTtlMs);
          }
        },
      ),
    );
  });

  it("accept only destroy times in the future, within 30 days and within a non-administrator's max_ttl", () => {
    fc.assert(
      fc.property(stateArb(['deploying', 'running']), destroyBodyArb, fc.oneof(fc.integer({ min: -DAY, max: 40 * DAY }), fc.constantFrom(-1, 0, 1, 30 * DAY, 30 * DAY + 1)), callerArb, catalogArb, nowArb, (seed, body, offset, caller, catalog, now) => {
        const state = stateAt(seed, 'home-dev', now);
        // Times as the API reads them, and times close to now and to the limits.
        for (const at of [destroyTime(body, now), new Date(now.getTime() + offset)]) {
          const code = codeOf(() => decideSchedule(state, at, caller, catalog, now, defaultRules));
          if (code !== undefined) continue;
          expect(scheduleLocked(state, now, defaultRules)).toBe(false);
          expect(at.getTime()).toBeGreaterThan(now.getTime());
          expect(at.getTime()).toBeLessThanOrEqual(now.getTime() + defaultRules.maxScheduleAheadMs);
          const maxTtl = catalog.limits.org_member?.max_ttl;
          if (caller.level !== 'administrator' && maxTtl && state.deployed_at) {
            expect(at.getTime()).toBeLessThanOrEqual(Date.parse(state.deployed_at) + (parseDuration(maxTtl) ?? 0));
          }
        }
      }),
    );
  });

  it('throw only 4xx ProvisionerErrors for anything the schemas admit', () => {
    fc.assert(
      fc.property(
        stateArb(),
        deployRequestArb,
        destroyBodyArb,
        callerArb,
        catalogArb,
        fc.constantFrom('demo', 'home-dev', 'beta-lab', 'big-public', 'no-such-cluster'),
        nowArb,
        (seed, request, body, caller, catalog, name, now) => {
          // The generators stay inside what the API admits.
          expect(deployBody().safeParse(request).success).toBe(true);
          expect(destroyScheduleBody().safeParse(body).success).toBe(true);
          const state = stateAt(seed, name, now);

          onlyClientErrors(() => visibleCluster(catalog, name, caller));
          onlyClientErrors(() => manageableCluster(catalog, name, caller));
          const cluster = catalog.clusters.find((c) => c.name === name);
          if (cluster) {
            expect(typeof canSee(caller, cluster, catalog)).toBe('boolean');
            onlyClientErrors(() => authorizeManage(caller, cluster, catalog));
            onlyClientErrors(() => decideDeploy(state, request, caller, cluster, catalog, now, defaultRules));
          }
          onlyClientErrors(() => decideSchedule(state, destroyTime(body, now), caller, catalog, now, defaultRules));
          onlyClientErrors(() => decideCancel(state, caller, catalog, now, defaultRules));
        },
      ),
    );
  });
});
