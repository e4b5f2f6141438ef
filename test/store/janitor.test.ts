import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import { parseCatalog } from '../../src/domain/catalog.js';
import { defaultRules } from '../../src/domain/clusters.js';
import { systemCaller } from '../../src/domain/levels.js';
import { clusterTrail, deployCluster, destroyCluster, readCluster, sweepClusters } from '../../src/operations/clusters/use-cases.js';
import type { Deployment, ScheduledCall, Scheduler } from '../../src/ports.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';
import { FakeCompute } from '../support/fake-compute.js';

/** A backend whose launches wait until the test lets them through: the race of issue "no leaks". */
class SlowLaunches extends FakeCompute {
  private release?: () => void;
  readonly held = new Promise<void>((resolve) => (this.release = resolve));
  override async deploy(d: Deployment & { nodes: number; version: string }): Promise<void> {
    await this.held;
    await super.deploy(d);
  }
  letThrough(): void {
    this.release?.();
  }
}

const scheduler: Scheduler = { async schedule(_call: ScheduledCall) {}, async cancel() {} };
const log = { debug() {}, info() {}, warn() {}, error() {} };
const catalog = parseCatalog(JSON.stringify({ organization: 'acme', admins: ['alice'], clusters: [{ name: 'acme-dev', visibility: 'private', backend: { kind: 'local' } }] }), 'test');
const admin = { caller: { sub: 'github:alice', login: 'alice', level: 'administrator' as const, orgs: ['acme'] }, requestId: 'r', log };

describe('the janitor', () => {
  const clock = new ManualClock();
  let dynamo: LocalDynamo;
  let store: DynamoStore;
  beforeAll(async () => {
    ({ dynamo, store } = await startTestStore(clock));
  });
  afterAll(() => dynamo.close());

  it('removes what a launch left behind after a destroy landed before it, and records it on the trail', async () => {
    // Arrange: a deploy whose launch is held back, and a destroy that lands meanwhile.
    const compute = new SlowLaunches();
    const deps = { store, clock, catalog, scheduler, compute, clusterRules: defaultRules };
    const deploying = deployCluster(deps, admin, 'acme-dev', { nodes: 3 });
    while ((await readCluster(deps, admin, catalog.clusters[0]!)).status !== 'deploying') await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await destroyCluster(deps, admin, 'acme-dev')).status).toBe('absent'); // nothing launched yet: gone
    compute.letThrough();
    await deploying;
    const leaked = compute.latest('acme-dev');
    expect((await compute.status({ cluster: catalog.clusters[0]!, deploymentId: leaked })).state).toBe('pending'); // running, known to no record
    clock.advance(60_000);

    // Act
    const result = await sweepClusters(deps, { ...admin, caller: systemCaller('scheduler') });

    // Assert
    expect(result.swept).toEqual([{ cluster: 'acme-dev', deploymentId: leaked }]);
    expect((await compute.status({ cluster: catalog.clusters[0]!, deploymentId: leaked })).state).toBe('gone');
    const trail = await clusterTrail(deps, 'acme-dev', 1);
    expect(trail.items[0]).toMatchObject({ action: 'swept', actor: 'scheduler', details: { deployment_id: leaked } });
    expect((await readCluster(deps, admin, catalog.clusters[0]!)).status).toBe('absent');
  });

  it('never sweeps the deployment of a deploying or running cluster', async () => {
    const compute = new FakeCompute();
    const deps = { store, clock, catalog, scheduler, compute, clusterRules: defaultRules };
    await deployCluster(deps, admin, 'acme-dev', { nodes: 1 });
    compute.set('acme-dev', 'running');
    const result = await sweepClusters(deps, { ...admin, caller: systemCaller('scheduler') });
    expect(result.swept).toEqual([]);
    expect((await readCluster(deps, admin, catalog.clusters[0]!)).status).toBe('running');
  });

  it('reads a large catalog\'s clusters several at a time: a store round trip each, but not one after another', async () => {
    // Arrange: 200 clusters, a store whose reads take a while and are counted in flight.
    const many = parseCatalog(JSON.stringify({ organization: 'acme', admins: ['alice'], clusters: Array.from({ length: 200 }, (_, i) => ({ name: `c${i}`, visibility: 'public', backend: { kind: 'local' } })) }), 'test');
    let inFlight = 0;
    let most = 0;
    let gets = 0;
    const slowStore = Object.assign(Object.create(store) as DynamoStore, {
      get: async (key: Parameters<DynamoStore['get']>[0]) => {
        gets++;
        most = Math.max(most, ++inFlight);
        try {
          await new Promise((resolve) => setTimeout(resolve, 5));
          return await store.get(key);
        } finally {
          inFlight--;
        }
      },
    });

    // Act
    const result = await sweepClusters({ store: slowStore, clock, catalog: many, scheduler, compute: new FakeCompute(), clusterRules: defaultRules }, { ...admin, caller: systemCaller('scheduler') });

    // Assert: every cluster read once, up to 16 at a time.
    expect(result.examined).toBe(200);
    expect(gets).toBe(200);
    expect(most).toBe(16);
  });
});

