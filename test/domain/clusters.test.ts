import { describe, expect, it } from '@jest/globals';
import { type Catalog, type ClusterEntry, parseCatalog } from '../../src/domain/catalog.js';
import {
  authorizeManage,
  canSee,
  type ClusterState,
  decideCancel,
  decideDeploy,
  decideSchedule,
  deploymentLimitReached,
  driftDegrades,
  defaultRules,
  destroyTime,
  manageableCluster,
  scheduleLocked,
  visibleCluster,
} from '../../src/domain/clusters.js';
import { ProvisionerError } from '../../src/domain/errors.js';
import { anonymousCaller, type Caller, systemCaller } from '../../src/domain/levels.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const LOCK = defaultRules.scheduleLockMs;

const now = new Date('2026-11-23T12:00:00.000Z');
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);
const iso = (offsetMs: number) => at(offsetMs).toISOString();

const catalogJson = {
  organization: 'acme',
  admins: ['alice'],
  clusters: [
    { name: 'demo', visibility: 'public', backend: { kind: 'local' } },
    { name: 'acme-dev', visibility: 'private', max_nodes: 8, backend: { kind: 'local' } },
    { name: 'beta-lab', visibility: 'private', org: 'beta', backend: { kind: 'local' } },
  ],
};
/** Org members limited to 4 nodes, 8 hours and 2 deployments. */
const catalog: Catalog = parseCatalog(JSON.stringify({ ...catalogJson, limits: { org_member: { max_nodes: 4, max_ttl: '8h', max_deployments: 2 } } }), 'limited');
/** No limits for anyone but the clusters' own. */
const unlimited: Catalog = parseCatalog(JSON.stringify(catalogJson), 'unlimited');

function entry(name: string, from: Catalog = catalog): ClusterEntry {
  const found = from.clusters.find((c) => c.name === name);
  if (!found) throw new Error(`test catalog has no ${name}`);
  return found;
}
const demo = entry('demo');
const acmeDev = entry('acme-dev');
const betaLab = entry('beta-lab');

const caller = (login: string, level: Caller['level'], orgs: string[]): Caller => ({ sub: `github:${login}`, login, level, orgs });
const admin = caller('alice', 'administrator', []);
const olga = caller('olga', 'org_member', ['acme']);
const otto = caller('otto', 'org_member', ['acme', 'beta']);
const bea = caller('bea', 'github_member', ['beta']);
const gil = caller('gil', 'github_member', []);

const state = (fields: Partial<ClusterState> = {}): ClusterState => ({ name: 'acme-dev', status: 'absent', version: 0, ...fields });
const running = (fields: Partial<ClusterState> = {}) => state({ status: 'running', version: 3, deployment_id: 'd-1', nodes: 2, deployed_by: 'github:olga', deployed_at: iso(-2 * HOUR), ...fields });

/** The ProvisionerError `fn` throws; fails the test if it throws nothing or anything else. */
function thrown(fn: () => unknown): ProvisionerError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProvisionerError) return error;
    throw error;
  }
  throw new Error('expected a ProvisionerError; nothing was thrown');
}

