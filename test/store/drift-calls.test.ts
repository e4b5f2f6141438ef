import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import type { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import { Ec2ClusterCompute } from '../../src/adapters/aws/ec2-compute.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import { parseCatalog } from '../../src/domain/catalog.js';
import { defaultRules } from '../../src/domain/clusters.js';
import { instanceStateHandler } from '../../src/operations/clusters/instance-events.js';
import { deployCluster, readCluster } from '../../src/operations/clusters/use-cases.js';
import type { Store } from '../../src/ports.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';
import { RecordingScheduler } from '../support/recording-scheduler.js';
import { counting } from './counting.js';

const log = { debug() {}, info() {}, warn() {}, error() {} };
const olga = { caller: { sub: 'github:olga', login: 'olga', level: 'org_member' as const, orgs: ['acme'] }, requestId: 'r', log };
const catalog = parseCatalog(
  JSON.stringify({
    organization: 'acme',
    admins: ['alice'],
    limits: { org_member: { max_nodes: 4, max_ttl: '12h', max_deployments: 2 } },
    clusters: [{ name: 'acme-dev', visibility: 'private', backend: { kind: 'ec2', launch_template: 'lt-0abc12345678' } }],
  }),
  'test',
);
const acmeDev = catalog.clusters[0]!;

const stateChange = (instance: string, state: string) => ({ source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: { 'instance-id': instance, state } });

describe('drift events and reads of a deploying cluster, counted: no EC2 read where the table knows', () => {
  const ec2 = mockClient(EC2Client);
  const clock = new ManualClock();
  let dynamo: LocalDynamo;
  let dynamoStore: DynamoStore;
  let calls: string[];
  let store: Store;
  let compute: Ec2ClusterCompute;
  let deps: Parameters<typeof deployCluster>[0];
  let handler: ReturnType<typeof instanceStateHandler>;
  /** The EC2 calls made since the last `ec2.resetHistory()`. */
  const ec2Calls = () => ec2.calls().map((call) => (call.args[0] as object).constructor.name);

  // A table per test: each starts from an absent cluster and an empty map.
  beforeEach(async () => {
    ({ dynamo, store: dynamoStore } = await startTestStore(clock));
    ec2.reset();
    ({ store, calls } = counting(dynamoStore));
    compute = new Ec2ClusterCompute('Provisioner', { table: store, clock, statusCacheMs: 5_000, makeClient: (sdk) => new sdk.EC2Client({ region: 'us-east-1' }) });
    deps = { store, clock, catalog, scheduler: new RecordingScheduler(), compute, clusterRules: defaultRules };
    handler = instanceStateHandler({ store: () => store, clock: () => clock, catalog: () => catalog, scheduler: () => deps.scheduler, machineOwners: () => compute });
  });
  afterEach(() => dynamo.close());

  it("an event of an instance the table does not map: one GetItem, no EC2 call", async () => {
    const outcome = await handler(stateChange('i-0ddd4444', 'terminated'));

    expect(outcome).toEqual({ ignored: 'i-0ddd4444 is not a cluster instance' });
    expect(calls).toEqual(['get']);
    expect(ec2Calls()).toEqual([]);
  });

  it('a launch maps its instances from RunInstances\' answer; their events read the map and the cluster, never EC2, unless the cluster runs that deployment', async () => {
    // Arrange: DEPLOY launches two instances.
    ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0aaa1111' }, { InstanceId: 'i-0bbb2222' }] });
    expect((await deployCluster(deps, olga, 'acme-dev', { nodes: 2 })).status).toBe('deploying');
    expect(calls.filter((call) => call === 'put')).toHaveLength(2);

    // Act: one of them stops while the cluster is still deploying.
    calls.length = 0;
    ec2.resetHistory();
    const early = await handler(stateChange('i-0aaa1111', 'stopped'));

    // Assert: the map and the cluster's head, nothing more.
    expect(early).toEqual({ cluster: 'acme-dev', status: 'deploying' });
    expect(calls).toEqual(['get', 'get']);
    expect(ec2Calls()).toEqual([]);

    // Arrange: now it runs that deployment.
    const instances = (name: 'running' | 'stopped') => ({
      Reservations: [{ Instances: [{ InstanceId: 'i-0aaa1111', State: { Name: name } }, { InstanceId: 'i-0bbb2222', State: { Name: 'running' as const } }] }],
    });
    ec2.on(DescribeInstancesCommand).resolves(instances('running'));
    expect((await readCluster(deps, olga, acmeDev)).status).toBe('running');
    ec2.on(DescribeInstancesCommand).resolves(instances('stopped'));

    // Act: the stop of a running deployment's instance.
    calls.length = 0;
    ec2.resetHistory();
    const degraded = await handler(stateChange('i-0aaa1111', 'stopped'));

    // Assert: confirmed by one DescribeInstances (events come late), then one write.
    expect(degraded).toEqual({ cluster: 'acme-dev', status: 'degraded' });
    expect(calls).toEqual(['get', 'get', 'transition']);
    expect(ec2Calls()).toEqual(['DescribeInstancesCommand']);

    // Act: terminated, the instance's last event, also takes it off the map.
    calls.length = 0;
    ec2.resetHistory();
    ec2.on(TerminateInstancesCommand).resolves({});
    expect(await handler(stateChange('i-0aaa1111', 'terminated'))).toEqual({ cluster: 'acme-dev', status: 'degraded' });
    expect(calls).toEqual(['get', 'get', 'remove']);
    expect(ec2Calls()).toEqual([]);
    calls.length = 0;
    expect(await handler(stateChange('i-0aaa1111', 'terminated'))).toEqual({ ignored: 'i-0aaa1111 is not a cluster instance' });
    expect(calls).toEqual(['get']);
  });

  it('repeated reads of a deploying cluster within a few seconds ask EC2 once; later ones ask again', async () => {
    // Arrange: a deploy whose instances are still pending.
    ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0ccc3333' }] });
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-0ccc3333', State: { Name: 'pending' } }] }] });
    expect((await deployCluster(deps, olga, 'acme-dev', { nodes: 1 })).status).toBe('deploying');
    ec2.resetHistory();

    // Act: ten reads in the same second, then one 5 s later.
    for (let i = 0; i < 10; i++) expect((await readCluster(deps, olga, acmeDev)).status).toBe('deploying');
    const burst = ec2Calls();
    clock.advance(5_000);
    await readCluster(deps, olga, acmeDev);

    // Assert
    expect(burst).toEqual(['DescribeInstancesCommand']);
    expect(ec2Calls()).toEqual(['DescribeInstancesCommand', 'DescribeInstancesCommand']);
  });
});
