import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  EC2Client,
  type Instance,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import { Ec2ClusterCompute, tags } from '../../src/adapters/aws/ec2-compute.js';
import { ensureTable } from '../../src/adapters/local/dynalite.js';
import { type ClusterEntry, parseCatalog } from '../../src/domain/catalog.js';
import { defaultRules } from '../../src/domain/clusters.js';
import { systemCaller } from '../../src/domain/levels.js';
import { clusterTrail, deployCluster, readCluster, sweepClusters } from '../../src/operations/clusters/use-cases.js';
import { type Moto, startMoto } from '../support/moto.js';
import { ManualClock } from '../support/dynamo.js';
import { RecordingScheduler } from '../support/recording-scheduler.js';

// moto ignores RunInstances' ClientToken (AWS answers a retry with the first call's instances): the token a retry reuses is asserted in test/adapters/aws-clusters.test.ts.
/** This stack's value of the managed tag; `other` is a second stack in the same account and region. */
const stack = 'Provisioner-moto';
const log = { debug() {}, info() {}, warn() {}, error() {} };

describe('the EC2 cluster backend against moto: real RunInstances, tags, states, the instance map and the janitor', () => {
  let moto: Moto;
  let ec2: EC2Client;
  let compute: Ec2ClusterCompute;
  let other: Ec2ClusterCompute;
  let cluster: ClusterEntry;
  let ami: string;
  let launchTemplate: string;

  beforeAll(async () => {
    moto = await startMoto();
    ec2 = new EC2Client(moto.clientConfig);
    // One of moto's stock images (a reset keeps them).
    ami = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'], MaxResults: 5 }))).Images?.[0]?.ImageId ?? '';
  });
  afterAll(async () => {
    ec2.destroy();
    await moto.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    const dynamo = new DynamoDBClient(moto.clientConfig);
    await ensureTable(dynamo, 'provisioner-moto');
    const table = new DynamoStore(dynamo, 'provisioner-moto', new ManualClock());
    const makeClient = () => ec2;
    compute = new Ec2ClusterCompute(stack, { table, makeClient });
    other = new Ec2ClusterCompute('Provisioner-other', { table, makeClient });
    const template = await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'sliderule', LaunchTemplateData: { ImageId: ami, InstanceType: 't3.micro' } }));
    launchTemplate = template.LaunchTemplate?.LaunchTemplateId ?? '';
    cluster = { name: 'acme-dev', visibility: 'private', backend: { kind: 'ec2', launch_template: launchTemplate } };
  });

  /** Every instance carrying the deployment's tag, as EC2 reports it now. */
  async function instancesOf(deploymentId: string): Promise<Instance[]> {
    const page = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: `tag:${tags.deployment}`, Values: [deploymentId] }] }));
    return (page.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  }
  const idsOf = (instances: Instance[]) => instances.map((i) => i.InstanceId ?? '');
  const tagsOf = (list: { Key?: string; Value?: string }[] | undefined) => Object.fromEntries((list ?? []).map((t) => [t.Key, t.Value]));

  it('launches one instance per node from the launch template, instances and volumes tagged with the stack, cluster, deployment and version, and maps each', async () => {
    await compute.deploy({ cluster, deploymentId: 'dep-1', nodes: 2, version: 'v4.1.0' });

    const launched = await instancesOf('dep-1');
    expect(launched).toHaveLength(2);
    const expectedTags = { [tags.managed]: stack, [tags.cluster]: 'acme-dev', [tags.deployment]: 'dep-1', 'provisioner:version': 'v4.1.0' };
    for (const instance of launched) {
      expect(instance).toMatchObject({ ImageId: ami, InstanceType: 't3.micro' });
      // EC2 adds its own aws:ec2launchtemplate:* tags beside ours.
      expect(tagsOf(instance.Tags)).toMatchObject(expectedTags);
      expect(await compute.ownerOf(instance.InstanceId ?? '')).toEqual({ cluster: 'acme-dev', deploymentId: 'dep-1' });
    }
    const volumes = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: `tag:${tags.deployment}`, Values: ['dep-1'] }] }));
    expect(volumes.Volumes?.map((v) => tagsOf(v.Tags))).toEqual([expectedTags, expectedTags]);
    // Another stack's backend has no instance of this one in its map (nor any other instance of the region).
    expect(await compute.ownerOf('i-0123456789abcdef0')).toBeUndefined();
  });

  it('reports running with the private addresses, a stopped instance as failed and lost, started again as running, and gone once destroyed', async () => {
    const deployment = { cluster, deploymentId: 'dep-1' };
    await compute.deploy({ ...deployment, nodes: 2, version: 'v1' });
    const [first, second] = await instancesOf('dep-1');

    const running = await compute.status(deployment);
    expect(running).toEqual({ state: 'running', endpoints: expect.arrayContaining([first?.PrivateIpAddress, second?.PrivateIpAddress]) });
    expect(await compute.lost({ ...deployment, nodes: 2 })).toBeUndefined();

    // Someone stops a node outside Provisioner.
    await ec2.send(new StopInstancesCommand({ InstanceIds: [first?.InstanceId ?? ''] }));
    expect(await compute.status(deployment)).toMatchObject({ state: 'failed', reason: `instance ${first?.InstanceId} is stopped` });
    expect(await compute.lost({ ...deployment, nodes: 2 })).toBe(`instance ${first?.InstanceId} is stopped`);

    await ec2.send(new StartInstancesCommand({ InstanceIds: [first?.InstanceId ?? ''] }));
    expect((await compute.status(deployment)).state).toBe('running');

    await compute.destroy(deployment);
    expect((await instancesOf('dep-1')).map((i) => i.State?.Name)).toEqual(['terminated', 'terminated']);
    expect(await compute.status(deployment)).toEqual({ state: 'gone', endpoints: [] });
    // Destroying again is a no-op.
    await expect(compute.destroy(deployment)).resolves.toBeUndefined();
  });

  it('repairs: terminates the stopped instance and launches only the missing node, which the map names too', async () => {
    const deployment = { cluster, deploymentId: 'dep-1' };
    await compute.deploy({ ...deployment, nodes: 2, version: 'v1' });
    const [stopped, kept] = await instancesOf('dep-1');
    await ec2.send(new StopInstancesCommand({ InstanceIds: [stopped?.InstanceId ?? ''] }));

    await compute.deploy({ ...deployment, nodes: 2, version: 'v1', repair: 'r1' });

    const after = await instancesOf('dep-1');
    const state = (id: string | undefined) => after.find((i) => i.InstanceId === id)?.State?.Name;
    expect(state(stopped?.InstanceId)).toBe('terminated');
    expect(state(kept?.InstanceId)).toBe('running');
    const added = after.filter((i) => i.InstanceId !== stopped?.InstanceId && i.InstanceId !== kept?.InstanceId);
    expect(added).toHaveLength(1);
    expect(await compute.ownerOf(added[0]?.InstanceId ?? '')).toEqual({ cluster: 'acme-dev', deploymentId: 'dep-1' });
    expect((await compute.status({ ...deployment, nodes: 2 })).state).toBe('running');
  });

  it('passes the version as the launch template version, or into the user data', async () => {
    await ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: launchTemplate, LaunchTemplateData: { ImageId: ami, InstanceType: 't3.small' } }));
    const byTemplate: ClusterEntry = { ...cluster, backend: { kind: 'ec2', launch_template: launchTemplate, version: { kind: 'launch_template_version' } } };
    const byUserData: ClusterEntry = { ...cluster, backend: { kind: 'ec2', launch_template: launchTemplate, version: { kind: 'user_data', template: '#!/bin/bash\nVERSION={version} /opt/start\n' } } };

    await compute.deploy({ cluster: byTemplate, deploymentId: 'dep-v2', nodes: 1, version: '2' });
    await compute.deploy({ cluster: byTemplate, deploymentId: 'dep-latest', nodes: 1, version: 'latest' });
    await compute.deploy({ cluster: byUserData, deploymentId: 'dep-ud', nodes: 1, version: 'v4.1.0' });

    expect((await instancesOf('dep-v2'))[0]?.InstanceType).toBe('t3.small');
    expect((await instancesOf('dep-latest'))[0]?.InstanceType).toBe('t3.small');
    const [userDataInstance] = idsOf(await instancesOf('dep-ud'));
    const attribute = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: userDataInstance, Attribute: 'userData' }));
    expect(Buffer.from(attribute.UserData?.Value ?? '', 'base64').toString('utf8')).toBe('#!/bin/bash\nVERSION=v4.1.0 /opt/start\n');
  });

  it("the janitor terminates only this stack's instances of inactive deployments launched before the sweep began", async () => {
    await compute.deploy({ cluster, deploymentId: 'dep-active', nodes: 1, version: 'v1' });
    await compute.deploy({ cluster, deploymentId: 'dep-stray', nodes: 2, version: 'v1' });
    await other.deploy({ cluster, deploymentId: 'dep-other-stack', nodes: 1, version: 'v1' });

    // An instance launched after the sweep began may be a deploy still on its way: left alone.
    expect(await compute.sweep(new Set(['dep-active']), new Date(Date.now() - 3_600_000))).toEqual([]);
    const swept = await compute.sweep(new Set(['dep-active']), new Date(Date.now() + 60_000));

    expect(swept).toEqual([{ deploymentId: 'dep-stray', cluster: 'acme-dev' }]);
    expect((await instancesOf('dep-stray')).map((i) => i.State?.Name)).toEqual(['terminated', 'terminated']);
    expect((await instancesOf('dep-active')).map((i) => i.State?.Name)).toEqual(['running']);
    expect((await instancesOf('dep-other-stack')).map((i) => i.State?.Name)).toEqual(['running']);
    // A second sweep finds nothing left to do.
    expect(await compute.sweep(new Set(['dep-active']), new Date(Date.now() + 60_000))).toEqual([]);
  });

  it("the janitor's run, on moto's DynamoDB and EC2: a running cluster keeps its instances, an untracked launch is terminated and put on the cluster's trail", async () => {
    // Arrange: acme-dev deployed and running through the use cases; a launch no record tracks (a crash between launch and record).
    const catalog = parseCatalog(
      JSON.stringify({ organization: 'acme', admins: ['alice'], limits: { org_member: { max_nodes: 4, max_ttl: '12h', max_deployments: 1 } }, clusters: [cluster] }),
      'test',
    );
    // moto stamps LaunchTime with the real time: the janitor's clock runs a minute ahead of it.
    const clock = new ManualClock(new Date(Date.now() + 60_000));
    const dynamo = new DynamoDBClient(moto.clientConfig);
    const store = new DynamoStore(dynamo, 'provisioner-moto', clock);
    const backend = new Ec2ClusterCompute(stack, { table: store, clock, makeClient: () => ec2 });
    const deps = { store, clock, catalog, scheduler: new RecordingScheduler(), compute: backend, clusterRules: defaultRules };
    const olga = { caller: { sub: 'github:olga', login: 'olga', level: 'org_member' as const, orgs: ['acme'] }, requestId: 'r', log };
    const deployed = await deployCluster(deps, olga, 'acme-dev', { nodes: 2 });
    expect((await readCluster(deps, olga, catalog.clusters[0]!)).status).toBe('running');
    await backend.deploy({ cluster, deploymentId: 'dep-untracked', nodes: 1, version: 'v1' });

    // Act
    const swept = await sweepClusters(deps, { caller: systemCaller('scheduler'), requestId: 'janitor', log });

    // Assert
    expect(swept).toEqual({ examined: 1, swept: [{ deploymentId: 'dep-untracked', cluster: 'acme-dev' }] });
    expect((await instancesOf('dep-untracked')).map((i) => i.State?.Name)).toEqual(['terminated']);
    expect((await instancesOf(deployed.deployment_id ?? '')).map((i) => i.State?.Name)).toEqual(['running', 'running']);
    expect((await clusterTrail(deps, 'acme-dev', 1)).items[0]).toMatchObject({ action: 'swept', details: { deployment_id: 'dep-untracked' } });
    dynamo.destroy();
  });
});
