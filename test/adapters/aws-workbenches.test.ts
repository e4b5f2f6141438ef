import { beforeEach, describe, it } from '@jest/globals';
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand, StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeTasksCommand, ECSClient, ListContainerInstancesCommand, ListTasksCommand, RunTaskCommand, StartTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
// The matchers extend the global expect (typed by @types/jest), so these files use that one.
import 'aws-sdk-client-mock-jest';
import { EcsWorkbenchCompute, taskStateOf } from '../../src/adapters/aws/ecs-workbenches.js';
import { parseCatalog } from '../../src/domain/catalog.js';
import { awsError } from '../support/fake-aws.js';
import type { WorkbenchTask } from '../../src/ports.js';

const cluster = 'arn:aws:ecs:us-east-1:123456789012:cluster/workbenches';
const catalog = parseCatalog(
  JSON.stringify({
    organization: 'acme',
    clusters: [],
    workbenches: {
      providers: [{ name: 'cpu-small', max_cpu: 2048, max_memory: 8192, cost: 1 }],
      endpoint: 'https://cloud.example.com/project/{owner}/{id}',
      ecs: {
        cluster,
        task_definition: 'workbench',
        container: 'ide',
        task_roles: ['arn:aws:iam::123456789012:role/workbench-task'],
        subnets: ['subnet-0a1b2c'],
        security_groups: ['sg-0a1b2c'],
        data_root: '/mnt/efs/workbenches',
        dedicated_launch_template: 'lt-0123456789abcdef0',
      },
    },
  }),
  'test',
);
const task: WorkbenchTask = {
  workbenchId: 'wb-0123456789ab',
  runId: 'r1',
  name: 'AutoCyber',
  owner: 'github:olga',
  ownerLogin: 'olga',
  cpu: 1024,
  memory: 2048,
  gpu: 0,
  capacityProvider: 'cpu-small',
  dedicatedInstance: false,
};
const taskArn = `${cluster.replace(':cluster/', ':task/')}/abc`;