describe('decideDeploy', () => {
  const deploy = (s: ClusterState, request: Parameters<typeof decideDeploy>[1], who: Caller = olga, options: { cluster?: ClusterEntry; catalog?: Catalog } = {}) =>
    decideDeploy(s, request, who, options.cluster ?? acmeDev, options.catalog ?? catalog, now, defaultRules);

  it('answers running for a running cluster asked for what runs, whatever the ttl, the limits or the lock', () => {
    // Arrange: a running cluster whose destroy is inside its lock, asked for its own nodes and version.
    const locked = running({ destroy_at: iso(LOCK - 1), cluster_version: 'v4.1.0' });

    // Act
    const decisions = [deploy(locked, { ttl: '999d' }, olga), deploy(locked, { nodes: 2, version: 'v4.1.0' }, olga)];

    // Assert
    expect(decisions).toEqual([{ kind: 'running' }, { kind: 'running' }]);
  });

  it('answers the same deployment for a deploying cluster, never a second one', () => {
    const deploying = state({ status: 'deploying', version: 2, deployment_id: 'd-1', nodes: 3, cluster_version: 'latest', deadline: iso(5 * MINUTE), destroy_at: iso(LOCK - 1) });

    const decision = deploy(deploying, { nodes: 3, ttl: '1h' }, admin);

    expect(decision).toEqual({ kind: 'deploying' });
  });

  it.each(['running', 'deploying', 'degraded'] as const)('refuses another version on a %s cluster with 409 version_mismatch, naming the running one', (status) => {
    const error = thrown(() => deploy(running({ status, cluster_version: 'v4.1.0' }), { version: 'v4.2.0' }, admin));

    expect(error).toMatchObject({ code: 'version_mismatch', status: 409, details: { running_version: 'v4.1.0' } });
    expect(error.message).toContain('v4.1.0');
    // A cluster deployed without a version runs `latest`.
    expect(thrown(() => deploy(running({ status }), { version: 'v1' }, admin))).toMatchObject({ code: 'version_mismatch', details: { running_version: 'latest' } });
  });

  it.each(['running', 'deploying', 'degraded'] as const)('refuses another node count on a %s cluster with 409 nodes_mismatch, naming the running one', (status) => {
    const error = thrown(() => deploy(running({ status, nodes: 2 }), { nodes: 3 }, admin));

    expect(error).toMatchObject({ code: 'nodes_mismatch', status: 409, details: { running_nodes: 2 } });
    expect(error.message).toContain('2 nodes');
  });

  it('repairs a degraded cluster: the same deployment, its nodes and version, whoever asks within the rules', () => {
    const degraded = running({ status: 'degraded', nodes: 3, cluster_version: 'v4.1.0', reason: 'instance i-1 terminated' });

    expect(deploy(degraded, {}, olga)).toEqual({ kind: 'repair', nodes: 3, version: 'v4.1.0' });
    expect(deploy(degraded, { nodes: 3, version: 'v4.1.0' }, admin)).toEqual({ kind: 'repair', nodes: 3, version: 'v4.1.0' });
  });

  it('refuses to repair a degraded cluster whose destroy is inside its lock', () => {
    const error = thrown(() => deploy(running({ status: 'degraded', destroy_at: iso(LOCK) }), {}, admin));

    expect(error).toMatchObject({ code: 'scheduled_for_delete', status: 409 });
  });

  it('refuses a destroying cluster with 409 scheduled_for_delete', () => {
    const error = thrown(() => deploy(state({ status: 'destroying', version: 4, deadline: iso(9 * MINUTE) }), {}, admin));

    expect(error.code).toBe('scheduled_for_delete');
    expect(error.status).toBe(409);
  });

  it('names why a destroying cluster is not gone yet when it refuses a deploy (a backend that keeps refusing)', () => {
    const stuck = state({ status: 'destroying', version: 9, deadline: iso(9 * MINUTE), reason: 'the backend refused the destroy: RequestLimitExceeded' });

    const error = thrown(() => deploy(stuck, {}, admin));

    expect(error).toMatchObject({ code: 'scheduled_for_delete', status: 409, details: { reason: 'the backend refused the destroy: RequestLimitExceeded' } });
    expect(error.message).toContain('RequestLimitExceeded');
  });

  it.each(['absent', 'failed'] as const)('from %s: refuses while the destroy is inside its lock, starts just outside it', (status) => {
    const insideLock = state({ status, destroy_at: iso(LOCK) });
    const outsideLock = state({ status, destroy_at: iso(LOCK + 1) });

    expect(thrown(() => deploy(insideLock, {}, admin))).toMatchObject({ code: 'scheduled_for_delete', status: 409 });
    expect(deploy(outsideLock, {}, admin)).toMatchObject({ kind: 'start' });
  });

  it('starts one node of the latest version by default', () => {
    expect(deploy(state(), {}, admin)).toEqual({ kind: 'start', nodes: 1, version: 'latest' });
    expect(deploy(state({ status: 'failed', reason: 'boom' }), { nodes: 3, version: 'v1.2.3' }, admin)).toEqual({ kind: 'start', nodes: 3, version: 'v1.2.3' });
  });

  it('refuses, before anything starts, a version the backend cannot take (a launch template version is a number, latest or default)', () => {
    const byTemplate: ClusterEntry = { name: 'acme-dev', visibility: 'private', backend: { kind: 'ec2', launch_template: 'lt-0abc12345678', version: { kind: 'launch_template_version' } } };

    expect(thrown(() => deploy(state(), { version: 'v4.1.0' }, admin, { cluster: byTemplate }))).toMatchObject({ code: 'invalid_request', status: 400 });
    for (const version of ['7', 'latest', 'default']) expect(deploy(state(), { version }, admin, { cluster: byTemplate })).toMatchObject({ kind: 'start', version });
    expect(deploy(state(), {}, admin, { cluster: byTemplate })).toMatchObject({ kind: 'start', version: 'latest' });
  });

  it('reads where an EC2 cluster takes its version from the catalog, naming a bad field', () => {
    const withVersion = (version: unknown) =>
      JSON.stringify({ ...catalogJson, clusters: [{ name: 'ec2-dev', visibility: 'private', backend: { kind: 'ec2', launch_template: 'lt-0abc12345678', version } }] });

    for (const version of [{ kind: 'launch_template_version' }, { kind: 'ami_parameter', name: '/sliderule/ami/{version}' }, { kind: 'user_data', template: 'VERSION={version}' }]) {
      expect(parseCatalog(withVersion(version), 'ec2').clusters[0]?.backend).toMatchObject({ version });
    }
    expect(() => parseCatalog(withVersion({ kind: 'ami_parameter', name: '/sliderule/ami/latest' }), 'ec2')).toThrow(/clusters\.0\.backend\.version\.name/);
    expect(() => parseCatalog(withVersion({ kind: 'user_data', template: 'no placeholder' }), 'ec2')).toThrow(/clusters\.0\.backend\.version\.template/);
  });

  it("caps nodes at the cluster's max_nodes, for administrators too", () => {
    expect(deploy(state(), { nodes: 8 }, admin)).toMatchObject({ kind: 'start', nodes: 8 });

    const error = thrown(() => deploy(state(), { nodes: 9 }, admin));

    expect(error).toMatchObject({ code: 'invalid_request', status: 400, details: { max_nodes: 8 } });
    expect(error.message).toContain('at most 8 for acme-dev');
    expect(error.message).not.toContain('at your level');
  });

  it("caps an org member's nodes at the lower of the cluster's and the level's max_nodes", () => {
    expect(deploy(state(), { nodes: 4 }, olga)).toMatchObject({ kind: 'start', nodes: 4 });

    const onAcmeDev = thrown(() => deploy(state(), { nodes: 5 }, olga));
    const onBetaLab = thrown(() => deploy(state({ name: 'beta-lab' }), { nodes: 5 }, otto, { cluster: betaLab }));

    expect(onAcmeDev).toMatchObject({ code: 'invalid_request', details: { max_nodes: 4 } });
    expect(onAcmeDev.message).toContain('at your level');
    expect(onBetaLab).toMatchObject({ code: 'invalid_request', details: { max_nodes: 4 } });
  });

  it('lets administrators deploy without the level limits', () => {
    const decision = deploy(state({ name: 'beta-lab' }), { nodes: 1000 }, admin, { cluster: betaLab });

    expect(decision).toEqual({ kind: 'start', nodes: 1000, version: 'latest' });
  });

  it("hands an org member's max_deployments to the store's slot claim, and none for administrators", () => {
    expect(deploy(state(), {}, olga)).toMatchObject({ kind: 'start', maxDeployments: 2 });
    expect(deploy(state(), {}, admin)).not.toHaveProperty('maxDeployments');

    const error = deploymentLimitReached(2);

    expect(error).toMatchObject({ code: 'deployment_limit_reached', status: 409, details: { max_deployments: 2 } });
    expect(error.message).toContain('2 deployments');
  });

  it('refuses a ttl that is not a duration', () => {
    for (const ttl of ['90x', '0h', '1.5h', 'soon', '1234567m']) {
      expect(thrown(() => deploy(state(), { ttl }, admin))).toMatchObject({ code: 'invalid_request', status: 400 });
    }
  });

  it("gives an org member's deployment a destroy time of now + ttl, at most max_ttl", () => {
    expect(deploy(state(), { ttl: '2h' }, olga)).toEqual({ kind: 'start', nodes: 1, version: 'latest', destroyAt: at(2 * HOUR), maxDeployments: 2 });
    expect(deploy(state(), { ttl: '8h' }, olga)).toMatchObject({ destroyAt: at(8 * HOUR) });
    expect(deploy(state(), { ttl: '480m' }, olga)).toMatchObject({ destroyAt: at(8 * HOUR) });

    expect(thrown(() => deploy(state(), { ttl: '481m' }, olga))).toMatchObject({ code: 'invalid_request', details: { max_ttl: '8h' } });
  });

  it("always gives an org member's deployment a destroy time: max_ttl when no ttl is asked", () => {
    expect(deploy(state(), {}, olga)).toEqual({ kind: 'start', nodes: 1, version: 'latest', destroyAt: at(8 * HOUR), maxDeployments: 2 });
  });

  it('gives no destroy time without a ttl when there is no max_ttl, nor to administrators', () => {
    expect(deploy(state(), {}, olga, { catalog: unlimited, cluster: entry('acme-dev', unlimited) })).not.toHaveProperty('destroyAt');
    expect(deploy(state(), {}, admin)).not.toHaveProperty('destroyAt');
  });

  it('gives an administrator any ttl up to the furthest a destroy may be scheduled', () => {
    expect(deploy(state(), { ttl: '30d' }, admin)).toMatchObject({ destroyAt: at(30 * DAY) });
    expect(deploy(state(), { ttl: '9h' }, admin)).toMatchObject({ destroyAt: at(9 * HOUR) });

    expect(thrown(() => deploy(state(), { ttl: '31d' }, admin))).toMatchObject({ code: 'invalid_request', status: 400 });
  });

  it("applies the level's limits to every caller that is not an administrator", () => {
    const error = thrown(() => deploy(state({ name: 'demo' }), { nodes: 5 }, gil, { cluster: demo }));

    expect(error).toMatchObject({ code: 'invalid_request', details: { max_nodes: 4 } });
    expect(deploy(state({ name: 'demo' }), {}, systemCaller('scheduler'), { cluster: demo })).toEqual({ kind: 'start', nodes: 1, version: 'latest' });
  });
});

