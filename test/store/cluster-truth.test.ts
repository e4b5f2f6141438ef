import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import { parseCatalog } from '../../src/domain/catalog.js';
import { type ClusterState, defaultRules } from '../../src/domain/clusters.js';
import { ProvisionerError } from '../../src/domain/errors.js';
import { systemCaller } from '../../src/domain/levels.js';
import { checkDeadline, clusterTrail, deployCluster, destroyCluster, readCluster, recordDrift, scheduledDestroy, sweepClusters } from '../../src/operations/clusters/use-cases.js';
import { instanceStateHandler } from '../../src/operations/clusters/instance-events.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';
import { FakeCompute } from '../support/fake-compute.js';
import { RecordingScheduler } from '../support/recording-scheduler.js';

const MINUTE = 60_000;
const log = { debug() {}, info() {}, warn() {}, error() {} };
/** Org members may hold one deployment, each with a destroy schedule at most 12 hours out. */
const catalog = parseCatalog(
  JSON.stringify({
    organization: 'acme',
    admins: ['alice'],
    limits: { org_member: { max_nodes: 4, max_ttl: '12h', max_deployments: 1 } },
    clusters: [
      { name: 'acme-dev', visibility: 'private', backend: { kind: 'local' } },
      { name: 'acme-qa', visibility: 'private', backend: { kind: 'local' } },
    ],
  }),
  'test',
);
const acmeDev = catalog.clusters[0]!;
const olga = { caller: { sub: 'github:olga', login: 'olga', level: 'org_member' as const, orgs: ['acme'] }, requestId: 'r', log };
const scheduler$ = { caller: systemCaller('scheduler'), requestId: 's', log };

