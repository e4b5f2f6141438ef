import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import { type Catalog, parseCatalog } from '../../src/domain/catalog.js';
import { defaultRules } from '../../src/domain/clusters.js';
import type { Caller } from '../../src/domain/levels.js';
import { cancelDestroy, checkDeadline, clusterTrail, deployCluster, destroyCluster, readCluster, recordDrift, scheduleDestroy } from '../../src/operations/clusters/use-cases.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';
import { FakeCompute } from '../support/fake-compute.js';
import { RecordingScheduler } from '../support/recording-scheduler.js';
import { counting } from './counting.js';

const log = { debug() {}, info() {}, warn() {}, error() {} };
const olga: Caller = { sub: 'github:olga', login: 'olga', level: 'org_member', orgs: ['acme'] };
const catalog: Catalog = parseCatalog(
  JSON.stringify({
    organization: 'acme',
    admins: ['alice'],
    limits: { org_member: { max_nodes: 4, max_ttl: '12h', max_deployments: 2 } },
    clusters: [{ name: 'acme-dev', visibility: 'private', backend: { kind: 'local' } }],
  }),
  'test catalog',
);

describe('store round trips of every cluster operation (at most 3)', () => {
  const clock = new ManualClock();
  let dynamo: LocalDynamo;
  let dynamoStore: DynamoStore;
  let calls: string[];
  let deps: Parameters<typeof deployCluster>[0];
  const compute = new FakeCompute();
  const actor = { caller: olga, requestId: 'req', log };

  beforeAll(async () => {
    ({ dynamo, store: dynamoStore } = await startTestStore(clock));
  });
  afterAll(() => dynamo.close());
  beforeEach(() => {
    const counted = counting(dynamoStore);
    calls = counted.calls;
    deps = { store: counted.store, clock, catalog, scheduler: new RecordingScheduler(), compute, clusterRules: defaultRules };
  });

  it('walks a cluster through its life, counting each step', async () => {
    // Arrange / Act / Assert per step: each step's calls are reset.
    const step = async <T>(run: () => Promise<T>): Promise<[T, string[]]> => {
      calls.length = 0;
      const result = await run();
      return [result, [...calls]];
    };

    const [deployed, deployCalls] = await step(() => deployCluster(deps, actor, 'acme-dev', { nodes: 2 }));
    expect(deployed.status).toBe('deploying');
    // Read the state, claim one of the caller's deployment slots, one conditional write (state + event).
    expect(deployCalls).toEqual(['get', 'claim', 'createIfAbsent']);

    compute.set('acme-dev', 'running', ['http://node-1']);
    const [running, readCalls] = await step(() => readCluster(deps, actor, catalog.clusters[0]!));
    expect(running.status).toBe('running');
    expect(readCalls).toEqual(['get', 'transition']);

    const [again, againCalls] = await step(() => deployCluster(deps, actor, 'acme-dev', { nodes: 2 }));
    expect(again.status).toBe('running');
    expect(againCalls).toEqual(['get']);

    const [scheduled, scheduleCalls] = await step(() => scheduleDestroy(deps, actor, 'acme-dev', new Date(clock.now().getTime() + 3_600_000)));
    expect(scheduled.destroy_at).toBeDefined();
    expect(scheduleCalls).toEqual(['get', 'transition']);

    const [moved, moveCalls] = await step(() => scheduleDestroy(deps, actor, 'acme-dev', new Date(clock.now().getTime() + 7_200_000)));
    expect(moved.destroy_at).not.toBe(scheduled.destroy_at);
    expect(moveCalls).toEqual(['get', 'transition']);

    // Olga's deployments keep a schedule (max_ttl); an administrator may cancel it.
    const [cancelled, cancelCalls] = await step(() => cancelDestroy(deps, { ...actor, caller: { ...olga, sub: 'github:alice', level: 'administrator' } }, 'acme-dev'));
    expect(cancelled.destroy_at).toBeUndefined();
    expect(cancelCalls).toEqual(['get', 'transition']);

    const [destroying, destroyCalls] = await step(() => destroyCluster(deps, actor, 'acme-dev'));
    expect(destroying.status).toBe('destroying');
    expect(destroyCalls).toEqual(['get', 'transition']);

    compute.set('acme-dev', 'gone');
    const [absent, checkCalls] = await step(() => checkDeadline(deps, actor, 'acme-dev', destroying.check_id ?? ''));
    expect(absent.status).toBe('absent');
    // ... and the deployer's slot is given back.
    expect(checkCalls).toEqual(['get', 'transition', 'release']);

    // Redeploying an absent cluster: the same three calls as the first time, the write an update now.
    const [redeployed, redeployCalls] = await step(() => deployCluster(deps, actor, 'acme-dev', {}));
    expect(redeployed.status).toBe('deploying');
    expect(redeployCalls).toEqual(['get', 'claim', 'transition']);

    const [trail, trailCalls] = await step(() => clusterTrail(deps, 'acme-dev', 5));
    expect(trail.items.map((e) => e.action)).toEqual(['deploy', 'absent', 'destroy', 'cancel-destroy', 'reschedule-destroy']);
    expect(trailCalls).toEqual(['get']);

    compute.set('acme-dev', 'running', ['http://node-1']);
    const [rerunning] = await step(() => readCluster(deps, actor, catalog.clusters[0]!));
    expect(rerunning.status).toBe('running');
    // Drift from an instance event: one read, one write; DEPLOY repairs without claiming a slot again.
    const [degraded, driftCalls] = await step(() => recordDrift({ ...deps, machineOwners: { lost: async () => 'instance i-1 is terminated' } }, actor, { cluster: 'acme-dev', deploymentId: rerunning.deployment_id ?? '', reason: 'instance i-1 is terminated' }));
    expect(degraded?.status).toBe('degraded');
    expect(driftCalls).toEqual(['get', 'transition']);
    const [repairing, repairCalls] = await step(() => deployCluster(deps, actor, 'acme-dev', {}));
    expect(repairing.status).toBe('deploying');
    // The repair is the trail's 11th event: the head's oldest five move to an archive item first (once every five).
    expect(repairCalls).toEqual(['get', 'createIfAbsent', 'transition']);
    compute.set('acme-dev', 'running', ['http://node-1']);
    expect((await readCluster(deps, actor, catalog.clusters[0]!)).status).toBe('running');
  });

  it('keeps the whole audit trail, in order, across the head and its archived chunks, one page after another', async () => {
    // Arrange: 23 transitions, more than the head keeps.
    const admin = { ...actor, caller: { ...olga, sub: 'github:alice', level: 'administrator' as const } };
    await deployCluster(deps, admin, 'acme-dev', {});
    for (let i = 0; i < 22; i++) await scheduleDestroy(deps, admin, 'acme-dev', new Date(clock.now().getTime() + 3_600_000 + i * 60_000));
    const head = await readCluster(deps, admin, catalog.clusters[0]!);

    // Act: read it 4 at a time.
    const versions: number[] = [];
    let nextToken: string | undefined;
    do {
      calls.length = 0;
      const page = await clusterTrail(deps, 'acme-dev', 4, nextToken);
      expect(calls.length).toBeLessThanOrEqual(2);
      versions.push(...page.items.map((e) => e.version));
      nextToken = page.nextToken;
    } while (nextToken);

    // Assert: every version from the head's down to 1, once each.
    expect(versions).toEqual(Array.from({ length: head.version }, (_, i) => head.version - i));
  });
});