describe('driftDegrades', () => {
  it('degrades only a running cluster, and only for a node of its current deployment', () => {
    expect(driftDegrades(running({ deployment_id: 'd-1' }), 'd-1')).toBe(true);
    expect(driftDegrades(running({ deployment_id: 'd-1' }), 'd-0')).toBe(false);
    for (const status of ['absent', 'deploying', 'degraded', 'destroying', 'failed'] as const) {
      expect({ status, degrades: driftDegrades(running({ status, deployment_id: 'd-1' }), 'd-1') }).toEqual({ status, degrades: false });
    }
  });
});

describe('scheduleLocked', () => {
  it('is unlocked without a destroy time', () => {
    expect(scheduleLocked(running(), now, defaultRules)).toBe(false);
  });

  it('locks exactly 5 minutes before the destroy, to the millisecond', () => {
    expect(scheduleLocked(running({ destroy_at: iso(LOCK + 1) }), now, defaultRules)).toBe(false);
    expect(scheduleLocked(running({ destroy_at: iso(LOCK) }), now, defaultRules)).toBe(true);
    expect(scheduleLocked(running({ destroy_at: iso(LOCK - 1) }), now, defaultRules)).toBe(true);
  });

  it('stays locked once the destroy time has passed', () => {
    expect(scheduleLocked(running({ destroy_at: iso(0) }), now, defaultRules)).toBe(true);
    expect(scheduleLocked(running({ destroy_at: iso(-DAY) }), now, defaultRules)).toBe(true);
  });

  it('follows the rules given', () => {
    const rules = { ...defaultRules, scheduleLockMs: HOUR };

    expect(scheduleLocked(running({ destroy_at: iso(HOUR) }), now, rules)).toBe(true);
    expect(scheduleLocked(running({ destroy_at: iso(HOUR + 1) }), now, rules)).toBe(false);
  });
});

