import { beforeEach, describe, it } from '@jest/globals';
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException, SchedulerClient } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
// The matchers extend the global expect (typed by @types/jest), so these files use that one.
import 'aws-sdk-client-mock-jest';
import { Ec2ClusterCompute } from '../../src/adapters/aws/ec2-compute.js';
import { EventBridgeScheduler } from '../../src/adapters/aws/event-scheduler.js';
import type { ClusterEntry } from '../../src/domain/catalog.js';
import type { Key, StoredItem } from '../../src/ports.js';

describe('EventBridge Scheduler adapter', () => {
  const client = mockClient(SchedulerClient);
  const scheduler = new EventBridgeScheduler(
    {
      groupName: 'provisioner',
      roleArn: 'arn:aws:iam::123456789012:role/scheduler',
      targets: { destroy: 'arn:aws:lambda:us-east-1:123456789012:function:destroy' },
    },
    (sdk) => new sdk.SchedulerClient({ region: 'us-east-1' }),
  );
  beforeEach(() => {
    client.reset();
  });

  it('creates a one-time UTC schedule that deletes itself, with no flexible window and a retry policy', async () => {
    client.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await scheduler.schedule({ name: 'destroy-acme-dev-a1b2c3', at: new Date('2026-11-23T18:30:00.123Z'), target: 'destroy', payload: { cluster: 'acme-dev', schedule_id: 'a1b2c3' } });
    expect(client).toHaveReceivedCommandWith(CreateScheduleCommand, {
      Name: 'destroy-acme-dev-a1b2c3',
      GroupName: 'provisioner',
      // 18:30:00.123 rounded up to the whole minute (the Scheduler may fire up to 60 s early).
      ScheduleExpression: 'at(2026-11-23T18:31:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: 'arn:aws:lambda:us-east-1:123456789012:function:destroy',
        RoleArn: 'arn:aws:iam::123456789012:role/scheduler',
        Input: JSON.stringify({ cluster: 'acme-dev', schedule_id: 'a1b2c3' }),
        RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 3600 },
      },
    });
  });

  it('counts an existing schedule as created and a missing one as deleted', async () => {
    client.on(CreateScheduleCommand).rejects(new ConflictException({ message: 'exists', $metadata: {} } as never));
    client.on(DeleteScheduleCommand).rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} } as never));
    await expect(scheduler.schedule({ name: 'x', at: new Date(), target: 'destroy', payload: { cluster: 'c', schedule_id: 's' } })).resolves.toBeUndefined();
    await expect(scheduler.cancel('x')).resolves.toBeUndefined();
    expect(client).toHaveReceivedCommandWith(DeleteScheduleCommand, { Name: 'x', GroupName: 'provisioner' });
  });

  it('refuses a target it was given no ARN for, and passes other errors on', async () => {
    await expect(scheduler.schedule({ name: 'x', at: new Date(), target: 'check-deadline', payload: { cluster: 'c', check_id: 'k' } })).rejects.toThrow(/no ARN for check-deadline/);
    client.on(DeleteScheduleCommand).rejects(new Error('throttled'));
    await expect(scheduler.cancel('x')).rejects.toThrow('throttled');
  });
});