describe('ECS workbench backend', () => {
  const ecs = mockClient(ECSClient);
  const ec2 = mockClient(EC2Client);
  const compute = new EcsWorkbenchCompute(
    catalog.workbenches,
    'Provisioner-prod',
    (sdk) => new sdk.ECSClient({ region: 'us-east-1' }),
    (sdk) => new sdk.EC2Client({ region: 'us-east-1' }),
  );
  beforeEach(() => {
    ecs.reset();
    ec2.reset();
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn }], failures: [] });
  });

  it('runs the catalog\'s task definition on the chosen capacity provider with the size, name, owner and tags', async () => {
    // The ARN RunTask returns is the start's answer, to be recorded; RunTask is idempotent by its client token (the run id).
    expect(await compute.start({ ...task, gpu: 1 })).toEqual({ taskArn });
    expect(ecs).toHaveReceivedCommandTimes(ListTasksCommand, 0);
    expect(ecs).toHaveReceivedCommandTimes(RunTaskCommand, 1);
    expect(ecs.commandCalls(RunTaskCommand)[0]?.args[0].input).toEqual({
      cluster,
      taskDefinition: 'workbench',
      count: 1,
      startedBy: 'r1',
      clientToken: 'r1',
      capacityProviderStrategy: [{ capacityProvider: 'cpu-small', weight: 1 }],
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0a1b2c'], securityGroups: ['sg-0a1b2c'], assignPublicIp: 'DISABLED' } },
      overrides: {
        cpu: '1024',
        memory: '2048',
        containerOverrides: [
          {
            name: 'ide',
            cpu: 1024,
            memory: 2048,
            resourceRequirements: [{ type: 'GPU', value: '1' }],
            environment: [
              { name: 'WORKBENCH_ID', value: 'wb-0123456789ab' },
              { name: 'WORKBENCH_NAME', value: 'AutoCyber' },
              { name: 'WORKBENCH_OWNER', value: 'olga' },
              { name: 'WORKBENCH_DATA', value: '/mnt/efs/workbenches/wb-0123456789ab' },
            ],
          },
        ],
      },
      tags: [
        { key: 'provisioner:managed', value: 'Provisioner-prod' },
        { key: 'provisioner:workbench', value: 'wb-0123456789ab' },
        { key: 'provisioner:owner', value: 'olga' },
      ],
      enableECSManagedTags: true,
    });
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 0);
  });

  it('starts nothing when the run\'s task is recorded, and fails on RunTask failures', async () => {
    expect(await compute.start({ ...task, taskArn })).toEqual({ taskArn });
    expect(ecs).toHaveReceivedCommandTimes(RunTaskCommand, 0);
    ecs.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: 'RESOURCE:MEMORY' }] });
    await expect(compute.start(task)).rejects.toThrow(/RESOURCE:MEMORY/);
  });

  it('answers 503 dependency_unavailable when ECS or EC2 throttle or fail', async () => {
    ecs.on(RunTaskCommand).rejects(awsError('ThrottlingException', 400));
    await expect(compute.start(task)).rejects.toMatchObject({ code: 'dependency_unavailable', headers: { 'retry-after': '5' } });
    ecs.on(DescribeTasksCommand).rejects(awsError('ServerException', 500));
    await expect(compute.status({ ...task, taskArn })).rejects.toMatchObject({ code: 'dependency_unavailable' });
    ecs.on(ListTasksCommand).rejects(awsError('ThrottlingException', 400));
    await expect(compute.stop(task)).rejects.toMatchObject({ code: 'dependency_unavailable' });
    ec2.on(DescribeInstancesCommand).rejects(awsError('RequestLimitExceeded', 503));
    await expect(compute.start({ ...task, dedicatedInstance: true })).rejects.toMatchObject({ code: 'dependency_unavailable' });
  });

  it.each([
    ['PROVISIONING', 'provisioning'],
    ['PENDING', 'pending'],
    ['ACTIVATING', 'pending'],
    ['RUNNING', 'running'],
    ['DEACTIVATING', 'stopping'],
    ['STOPPING', 'stopping'],
    ['DEPROVISIONING', 'stopping'],
    ['STOPPED', 'stopped'],
  ])('maps ECS %s to %s, describing the recorded task', async (lastStatus, state) => {
    expect(taskStateOf(lastStatus)).toBe(state);
    ecs.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn, lastStatus, stoppedReason: 'Essential container in task exited', createdAt: new Date() }] });
    const status = await compute.status({ ...task, taskArn });
    expect(status).toEqual({
      state,
      ...(state === 'stopped' && { reason: 'Essential container in task exited' }),
      endpoint: 'https://cloud.example.com/project/olga/wb-0123456789ab',
    });
    expect(ecs).toHaveReceivedCommandWith(DescribeTasksCommand, { cluster, tasks: [taskArn] });
    expect(ecs).toHaveReceivedCommandTimes(ListTasksCommand, 0);
  });

  it('without a recorded task, lists the run\'s tasks by startedBy alone (ECS allows no other filter with it)', async () => {
    expect(await compute.status(task)).toEqual({ state: 'gone' });
    expect(ecs.commandCalls(ListTasksCommand).map((c) => c.args[0].input)).toEqual([{ cluster, startedBy: 'r1' }]);
    expect(ecs).toHaveReceivedCommandTimes(DescribeTasksCommand, 0);
    ecs.on(ListTasksCommand).resolves({ taskArns: [taskArn] });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn, lastStatus: 'RUNNING' }] });
    expect((await compute.status(task)).state).toBe('running');
  });

  it('stops the run\'s recorded task, and any its startedBy lists, in the workbench cluster', async () => {
    await compute.stop({ ...task, taskArn });
    expect(ecs).toHaveReceivedCommandWith(StopTaskCommand, { cluster, task: taskArn, reason: 'Stopped by Provisioner' });
    ecs.on(ListTasksCommand).resolves({ taskArns: [`${taskArn}2`] });
    await compute.stop({ ...task, taskArn });
    expect(ecs.commandCalls(StopTaskCommand).map((c) => c.args[0].input.task)).toEqual([taskArn, taskArn, `${taskArn}2`]);
  });

  it('on delete stops the task and removes the data with a one-off task of the same family', async () => {
    ecs.on(ListTasksCommand, { cluster, startedBy: 'r1' }).resolves({ taskArns: [taskArn] });
    await compute.remove(task);
    expect(ecs).toHaveReceivedCommandWith(StopTaskCommand, { cluster, task: taskArn, reason: 'Deleted by Provisioner' });
    const cleanup = ecs.commandCalls(RunTaskCommand)[0]?.args[0].input;
    expect(cleanup).toMatchObject({ taskDefinition: 'workbench', startedBy: 'cleanup-wb-0123456789ab', clientToken: 'cleanup-wb-0123456789ab' });
    expect(cleanup?.overrides?.containerOverrides?.[0]).toMatchObject({
      name: 'ide',
      command: ['sh', '-c', 'rm -rf -- "$WORKBENCH_DATA"'],
      environment: expect.arrayContaining([{ name: 'WORKBENCH_DATA', value: '/mnt/efs/workbenches/wb-0123456789ab' }]),
    });
  });

  describe('dedicated instance', () => {
    const dedicated = { ...task, dedicatedInstance: true };
    const instance = (state: string) => ({ Reservations: [{ Instances: [{ InstanceId: 'i-0abc', State: { Name: state as never } }] }] });

    it('launches it tagged the first time, under a client token of this run, and waits for it to register', async () => {
      ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
      ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0new' }] });
      ecs.on(ListContainerInstancesCommand).resolves({ containerInstanceArns: [] });
      expect(await compute.start(dedicated)).toEqual({ pendingInstance: 'i-0new' });
      const tags = [
        { Key: 'provisioner:managed', Value: 'Provisioner-prod' },
        { Key: 'provisioner:workbench', Value: 'wb-0123456789ab' },
        { Key: 'provisioner:owner', Value: 'olga' },
      ];
      expect(ec2).toHaveReceivedCommandWith(RunInstancesCommand, {
        LaunchTemplate: { LaunchTemplateId: 'lt-0123456789abcdef0' },
        MinCount: 1,
        MaxCount: 1,
        ClientToken: 'wb-0123456789ab-r1',
        TagSpecifications: [
          { ResourceType: 'instance', Tags: tags },
          { ResourceType: 'volume', Tags: tags },
        ],
      });
      expect(ecs).toHaveReceivedCommandWith(ListContainerInstancesCommand, { cluster, filter: 'ec2InstanceId == i-0new', status: 'ACTIVE' });
      expect(ecs).toHaveReceivedCommandTimes(RunTaskCommand, 0);
      expect(ecs).toHaveReceivedCommandTimes(StartTaskCommand, 0);
      // A later run launches anew: EC2 would answer a reused token with the old (terminated) instance.
      await compute.start({ ...dedicated, runId: 'r2' });
      expect(ec2.commandCalls(RunInstancesCommand).map((c) => c.args[0].input.ClientToken)).toEqual(['wb-0123456789ab-r1', 'wb-0123456789ab-r2']);
    });

    it('once registered, places the task on that container instance with StartTask (not the capacity provider)', async () => {
      const containerInstance = 'arn:aws:ecs:us-east-1:123456789012:container-instance/workbenches/ci1';
      ec2.on(DescribeInstancesCommand).resolves(instance('running'));
      ecs.on(ListContainerInstancesCommand).resolves({ containerInstanceArns: [containerInstance] });
      ecs.on(StartTaskCommand).resolves({ tasks: [{ taskArn }], failures: [] });
      expect(await compute.start(dedicated)).toEqual({ taskArn });
      expect(ecs).toHaveReceivedCommandWith(StartTaskCommand, { cluster, taskDefinition: 'workbench', containerInstances: [containerInstance], startedBy: 'r1', enableECSManagedTags: true });
      expect(ecs).toHaveReceivedCommandTimes(RunTaskCommand, 0);
      // StartTask has no client token: a task the run already placed is the answer.
      ecs.on(ListTasksCommand).resolves({ taskArns: [taskArn] });
      expect(await compute.start(dedicated)).toEqual({ taskArn });
      expect(ecs).toHaveReceivedCommandTimes(StartTaskCommand, 1);
    });

    it('starts a stopped one with the workbench, stops it with the workbench, terminates it on delete', async () => {
      ec2.on(DescribeInstancesCommand).resolves(instance('stopped'));
      ecs.on(ListContainerInstancesCommand).resolves({ containerInstanceArns: [] });
      await compute.start(dedicated);
      expect(ec2).toHaveReceivedCommandWith(StartInstancesCommand, { InstanceIds: ['i-0abc'] });
      expect(ec2).toHaveReceivedCommandTimes(RunInstancesCommand, 0);
      ec2.on(DescribeInstancesCommand).resolves(instance('running'));
      await compute.stop(dedicated);
      expect(ec2).toHaveReceivedCommandWith(StopInstancesCommand, { InstanceIds: ['i-0abc'] });
      await compute.remove(dedicated);
      expect(ec2).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: ['i-0abc'] });
      expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, {
        Filters: [
          { Name: 'tag:provisioner:workbench', Values: ['wb-0123456789ab'] },
          { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
        ],
      });
    });
  });

  it('sweeps tasks tagged as this stack\'s workbenches whose run no live workbench owns, started before the sweep', async () => {
    const before = new Date('2026-11-23T12:00:00Z');
    const older = new Date('2026-11-23T11:00:00Z');
    const ours = [{ key: 'provisioner:managed', value: 'Provisioner-prod' }, { key: 'provisioner:workbench', value: 'wb-0123456789ab' }];
    ecs.on(ListTasksCommand).resolves({ taskArns: ['t-orphan', 't-live', 't-new', 't-other-stack', 't-cleanup'] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        { taskArn: 't-orphan', startedBy: 'r-orphan', createdAt: older, tags: ours },
        { taskArn: 't-live', startedBy: 'r-live', createdAt: older, tags: ours },
        { taskArn: 't-new', startedBy: 'r-new', createdAt: before, tags: ours },
        { taskArn: 't-other-stack', startedBy: 'r-x', createdAt: older, tags: [{ key: 'provisioner:managed', value: 'Provisioner-dev' }, ours[1]!] },
        { taskArn: 't-cleanup', startedBy: 'cleanup-wb-0123456789ab', createdAt: older, tags: ours },
      ],
    });
    expect(await compute.sweep(new Set(['r-live']), before)).toEqual(['r-orphan']);
    expect(ecs.commandCalls(ListTasksCommand)[0]?.args[0].input).toEqual({ cluster });
    expect(ecs).toHaveReceivedCommandWith(DescribeTasksCommand, { include: ['TAGS'] });
    expect(ecs.commandCalls(StopTaskCommand).map((c) => c.args[0].input.task)).toEqual(['t-orphan']);
  });

  it('answers 503 when the catalog has no ecs section', async () => {
    const bare = new EcsWorkbenchCompute({ ...catalog.workbenches, ecs: undefined }, 'Provisioner-prod');
    await expect(bare.start(task)).rejects.toMatchObject({ code: 'backend_unavailable' });
  });
});