describe('decideSchedule', () => {
  const schedule = (s: ClusterState, when: Date, who: Caller = admin, from: Catalog = catalog) => decideSchedule(s, when, who, from, now, defaultRules);

  it.each(['absent', 'destroying', 'failed'] as const)('refuses to schedule (%s) with 409 cluster_not_deployed', (status) => {
    const error = thrown(() => schedule(state({ status }), at(HOUR)));

    expect(error).toMatchObject({ code: 'cluster_not_deployed', status: 409 });
    expect(error.message).toContain(status);
  });

  it.each(['deploying', 'running', 'degraded'] as const)('schedules a %s cluster', (status) => {
    expect(() => schedule(running({ status }), at(HOUR))).not.toThrow();
    expect(() => schedule(running({ status, destroy_at: iso(2 * HOUR) }), at(HOUR))).not.toThrow();
  });

  it('moves a schedule 1 ms outside its lock, and not one exactly at its 5-minute boundary', () => {
    const justOutside = running({ destroy_at: iso(LOCK + 1) });
    const atBoundary = running({ destroy_at: iso(LOCK) });

    expect(() => schedule(justOutside, at(HOUR))).not.toThrow();
    const error = thrown(() => schedule(atBoundary, at(HOUR)));

    expect(error).toMatchObject({ code: 'schedule_locked', status: 409, details: { destroy_at: iso(LOCK) } });
    expect(error.message).toContain('5 minutes');
  });

  it('keeps a locked schedule for administrators too, and one whose time has passed', () => {
    expect(thrown(() => schedule(running({ destroy_at: iso(LOCK - 1) }), at(2 * LOCK), systemCaller('system')))).toMatchObject({ code: 'schedule_locked' });
    expect(thrown(() => schedule(running({ destroy_at: iso(-MINUTE) }), at(HOUR)))).toMatchObject({ code: 'schedule_locked' });
  });

  it('refuses a time that is not in the future', () => {
    expect(thrown(() => schedule(running(), now))).toMatchObject({ code: 'invalid_request', status: 400 });
    expect(thrown(() => schedule(running(), at(-1)))).toMatchObject({ code: 'invalid_request' });
    expect(() => schedule(running(), at(1))).not.toThrow();
  });

  it('refuses a time more than 30 days ahead, even for administrators', () => {
    expect(() => schedule(running(), at(30 * DAY))).not.toThrow();

    const error = thrown(() => schedule(running(), at(30 * DAY + 1)));

    expect(error).toMatchObject({ code: 'invalid_request', details: { latest: iso(30 * DAY) } });
  });

  it("holds an org member to max_ttl from the deployment's start", () => {
    // Deployed two hours ago with an 8h max_ttl: the latest destroy is six hours from now.
    const deployed = running({ deployed_at: iso(-2 * HOUR) });

    expect(() => schedule(deployed, at(6 * HOUR), olga)).not.toThrow();
    const error = thrown(() => schedule(deployed, at(6 * HOUR + 1), olga));

    expect(error).toMatchObject({ code: 'invalid_request', details: { latest: iso(6 * HOUR) } });
    expect(error.message).toContain(iso(6 * HOUR));
    expect(() => schedule(deployed, at(6 * HOUR + 1), admin)).not.toThrow();
  });

  it("holds an org member to 30 days when the catalog has no max_ttl", () => {
    const deployed = running({ deployed_at: iso(-2 * HOUR) });

    expect(() => schedule(deployed, at(30 * DAY), olga, unlimited)).not.toThrow();
    expect(thrown(() => schedule(deployed, at(30 * DAY + 1), olga, unlimited))).toMatchObject({ code: 'invalid_request' });
  });
});

