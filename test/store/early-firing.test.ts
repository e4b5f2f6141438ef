import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import { parseCatalog } from '../../src/domain/catalog.js';
import { defaultRules } from '../../src/domain/clusters.js';
import { systemCaller } from '../../src/domain/levels.js';
import { deployCluster, destroyCluster, readCluster } from '../../src/operations/clusters/use-cases.js';
import { runDeadlineCheck, runScheduledDestroy } from '../../src/operations/clusters/scheduled.js';
import type { ScheduledCall } from '../../src/ports.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';
import { FakeCompute } from '../support/fake-compute.js';
import { RecordingScheduler } from '../support/recording-scheduler.js';

/** EventBridge Scheduler fires with 60-second precision: up to a minute before the schedule's time. */
const EARLY_MS = 59_000;
const log = { debug() {}, info() {}, warn() {}, error() {} };
const catalog = parseCatalog(
  JSON.stringify({
    organization: 'acme',
    admins: ['alice'],
    limits: { org_member: { max_nodes: 4, max_ttl: '12h', max_deployments: 1 } },
    clusters: [{ name: 'acme-dev', visibility: 'private', backend: { kind: 'local' } }],
  }),
  'test',
);
const acmeDev = catalog.clusters[0]!;
const olga = { caller: { sub: 'github:olga', login: 'olga', level: 'org_member' as const, orgs: ['acme'] }, requestId: 'r', log };
const asScheduler = { caller: systemCaller('scheduler'), requestId: 's', log };

describe('a schedule that fires up to 60 s early is due, never dropped', () => {
  const clock = new ManualClock(new Date('2026-11-23T12:00:00.000Z'));
  let dynamo: LocalDynamo;
  let store: DynamoStore;
  let compute: FakeCompute;
  let scheduler: RecordingScheduler;
  let deps: Parameters<typeof deployCluster>[0];

  // Each test on a table of its own, so that one failing leaves nothing behind for the next.
  beforeEach(async () => {
    clock.set('2026-11-23T12:00:00.000Z');
    ({ dynamo, store } = await startTestStore(clock));
    compute = new FakeCompute();
    scheduler = new RecordingScheduler();
    deps = { store, clock, catalog, scheduler, compute, clusterRules: defaultRules };
  });
  afterEach(() => dynamo.close());

  /** The one schedule of a target, and the clock set to `EARLY_MS` before it is due. */
  function fireEarly<T extends ScheduledCall['target']>(target: T): Extract<ScheduledCall, { target: T }> {
    const schedules = scheduler.of('acme-dev').filter((s) => s.target === target);
    expect(schedules).toHaveLength(1);
    const schedule = schedules[0] as Extract<ScheduledCall, { target: T }>;
    clock.set(new Date(schedule.at.getTime() - EARLY_MS).toISOString());
    return schedule;
  }

  it('the check-deadline target fails a deploy still not running, 59 s before its deadline', async () => {
    // Arrange: a deploy the backend never finishes.
    const deploying = await deployCluster(deps, olga, 'acme-dev', { nodes: 1 });
    const check = fireEarly('check-deadline');

    // Act
    const status = await runDeadlineCheck(check.payload, deps, asScheduler);

    // Assert: late is failed, and what it started is removed.
    expect(status).toBe('failed');
    expect(await readCluster(deps, olga, acmeDev)).toMatchObject({ status: 'failed', reason: expect.stringContaining('not running by its deadline') });
    expect(compute.destroyed).toEqual([deploying.deployment_id]);
  });

  it('the check-deadline target drives again a destroy not gone, 59 s before its deadline', async () => {
    // Arrange: a running cluster whose destroy does not finish.
    await deployCluster(deps, olga, 'acme-dev', { nodes: 1 });
    compute.set('acme-dev', 'running', ['http://10.0.0.1']);
    expect((await readCluster(deps, olga, acmeDev)).status).toBe('running');
    const destroying = await destroyCluster(deps, olga, 'acme-dev');
    expect(destroying.status).toBe('destroying');
    const check = fireEarly('check-deadline');

    // Act
    await runDeadlineCheck(check.payload, deps, asScheduler);

    // Assert: driven again under a new check, not left waiting for a check that will never come.
    const retried = await readCluster(deps, olga, acmeDev);
    expect(retried).toMatchObject({ status: 'destroying', reason: expect.stringContaining('not gone by its deadline') });
    expect(retried.check_id).not.toBe(destroying.check_id);
    expect(compute.destroyed).toEqual([destroying.deployment_id, destroying.deployment_id]);
  });

  it('the destroy target destroys, 59 s before the destroy time', async () => {
    // Arrange: a running cluster with its destroy schedule (max_ttl).
    const deployed = await deployCluster(deps, olga, 'acme-dev', { nodes: 1 });
    compute.set('acme-dev', 'running', ['http://10.0.0.1']);
    expect((await readCluster(deps, olga, acmeDev)).status).toBe('running');
    const destroy = fireEarly('destroy');

    // Act
    const outcome = await runScheduledDestroy(destroy.payload, deps, asScheduler);

    // Assert: the destroy really happened.
    expect(outcome).toBe('destroyed');
    expect(compute.destroyed).toEqual([deployed.deployment_id]);
    expect((await readCluster(deps, olga, acmeDev)).status).toBe('destroying');
  });
});