/** The ProvisionerError a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<ProvisionerError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProvisionerError) return error;
    throw error;
  }
  throw new Error('expected a ProvisionerError; nothing was thrown');
}

describe('clusters that stay true', () => {
  const clock = new ManualClock(new Date('2026-11-23T12:00:00.000Z'));
  let dynamo: LocalDynamo;
  let store: DynamoStore;
  let compute: FakeCompute;
  let scheduler: RecordingScheduler;
  let deps: Parameters<typeof deployCluster>[0];

  beforeAll(async () => {
    ({ dynamo, store } = await startTestStore(clock));
  });
  afterAll(() => dynamo.close());
  beforeEach(() => {
    compute = new FakeCompute();
    scheduler = new RecordingScheduler();
    deps = { store, clock, catalog, scheduler, compute, clusterRules: defaultRules };
  });

  /** Olga's running acme-dev, with its destroy schedule (max_ttl). */
  async function runningCluster(): Promise<ClusterState> {
    await deployCluster(deps, olga, 'acme-dev', { nodes: 2, version: 'v4.1.0' });
    compute.set('acme-dev', 'running', ['http://10.0.0.1', 'http://10.0.0.2']);
    const running = await readCluster(deps, olga, acmeDev);
    expect(running.status).toBe('running');
    return running;
  }

  /** Destroys whatever is left, so each test starts from absent. */
  /** The store's deps with a backend that confirms drift with `lost`. */
  const withLost = (lost: string) => ({ ...deps, machineOwners: { lost: async () => lost } });

  async function cleanUp(): Promise<void> {
    compute.failDestroy = false;
    const state = await destroyCluster(deps, { ...olga, caller: systemCaller('system') }, 'acme-dev');
    if (state.status !== 'absent') {
      compute.set('acme-dev', 'gone');
      expect((await readCluster(deps, olga, acmeDev)).status).toBe('absent');
    }
  }

  describe('DESTROY keeps its safety net until it succeeds', () => {
    it('a destroy the backend refuses stays destroying with its reason, still counted, its schedules kept; the retry succeeds → absent, slot freed, no schedules left', async () => {
      // Arrange
      const running = await runningCluster();
      const destroySchedule = scheduler.of('acme-dev').find((s) => s.target === 'destroy');
      expect(destroySchedule).toBeDefined();
      compute.failDestroy = true;

      // Act: the backend refuses.
      const refused = await rejection(destroyCluster(deps, olga, 'acme-dev'));

      // Assert: 503, the cluster destroying with the reason, still counting, a check and the destroy schedule still there.
      expect(refused).toMatchObject({ code: 'backend_unavailable', status: 503 });
      const destroying = await readCluster(deps, olga, acmeDev);
      expect(destroying).toMatchObject({ status: 'destroying', deployment_id: running.deployment_id, reason: expect.stringContaining('RequestLimitExceeded') });
      expect(await rejection(deployCluster(deps, olga, 'acme-qa', {}))).toMatchObject({ code: 'deployment_limit_reached' });
      const pending = scheduler.of('acme-dev');
      expect(pending.map((s) => s.target).sort()).toEqual(['check-deadline', 'destroy']);

      // Act: the check at the deadline retries; the backend accepts now.
      compute.failDestroy = false;
      clock.advance(10 * MINUTE);
      const retried = await checkDeadline(deps, scheduler$, 'acme-dev', destroying.check_id ?? '');

      // Assert: still destroying until gone, re-armed, still counting.
      expect(retried).toMatchObject({ status: 'destroying', reason: expect.stringContaining('not gone by its deadline') });
      expect(compute.destroyed).toEqual([running.deployment_id]);
      expect(scheduler.of('acme-dev').map((s) => s.target).sort()).toEqual(['check-deadline', 'destroy']);
      expect(retried.check_id).not.toBe(destroying.check_id);

      // Act: the resources are gone; the next check finds it.
      compute.set('acme-dev', 'gone');
      clock.advance(10 * MINUTE);
      const absent = await checkDeadline(deps, scheduler$, 'acme-dev', retried.check_id ?? '');

      // Assert: absent, no schedules left, the slot free.
      expect(absent).toMatchObject({ status: 'absent' });
      expect(absent.destroy_at).toBeUndefined();
      expect(scheduler.of('acme-dev')).toEqual([]);
      expect((await deployCluster(deps, olga, 'acme-qa', {})).status).toBe('deploying');
      const actions = (await clusterTrail(deps, 'acme-dev', 4)).items.map((e) => e.action);
      expect(actions).toEqual(['absent', 'destroy-retry', 'destroy-refused', 'destroy']);
      compute.set('acme-qa', 'gone');
      await destroyCluster(deps, olga, 'acme-qa');
    });

    it('a destroy not done by its deadline stays destroying and is driven again, never failed', async () => {
      const running = await runningCluster();
      const destroying = await destroyCluster(deps, olga, 'acme-dev');
      expect(destroying.status).toBe('destroying');

      clock.advance(10 * MINUTE);
      const late = await readCluster(deps, olga, acmeDev);

      expect(late).toMatchObject({ status: 'destroying', reason: expect.stringContaining('not gone by its deadline') });
      expect(compute.destroyed).toEqual([running.deployment_id, running.deployment_id]);
      expect(scheduler.of('acme-dev').some((s) => s.target === 'check-deadline' && s.payload.check_id === late.check_id)).toBe(true);
      await cleanUp();
      expect(scheduler.of('acme-dev')).toEqual([]);
    });

    it("a backend that keeps refusing: each retry at a deadline records the backend's refusal, so the reason says why it is not gone", async () => {
      // Arrange
      await runningCluster();
      compute.failDestroy = true;
      await rejection(destroyCluster(deps, olga, 'acme-dev'));
      const refused = await readCluster(deps, olga, acmeDev);

      // Act
      clock.advance(10 * MINUTE);
      const retried = await checkDeadline(deps, scheduler$, 'acme-dev', refused.check_id ?? '');

      // Assert: still destroying, re-armed, and the reason names the refusal, not only the deadline.
      expect(retried).toMatchObject({ status: 'destroying', reason: expect.stringContaining('RequestLimitExceeded') });
      expect(retried.reason).toContain('not gone by its deadline');
      expect(scheduler.of('acme-dev').some((s) => s.target === 'check-deadline' && s.payload.check_id === retried.check_id)).toBe(true);
      expect((await clusterTrail(deps, 'acme-dev', 2)).items.map((e) => e.action)).toEqual(['destroy-refused', 'destroy-retry']);
      await cleanUp();
    });

    it('removes the destroy schedule only once the cluster is gone, and a destroy schedule firing meanwhile drives the destroy again', async () => {
      const running = await runningCluster();
      await destroyCluster(deps, olga, 'acme-dev');
      expect(scheduler.of('acme-dev').filter((s) => s.target === 'destroy')).toHaveLength(1);

      expect(await scheduledDestroy(deps, scheduler$, 'acme-dev', running.schedule_id ?? '')).toBe('destroyed');
      expect(compute.destroyed).toEqual([running.deployment_id, running.deployment_id]);

      compute.set('acme-dev', 'gone');
      expect((await readCluster(deps, olga, acmeDev)).status).toBe('absent');
      expect(scheduler.of('acme-dev')).toEqual([]);
    });
  });

  describe('drift', () => {
    it('a running cluster whose backend reports a lost node on read becomes degraded with the reason; DEPLOY repairs it', async () => {
      // Arrange
      compute.driftOnRead = true;
      const running = await runningCluster();

      // Act
      compute.set('acme-dev', 'degraded', ['http://10.0.0.1'], 'node 1 exited');
      const degraded = await readCluster(deps, olga, acmeDev);

      // Assert
      expect(degraded).toMatchObject({ status: 'degraded', reason: 'node 1 exited', deployment_id: running.deployment_id });
      expect((await clusterTrail(deps, 'acme-dev', 1)).items[0]).toMatchObject({ action: 'degraded', actor: 'system', from: 'running', to: 'degraded', details: { reason: 'node 1 exited' } });

      // Act: DEPLOY repairs the same deployment, within its deadline; the slot is not claimed again.
      expect(await rejection(deployCluster(deps, olga, 'acme-dev', { version: 'v5' }))).toMatchObject({ code: 'version_mismatch' });
      const repairing = await deployCluster(deps, olga, 'acme-dev', {});

      // Assert
      expect(repairing).toMatchObject({ status: 'deploying', deployment_id: running.deployment_id, nodes: 2, cluster_version: 'v4.1.0', destroy_at: running.destroy_at });
      expect(repairing.reason).toBeUndefined();
      expect(compute.deployed.at(-1)).toEqual({ cluster: 'acme-dev', deploymentId: running.deployment_id, nodes: 2, version: 'v4.1.0', repair: expect.any(String) });
      expect(scheduler.of('acme-dev').some((s) => s.target === 'check-deadline' && s.payload.check_id === repairing.check_id)).toBe(true);
      compute.set('acme-dev', 'running', ['http://10.0.0.1', 'http://10.0.0.3']);
      expect(await readCluster(deps, olga, acmeDev)).toMatchObject({ status: 'running', endpoints: ['http://10.0.0.1', 'http://10.0.0.3'] });
      expect((await clusterTrail(deps, 'acme-dev', 2)).items.map((e) => e.action)).toEqual(['running', 'repair']);
      await cleanUp();
    });

    it('a read while a repair is on its way (the lost node still reported) waits for the repair instead of failing the deployment', async () => {
      // Arrange: a degraded cluster, and a read that lands between the repair's write and the backend's work.
      compute.driftOnRead = true;
      const running = await runningCluster();
      compute.set('acme-dev', 'degraded', ['http://10.0.0.1'], 'node 1 exited');
      await readCluster(deps, olga, acmeDev);
      const deploy = compute.deploy.bind(compute);
      let readDuringRepair: ClusterState | undefined;
      const status = compute.status.bind(compute);
      const asked: Parameters<typeof compute.status>[0][] = [];
      compute.status = async (d) => {
        asked.push(d);
        return status(d);
      };
      compute.deploy = async (d) => {
        readDuringRepair = await readCluster(deps, olga, acmeDev);
        return deploy(d);
      };

      // Act
      const repairing = await deployCluster(deps, olga, 'acme-dev', {});

      // Assert: nothing was destroyed; the repair goes on, and at its deadline is degraded again if the node never came back.
      expect(readDuringRepair).toMatchObject({ status: 'deploying', deployment_id: running.deployment_id });
      // The backend is told how many nodes the repair expects (EC2 forgets a terminated instance).
      expect(asked.at(-1)).toMatchObject({ deploymentId: running.deployment_id, nodes: 2 });
      expect(repairing).toMatchObject({ status: 'deploying', deployment_id: running.deployment_id });
      expect(compute.destroyed).toEqual([]);
      compute.set('acme-dev', 'degraded', ['http://10.0.0.1'], 'node 1 exited');
      expect((await readCluster(deps, olga, acmeDev)).status).toBe('deploying');
      clock.advance(defaultRules.operationTimeoutMs);
      const late = await checkDeadline(deps, scheduler$, 'acme-dev', repairing.check_id ?? '');
      expect(late).toMatchObject({ status: 'degraded', reason: `the repair was not done by its deadline ${repairing.deadline}: node 1 exited` });
      expect(late.check_id).toBeUndefined();
      expect(compute.destroyed).toEqual([]);
      expect(scheduler.of('acme-dev').map((s) => s.target)).toEqual(['destroy']);
      expect((await clusterTrail(deps, 'acme-dev', 1)).items[0]).toMatchObject({ action: 'repair-late', from: 'deploying', to: 'degraded' });
      await cleanUp();
    });

    it('a repair the backend refuses leaves the cluster degraded with the reason, and destroys none of the nodes still serving', async () => {
      // Arrange
      compute.driftOnRead = true;
      const running = await runningCluster();
      compute.set('acme-dev', 'degraded', ['http://10.0.0.1'], 'node 1 exited');
      await readCluster(deps, olga, acmeDev);
      compute.failDeploy = true;

      // Act
      const refused = await rejection(deployCluster(deps, olga, 'acme-dev', {}));

      // Assert
      expect(refused).toMatchObject({ code: 'backend_unavailable' });
      expect(compute.destroyed).toEqual([]);
      const after = await readCluster(deps, olga, acmeDev);
      expect(after).toMatchObject({ status: 'degraded', deployment_id: running.deployment_id, reason: 'the backend refused the repair: capacity' });
      expect(after.check_id).toBeUndefined();
      expect(scheduler.of('acme-dev').map((s) => s.target)).toEqual(['destroy']);
      expect((await clusterTrail(deps, 'acme-dev', 2)).items.map((e) => e.action)).toEqual(['repair-refused', 'repair']);
      compute.failDeploy = false;
      await cleanUp();
    });

    it('a backend that reports drift by events is not asked on a read of a running cluster', async () => {
      await runningCluster();
      compute.set('acme-dev', 'gone');
      expect((await readCluster(deps, olga, acmeDev)).status).toBe('running');
      await cleanUp();
    });

    it("records an instance event as degraded only for the running cluster's current deployment", async () => {
      const running = await runningCluster();
      const drift = (deploymentId: string) => recordDrift(withLost('instance i-0abc is terminated'), { ...olga, caller: systemCaller('system') }, { cluster: 'acme-dev', deploymentId, reason: 'instance i-0abc is terminated' });

      expect((await drift('an-earlier-deployment'))?.status).toBe('running');
      const degraded = await drift(running.deployment_id ?? '');

      expect(degraded).toMatchObject({ status: 'degraded', reason: 'instance i-0abc is terminated' });
      // A second event for the same cluster changes nothing more.
      expect((await drift(running.deployment_id ?? ''))?.version).toBe(degraded?.version);
      await cleanUp();
    });

    it("the EC2 state-change handler degrades the cluster of an instance of its running deployment, from the instance map, and skips others", async () => {
      // Arrange
      const running = await runningCluster();
      const owners: Record<string, { cluster: string; deploymentId: string }> = {
        'i-0aaa1111': { cluster: 'acme-dev', deploymentId: running.deployment_id ?? '' },
        'i-0bbb2222': { cluster: 'acme-dev', deploymentId: 'an-earlier-deployment' },
      };
      const machineOwners = { ownerOf: async (id: string) => owners[id], lost: async ({ nodes }: { nodes: number }) => `${nodes - 1} of ${nodes} nodes serving`, forget: async () => undefined };
      const handler = instanceStateHandler({ store: () => store, clock: () => clock, catalog: () => catalog, scheduler: () => scheduler, machineOwners: () => machineOwners });
      const event = (instance: string, state: string) => ({
        version: '0',
        source: 'aws.ec2',
        'detail-type': 'EC2 Instance State-change Notification',
        region: 'us-east-1',
        resources: [`arn:aws:ec2:us-east-1:123456789012:instance/${instance}`],
        detail: { 'instance-id': instance, state },
      });

      // Act / Assert
      expect(await handler(event('i-0ccc3333', 'terminated'))).toEqual({ ignored: 'i-0ccc3333 is not a cluster instance' });
      expect(await handler(event('i-0bbb2222', 'terminated'))).toEqual({ cluster: 'acme-dev', status: 'running' });
      expect(await handler(event('i-0aaa1111', 'running'))).toEqual({ ignored: 'not an instance state change' });
      expect(await handler({ source: 'aws.s3' })).toEqual({ ignored: 'not an instance state change' });
      expect(await handler(event('i-0aaa1111', 'shutting-down'))).toEqual({ cluster: 'acme-dev', status: 'degraded' });
      expect(await readCluster(deps, olga, acmeDev)).toMatchObject({ status: 'degraded', reason: 'instance i-0aaa1111 is shutting-down; now 1 of 2 nodes serving' });
      expect((await clusterTrail(deps, 'acme-dev', 1)).items[0]).toMatchObject({ action: 'degraded', actor: 'system' });
      await cleanUp();
    });

    it('a late event of a machine the repair replaced, once every node serves again, changes nothing', async () => {
      // Arrange: degraded, repaired, running again; the replaced machine's `terminated` event comes last.
      const running = await runningCluster();
      const owners = { ownerOf: async () => ({ cluster: 'acme-dev', deploymentId: running.deployment_id ?? '' }), lost: async (): Promise<string | undefined> => 'instance i-0aaa1111 is stopped', forget: async () => undefined };
      const handler = instanceStateHandler({ store: () => store, clock: () => clock, catalog: () => catalog, scheduler: () => scheduler, machineOwners: () => owners });
      const event = (state: string) => ({ source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: { 'instance-id': 'i-0aaa1111', state } });
      expect(await handler(event('stopped'))).toEqual({ cluster: 'acme-dev', status: 'degraded' });
      await deployCluster(deps, olga, 'acme-dev', {});
      compute.set('acme-dev', 'running', ['http://10.0.0.1', 'http://10.0.0.3']);
      const repaired = await readCluster(deps, olga, acmeDev);
      expect(repaired.status).toBe('running');

      // Act
      owners.lost = async () => undefined;
      const late = await handler(event('terminated'));

      // Assert
      expect(late).toEqual({ cluster: 'acme-dev', status: 'running' });
      expect((await readCluster(deps, olga, acmeDev)).version).toBe(repaired.version);
      await cleanUp();
    });

    it('keeps a degraded cluster counted, and never sweeps what is left of it', async () => {
      const running = await runningCluster();
      await recordDrift(withLost('instance stopped'), { ...olga, caller: systemCaller('system') }, { cluster: 'acme-dev', deploymentId: running.deployment_id ?? '', reason: 'instance stopped' });
      expect(await rejection(deployCluster(deps, olga, 'acme-qa', {}))).toMatchObject({ code: 'deployment_limit_reached' });
      clock.advance(MINUTE);
      expect((await sweepClusters(deps, scheduler$)).swept).toEqual([]);
      expect(await recordDrift(withLost('x'), scheduler$, { cluster: 'no-such-cluster', deploymentId: 'd', reason: 'x' })).toBeUndefined();
      await cleanUp();
    });
  });
});