describe('EC2 cluster backend', () => {
  const client = mockClient(EC2Client);
  /** This stack's value of the managed tag (its name); another stack in the account has its own. */
  const managedBy = 'Provisioner-prod';
  /** The table's instance map, in memory. */
  const mapped = new Map<string, StoredItem>();
  const at = (key: Key) => `${key.pk}/${key.sk}`;
  const table = {
    get: async (key: Key) => mapped.get(at(key)),
    put: async (item: Key & Record<string, unknown>) => void mapped.set(at(item), { ...item, version: 1 }),
    remove: async (key: Key) => mapped.delete(at(key)),
  };
  const compute = new Ec2ClusterCompute(managedBy, { table, makeClient: (sdk) => new sdk.EC2Client({ region: 'us-east-1' }) });
  const cluster: ClusterEntry = { name: 'acme-dev', visibility: 'private', backend: { kind: 'ec2', launch_template: 'lt-0abc12345678', instance_type: 'c7g.large' } };
  const deployment = { cluster, deploymentId: 'dep-1' };
  beforeEach(() => {
    client.reset();
    mapped.clear();
  });

  it('launches one instance per node from the launch template, idempotently, tagged with cluster and deployment', async () => {
    client.on(RunInstancesCommand).resolves({});
    await compute.deploy({ ...deployment, nodes: 3, version: 'v4.1.0' });
    const tagList = [
      { Key: 'provisioner:managed', Value: managedBy },
      { Key: 'provisioner:cluster', Value: 'acme-dev' },
      { Key: 'provisioner:deployment', Value: 'dep-1' },
      { Key: 'provisioner:version', Value: 'v4.1.0' },
    ];
    expect(client).toHaveReceivedCommandWith(RunInstancesCommand, {
      LaunchTemplate: { LaunchTemplateId: 'lt-0abc12345678' },
      InstanceType: 'c7g.large',
      MinCount: 3,
      MaxCount: 3,
      ClientToken: 'dep-1',
      TagSpecifications: [
        { ResourceType: 'instance', Tags: tagList },
        { ResourceType: 'volume', Tags: tagList },
      ],
    });
  });

  it('reads status from instances filtered on the tags, across pages', async () => {
    client
      .on(DescribeInstancesCommand)
      .resolvesOnce({ Reservations: [{ Instances: [{ InstanceId: 'i-1', State: { Name: 'running' }, PrivateIpAddress: '10.0.0.1' }] }], NextToken: 'p2' })
      .resolvesOnce({ Reservations: [{ Instances: [{ InstanceId: 'i-2', State: { Name: 'pending' } }] }] });
    expect(await compute.status(deployment)).toEqual({ state: 'pending', endpoints: ['10.0.0.1'] });
    expect(client).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [
        { Name: 'tag:provisioner:cluster', Values: ['acme-dev'] },
        { Name: 'tag:provisioner:deployment', Values: ['dep-1'] },
      ],
    });
    expect(client).toHaveReceivedCommandWith(DescribeInstancesCommand, { NextToken: 'p2' });
  });

  it('is running when every instance runs, and gone when all are terminated', async () => {
    client.on(DescribeInstancesCommand).resolvesOnce({ Reservations: [{ Instances: [{ InstanceId: 'i-1', State: { Name: 'running' } }] }] });
    expect((await compute.status(deployment)).state).toBe('running');
    client.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-1', State: { Name: 'terminated' } }] }] });
    expect((await compute.status(deployment)).state).toBe('gone');
  });

  it('terminates the deployment\'s instances that are not terminated yet, and nothing when none are left', async () => {
    client.on(DescribeInstancesCommand).resolvesOnce({
      Reservations: [{ Instances: [{ InstanceId: 'i-1', State: { Name: 'running' } }, { InstanceId: 'i-2', State: { Name: 'terminated' } }] }],
    });
    client.on(TerminateInstancesCommand).resolves({});
    await compute.destroy(deployment);
    expect(client).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: ['i-1'] });
    client.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    await compute.destroy(deployment);
    expect(client).toHaveReceivedCommandTimes(TerminateInstancesCommand, 1);
  });

  const tagged = (version: string) => {
    const tagList = [
      { Key: 'provisioner:managed', Value: managedBy },
      { Key: 'provisioner:cluster', Value: 'acme-dev' },
      { Key: 'provisioner:deployment', Value: 'dep-1' },
      { Key: 'provisioner:version', Value: version },
    ];
    return [
      { ResourceType: 'instance', Tags: tagList },
      { ResourceType: 'volume', Tags: tagList },
    ];
  };

  it('passes the version as the launch template version when the catalog says so ($Latest for latest)', async () => {
    client.on(RunInstancesCommand).resolves({});
    const byTemplate: ClusterEntry = { ...cluster, backend: { kind: 'ec2', launch_template: 'lt-0abc12345678', version: { kind: 'launch_template_version' } } };
    await compute.deploy({ cluster: byTemplate, deploymentId: 'dep-1', nodes: 2, version: '7' });
    await compute.deploy({ cluster: byTemplate, deploymentId: 'dep-1', nodes: 2, version: 'latest' });
    expect(client).toHaveReceivedNthSpecificCommandWith(1, RunInstancesCommand, {
      LaunchTemplate: { LaunchTemplateId: 'lt-0abc12345678', Version: '7' },
      MinCount: 2,
      MaxCount: 2,
      ClientToken: 'dep-1',
      TagSpecifications: tagged('7'),
    });
    expect(client).toHaveReceivedNthSpecificCommandWith(2, RunInstancesCommand, { LaunchTemplate: { LaunchTemplateId: 'lt-0abc12345678', Version: '$Latest' } });
  });

  it('passes the version as the AMI of an SSM parameter, or into the user data template, when the catalog says so', async () => {
    client.on(RunInstancesCommand).resolves({});
    const byAmi: ClusterEntry = { ...cluster, backend: { kind: 'ec2', launch_template: 'lt-0abc12345678', version: { kind: 'ami_parameter', name: '/sliderule/ami/{version}' } } };
    const byUserData: ClusterEntry = {
      ...cluster,
      backend: { kind: 'ec2', launch_template: 'lt-0abc12345678', version: { kind: 'user_data', template: '#!/bin/bash\nSLIDERULE_VERSION={version} /opt/sliderule/start\n' } },
    };
    await compute.deploy({ cluster: byAmi, deploymentId: 'dep-1', nodes: 1, version: 'v4.1.0' });
    await compute.deploy({ cluster: byUserData, deploymentId: 'dep-1', nodes: 1, version: 'v4.1.0' });
    expect(client).toHaveReceivedNthSpecificCommandWith(1, RunInstancesCommand, {
      LaunchTemplate: { LaunchTemplateId: 'lt-0abc12345678' },
      ImageId: 'resolve:ssm:/sliderule/ami/v4.1.0',
      MinCount: 1,
      MaxCount: 1,
      ClientToken: 'dep-1',
      TagSpecifications: tagged('v4.1.0'),
    });
    expect(client).toHaveReceivedNthSpecificCommandWith(2, RunInstancesCommand, {
      LaunchTemplate: { LaunchTemplateId: 'lt-0abc12345678' },
      UserData: Buffer.from('#!/bin/bash\nSLIDERULE_VERSION=v4.1.0 /opt/sliderule/start\n').toString('base64'),
      MinCount: 1,
      MaxCount: 1,
      ClientToken: 'dep-1',
      TagSpecifications: tagged('v4.1.0'),
    });
  });

  it('repairs a deployment: terminates its stopped instances and launches only the missing nodes, under the repair\'s own token', async () => {
    client.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            { InstanceId: 'i-1', State: { Name: 'running' } },
            { InstanceId: 'i-2', State: { Name: 'stopped' } },
            { InstanceId: 'i-3', State: { Name: 'terminated' } },
          ],
        },
      ],
    });
    client.on(TerminateInstancesCommand).resolves({});
    client.on(RunInstancesCommand).resolves({});

    await compute.deploy({ ...deployment, nodes: 3, version: 'v4.1.0', repair: 'a1b2c3' });

    expect(client).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: ['i-2'] });
    expect(client).toHaveReceivedCommandWith(RunInstancesCommand, {
      LaunchTemplate: { LaunchTemplateId: 'lt-0abc12345678' },
      InstanceType: 'c7g.large',
      MinCount: 2,
      MaxCount: 2,
      ClientToken: 'dep-1-a1b2c3',
      TagSpecifications: tagged('v4.1.0'),
    });
  });

  it('ignores instances shutting down (a repair\'s replaced ones) once others serve, and fails a deployment with a stopped one', async () => {
    client
      .on(DescribeInstancesCommand)
      .resolvesOnce({
        Reservations: [{ Instances: [{ InstanceId: 'i-1', State: { Name: 'running' }, PrivateIpAddress: '10.0.0.1' }, { InstanceId: 'i-2', State: { Name: 'shutting-down' }, PrivateIpAddress: '10.0.0.2' }] }],
      })
      .resolvesOnce({ Reservations: [{ Instances: [{ InstanceId: 'i-2', State: { Name: 'shutting-down' } }] }] })
      .resolvesOnce({ Reservations: [{ Instances: [{ InstanceId: 'i-1', State: { Name: 'running' } }, { InstanceId: 'i-2', State: { Name: 'stopped' } }] }] });
    expect(await compute.status(deployment)).toEqual({ state: 'running', endpoints: ['10.0.0.1'] });
    expect((await compute.status(deployment)).state).toBe('failed');
    expect(await compute.status(deployment)).toMatchObject({ state: 'failed', reason: 'instance i-2 is stopped' });
  });

  it("is degraded while fewer instances serve than a repair's nodes (a terminated one leaves no trace), running once they do", async () => {
    const instance = (id: string, state: 'running' | 'pending' | 'terminated') => ({ InstanceId: id, State: { Name: state }, PrivateIpAddress: `10.0.0.${id.slice(2)}` });
    client
      .on(DescribeInstancesCommand)
      .resolvesOnce({ Reservations: [{ Instances: [instance('i-1', 'running'), instance('i-2', 'terminated')] }] })
      .resolvesOnce({ Reservations: [{ Instances: [instance('i-1', 'running'), instance('i-2', 'terminated'), instance('i-3', 'running')] }] });
    expect(await compute.status({ ...deployment, nodes: 2 })).toEqual({ state: 'degraded', endpoints: ['10.0.0.1'], reason: '1 of 2 nodes serving' });
    expect(await compute.status({ ...deployment, nodes: 2 })).toEqual({ state: 'running', endpoints: ['10.0.0.1', '10.0.0.3'] });
  });

  it('confirms drift from what runs now: a stopped instance or fewer serving than the nodes; nothing once a repair replaced them', async () => {
    const instance = (id: string, state: 'running' | 'pending' | 'stopped' | 'terminated') => ({ InstanceId: id, State: { Name: state } });
    client
      .on(DescribeInstancesCommand)
      .resolvesOnce({ Reservations: [{ Instances: [instance('i-1', 'running'), instance('i-2', 'stopped')] }] })
      .resolvesOnce({ Reservations: [{ Instances: [instance('i-1', 'running'), instance('i-2', 'terminated')] }] })
      .resolvesOnce({ Reservations: [{ Instances: [instance('i-1', 'running'), instance('i-2', 'terminated'), instance('i-3', 'pending')] }] });
    expect(await compute.lost({ ...deployment, nodes: 2 })).toBe('instance i-2 is stopped');
    expect(await compute.lost({ ...deployment, nodes: 2 })).toBe('1 of 2 nodes serving');
    expect(await compute.lost({ ...deployment, nodes: 2 })).toBeUndefined();
    expect(client).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [
        { Name: 'tag:provisioner:cluster', Values: ['acme-dev'] },
        { Name: 'tag:provisioner:deployment', Values: ['dep-1'] },
      ],
    });
  });

  it("maps each instance RunInstances answers to its cluster and deployment, names their owner from the map alone, and forgets one", async () => {
    client.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0aaa1111' }, { InstanceId: 'i-0bbb2222' }] });
    await compute.deploy({ ...deployment, nodes: 2, version: 'v4.1.0' });
    client.resetHistory();

    expect(await compute.ownerOf('i-0aaa1111')).toEqual({ cluster: 'acme-dev', deploymentId: 'dep-1' });
    expect(await compute.ownerOf('i-0bbb2222')).toEqual({ cluster: 'acme-dev', deploymentId: 'dep-1' });
    // Any other instance of the region (another stack's, one launched by hand) is not in this stack's table.
    expect(await compute.ownerOf('i-0ccc3333')).toBeUndefined();
    await compute.forget('i-0aaa1111');
    expect(await compute.ownerOf('i-0aaa1111')).toBeUndefined();
    expect(client.calls()).toHaveLength(0);
  });

  describe('sweep', () => {
    const before = new Date('2026-11-23T12:00:00.000Z');
    const launchedAt = new Date('2026-11-23T11:00:00.000Z');
    const instance = (id: string, managed: string, deploymentId: string, launchTime = launchedAt) => ({
      InstanceId: id,
      State: { Name: 'running' as const },
      LaunchTime: launchTime,
      Tags: [{ Key: 'provisioner:managed', Value: managed }, { Key: 'provisioner:cluster', Value: 'acme-dev' }, { Key: 'provisioner:deployment', Value: deploymentId }],
    });
    /** Instances of this stack, of another stack in the same account and region, and of before stacks had names. */
    const fleet = [
      instance('i-stray', managedBy, 'dep-old'),
      instance('i-active', managedBy, 'dep-1'),
      instance('i-young', managedBy, 'dep-new', new Date('2026-11-23T12:00:01.000Z')),
      instance('i-staging', 'Provisioner-staging', 'dep-staging'),
      instance('i-legacy', 'true', 'dep-legacy'),
    ];

    /** As EC2 answers: only the instances of the fleet every filter matches. */
    const describeFleet = (input: { Filters?: { Name: string; Values: string[] }[] }) => ({
      Reservations: [
        {
          Instances: fleet.filter((i) =>
            (input.Filters ?? []).every(({ Name, Values }) => (Name === 'instance-state-name' ? Values.includes(i.State.Name) : Values.includes(i.Tags.find((t) => `tag:${t.Key}` === Name)?.Value ?? ''))),
          ),
        },
      ],
    });
    beforeEach(() => {
      client.on(DescribeInstancesCommand).callsFake(describeFleet);
      client.on(TerminateInstancesCommand).resolves({});
    });

    it("terminates only this stack's stray instances: it asks EC2 for its own tag value, and leaves another stack's alone", async () => {

      expect(await compute.sweep(new Set(['dep-1']), before)).toEqual([{ deploymentId: 'dep-old', cluster: 'acme-dev' }]);

      expect(client).toHaveReceivedCommandWith(DescribeInstancesCommand, {
        Filters: [
          { Name: 'tag:provisioner:managed', Values: [managedBy] },
          { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped', 'shutting-down'] },
        ],
      });
      expect(client).toHaveReceivedCommandTimes(TerminateInstancesCommand, 1);
      expect(client).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: ['i-stray'] });
      const terminated = client.commandCalls(TerminateInstancesCommand).flatMap((call) => call.args[0].input.InstanceIds ?? []);
      expect(terminated).not.toContain('i-staging');
      expect(terminated).not.toContain('i-legacy');
    });

    it("is another stack's janitor: the same fleet, its own value, only its own stray instance", async () => {
      const staging = new Ec2ClusterCompute('Provisioner-staging', { table, makeClient: (sdk) => new sdk.EC2Client({ region: 'us-east-1' }) });
      expect(await staging.sweep(new Set(), before)).toEqual([{ deploymentId: 'dep-staging', cluster: 'acme-dev' }]);
      expect(client.commandCalls(TerminateInstancesCommand).map((call) => call.args[0].input.InstanceIds)).toEqual([['i-staging']]);
    });
  });

  describe('every EC2 call goes through guarded', () => {
    const throttled = () => Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded', $fault: 'client', $metadata: { httpStatusCode: 503 } });
    const running = { Reservations: [{ Instances: [{ InstanceId: 'i-1', State: { Name: 'running' as const } }, { InstanceId: 'i-2', State: { Name: 'stopped' as const } }] }] };
    const failRun = () => client.on(RunInstancesCommand).rejects(throttled());
    const failDescribe = () => client.on(DescribeInstancesCommand).rejects(throttled());
    const failTerminate = () => client.on(TerminateInstancesCommand).rejects(throttled());
    /** Each adapter call, and the EC2 call in it made to fail (the calls before it answer). */
    const calls: [string, () => unknown, () => Promise<unknown>][] = [
      ['deploy: RunInstances', failRun, () => compute.deploy({ ...deployment, nodes: 1, version: 'v1' })],
      ['repair: DescribeInstances', failDescribe, () => compute.deploy({ ...deployment, nodes: 2, version: 'v1', repair: 'r1' })],
      ['repair: TerminateInstances', failTerminate, () => compute.deploy({ ...deployment, nodes: 2, version: 'v1', repair: 'r1' })],
      ['status: DescribeInstances', failDescribe, () => compute.status(deployment)],
      ['lost: DescribeInstances', failDescribe, () => compute.lost({ ...deployment, nodes: 2 })],
      ['destroy: DescribeInstances', failDescribe, () => compute.destroy(deployment)],
      ['destroy: TerminateInstances', failTerminate, () => compute.destroy(deployment)],
      ['sweep: DescribeInstances', failDescribe, () => compute.sweep(new Set(), new Date())],
    ];

    it.each(calls)('%s throttled answers 503 dependency_unavailable with Retry-After', async (_name, fail, call) => {
      client.on(DescribeInstancesCommand).resolves(running);
      client.on(TerminateInstancesCommand).resolves({});
      client.on(RunInstancesCommand).resolves({});
      fail();
      await expect(call()).rejects.toMatchObject({ code: 'dependency_unavailable', status: 503, headers: { 'retry-after': expect.any(String) } });
    });

    it('passes a refusal that is not transient on unchanged (the use case decides what it means)', async () => {
      const refusal = Object.assign(new Error('The launch template ID does not exist'), { name: 'InvalidLaunchTemplateId.NotFound', $fault: 'client', $metadata: { httpStatusCode: 400 } });
      client.on(RunInstancesCommand).rejects(refusal);
      await expect(compute.deploy({ ...deployment, nodes: 1, version: 'v1' })).rejects.toMatchObject({ name: 'InvalidLaunchTemplateId.NotFound' });
    });
  });

  it('refuses a cluster of another backend with 503 backend_unavailable', async () => {
    await expect(compute.deploy({ cluster: { ...cluster, backend: { kind: 'local' } }, deploymentId: 'd', nodes: 1, version: 'x' })).rejects.toMatchObject({ code: 'backend_unavailable' });
  });
});