describe('decideCancel', () => {
  const cancel = (s: ClusterState, who: Caller, from: Catalog = catalog) => decideCancel(s, who, from, now, defaultRules);

  it('has nothing to refuse without a schedule', () => {
    expect(() => cancel(running(), olga)).not.toThrow();
  });

  it('cancels a schedule 1 ms outside its lock, and not one exactly at its boundary', () => {
    expect(() => cancel(running({ destroy_at: iso(LOCK + 1) }), admin)).not.toThrow();

    const error = thrown(() => cancel(running({ destroy_at: iso(LOCK) }), admin));

    expect(error).toMatchObject({ code: 'schedule_locked', status: 409 });
    expect(error.message).toContain('cancelled');
  });

  it('answers schedule_locked before forbidden to an org member', () => {
    expect(thrown(() => cancel(running({ destroy_at: iso(MINUTE) }), olga))).toMatchObject({ code: 'schedule_locked' });
  });

  it("refuses an org member's cancel when their deployments must keep a schedule (max_ttl)", () => {
    const error = thrown(() => cancel(running({ destroy_at: iso(HOUR) }), olga));

    expect(error).toMatchObject({ code: 'forbidden', status: 403 });
    expect(error.message).toContain('8h');
  });

  it('lets an org member cancel without a max_ttl, and an administrator always', () => {
    expect(() => cancel(running({ destroy_at: iso(HOUR) }), olga, unlimited)).not.toThrow();
    expect(() => cancel(running({ destroy_at: iso(HOUR) }), admin)).not.toThrow();
    expect(() => cancel(running({ destroy_at: iso(HOUR) }), systemCaller('scheduler'))).not.toThrow();
  });
});

