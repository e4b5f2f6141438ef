import { beforeEach, describe, it } from '@jest/globals';
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException, SchedulerClient } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
// The matchers extend the global expect (typed by @types/jest), so these files use that one.
import 'aws-sdk-client-mock-jest';
import { Ec2ClusterCompute } from '../../src/adapters/aws/ec2-compute.js';
import { EventBridgeScheduler } from '../../src/adapters/aws/event-scheduler.js';
import type { ClusterEntry } from '../../src/domain/catalog.js';

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
      ScheduleExpression: 'at(2026-11-23T18:30:00)',
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
  const compute = new Ec2ClusterCompute((sdk) => new sdk.EC2Client({ region: 'us-east-1' }));
  const cluster: ClusterEntry = { name: 'acme-dev', visibility: 'private', backend: { kind: 'ec2', launch_template: 'lt-0abc12345678', instance_type: 'c7g.large' } };
  const deployment = { cluster, deploymentId: 'dep-1' };
  beforeEach(() => {
    client.reset();
  });

  it('launches one instance per node from the launch template, idempotently, tagged with cluster and deployment', async () => {
    client.on(RunInstancesCommand).resolves({});
    await compute.deploy({ ...deployment, nodes: 3, version: 'v4.1.0' });
    const tagList = [
      { Key: 'provisioner:managed', Value: 'true' },
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

  it('refuses a cluster of another backend with 503 backend_unavailable', async () => {
    await expect(compute.deploy({ cluster: { ...cluster, backend: { kind: 'local' } }, deploymentId: 'd', nodes: 1, version: 'x' })).rejects.toMatchObject({ code: 'backend_unavailable' });
  });
});