describe('destroyTime', () => {
  it('reads an ISO time, with or without an offset', () => {
    expect(destroyTime({ at: '2026-11-23T14:30:00Z' }, now)).toEqual(new Date('2026-11-23T14:30:00.000Z'));
    expect(destroyTime({ at: '2026-11-23T14:30:00+02:00' }, now)).toEqual(new Date('2026-11-23T12:30:00.000Z'));
  });

  it('reads a duration from now', () => {
    expect(destroyTime({ in: '90m' }, now)).toEqual(at(90 * MINUTE));
    expect(destroyTime({ in: '2d' }, now)).toEqual(at(2 * DAY));
    expect(destroyTime({ in: '45s' }, now)).toEqual(at(45_000));
  });

  it('refuses a body with neither, or a duration it cannot read', () => {
    expect(thrown(() => destroyTime({}, now))).toMatchObject({ code: 'invalid_request', status: 400 });
    expect(thrown(() => destroyTime({ in: 'soon' }, now))).toMatchObject({ code: 'invalid_request' });
    expect(thrown(() => destroyTime({ in: '0m' }, now))).toMatchObject({ code: 'invalid_request' });
  });
});

describe('who manages and who sees a cluster', () => {
  const manage = (who: Caller, cluster: ClusterEntry) => () => authorizeManage(who, cluster, catalog);

  it('lets administrators and Provisioner itself manage every cluster', () => {
    for (const cluster of catalog.clusters) {
      expect(manage(admin, cluster)).not.toThrow();
      expect(manage(systemCaller('scheduler'), cluster)).not.toThrow();
    }
  });

  it('asks anonymous callers to log in (401) for any cluster', () => {
    for (const cluster of catalog.clusters) {
      expect(thrown(manage(anonymousCaller, cluster))).toMatchObject({ code: 'authentication_required', status: 401 });
    }
  });

  it('leaves a public cluster to administrators only (403)', () => {
    for (const who of [gil, olga, otto]) {
      const error = thrown(manage(who, demo));
      expect(error).toMatchObject({ code: 'forbidden', status: 403 });
      expect(error.message).toContain('public');
    }
  });

  it("lets members of a private cluster's organization manage it (the catalog's by default)", () => {
    expect(manage(olga, acmeDev)).not.toThrow();
    expect(manage(otto, betaLab)).not.toThrow();
    // A member of the cluster's own org only (a github_member for the catalog) manages it too, as ACCESS admits them.
    expect(manage(bea, betaLab)).not.toThrow();
  });

  it("refuses members of other organizations a private cluster (403), naming the cluster's organization", () => {
    const error = thrown(manage(olga, betaLab));

    expect(error).toMatchObject({ code: 'forbidden', status: 403 });
    expect(error.message).toContain('beta');
    expect(thrown(manage(gil, acmeDev))).toMatchObject({ code: 'forbidden' });
    expect(thrown(manage(bea, acmeDev))).toMatchObject({ code: 'forbidden' });
  });

  it('shows public clusters to everyone, private ones to their organization and administrators', () => {
    expect(catalog.clusters.filter((c) => canSee(anonymousCaller, c, catalog)).map((c) => c.name)).toEqual(['demo']);
    expect(catalog.clusters.filter((c) => canSee(gil, c, catalog)).map((c) => c.name)).toEqual(['demo']);
    expect(catalog.clusters.filter((c) => canSee(olga, c, catalog)).map((c) => c.name)).toEqual(['demo', 'acme-dev']);
    expect(catalog.clusters.filter((c) => canSee(bea, c, catalog)).map((c) => c.name)).toEqual(['demo', 'beta-lab']);
    expect(catalog.clusters.filter((c) => canSee(otto, c, catalog)).map((c) => c.name)).toEqual(['demo', 'acme-dev', 'beta-lab']);
    expect(catalog.clusters.filter((c) => canSee(admin, c, catalog)).map((c) => c.name)).toEqual(['demo', 'acme-dev', 'beta-lab']);
  });

  it('answers a private cluster the caller may not see exactly as one that does not exist (404)', () => {
    const hidden = thrown(() => visibleCluster(catalog, 'beta-lab', olga));
    const missing = thrown(() => visibleCluster(catalog, 'no-such', olga));

    expect(hidden).toMatchObject({ code: 'cluster_not_found', status: 404 });
    expect(missing).toMatchObject({ code: 'cluster_not_found', status: 404 });
    expect(hidden.message).toBe(missing.message.replace('no-such', 'beta-lab'));
    expect(thrown(() => visibleCluster(catalog, 'acme-dev', anonymousCaller))).toMatchObject({ code: 'cluster_not_found' });
  });

  it('returns the entry of a cluster the caller may see', () => {
    expect(visibleCluster(catalog, 'demo', anonymousCaller)).toBe(demo);
    expect(visibleCluster(catalog, 'beta-lab', bea)).toBe(betaLab);
    expect(visibleCluster(catalog, 'acme-dev', admin)).toBe(acmeDev);
  });

  it('returns the entry of a cluster the caller may manage; 404 for an unknown or hidden one, 403 for one they see but may not manage', () => {
    expect(manageableCluster(catalog, 'beta-lab', otto)).toBe(betaLab);
    expect(manageableCluster(catalog, 'demo', admin)).toBe(demo);

    expect(thrown(() => manageableCluster(catalog, 'no-such', admin))).toMatchObject({ code: 'cluster_not_found', status: 404 });
    expect(thrown(() => manageableCluster(catalog, 'no-such', anonymousCaller))).toMatchObject({ code: 'cluster_not_found' });
    expect(thrown(() => manageableCluster(catalog, 'demo', anonymousCaller))).toMatchObject({ code: 'authentication_required', status: 401 });
    expect(thrown(() => manageableCluster(catalog, 'demo', olga))).toMatchObject({ code: 'forbidden', status: 403 });
    // A private cluster the caller cannot see answers exactly as a missing one, on every route.
    const hidden = thrown(() => manageableCluster(catalog, 'beta-lab', olga));
    expect(hidden).toMatchObject({ code: 'cluster_not_found', status: 404 });
    expect(hidden.message).not.toContain('beta.');
    expect(thrown(() => manageableCluster(catalog, 'acme-dev', anonymousCaller))).toMatchObject({ code: 'cluster_not_found', status: 404 });
  });
});
