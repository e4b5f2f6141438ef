import { beforeEach, describe, it } from '@jest/globals';
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  InvalidParameterException,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  ServiceNotFoundException,
  TagResourceCommand,
} from '@aws-sdk/client-ecs';
import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
// The matchers extend the global expect (typed by @types/jest), so these files use that one.
import 'aws-sdk-client-mock-jest';
import { EcsWorkspaces } from '../../src/adapters/aws/ecs-workspaces.js';
import { EventBridgeScheduler } from '../../src/adapters/aws/event-scheduler.js';
import { parseCatalog } from '../../src/domain/catalog.js';
import { testCatalog } from '../support/local-api.js';

const catalog = parseCatalog(
  JSON.stringify({
    ...testCatalog,
    workspaces: {
      backend: { kind: 'ecs', subnets: ['subnet-0123456789abcdef0'], security_groups: ['sg-0123456789abcdef0'], execution_role_arn: 'arn:aws:iam::123456789012:role/workspace-exec' },
    },
  }),
  'test',
);
const backend = catalog.workspaces.backend;
if (backend.kind !== 'ecs') throw new Error('an ecs backend');

describe('ECS workspace backend', () => {
  const client = mockClient(ECSClient);
  const ecs = new EcsWorkspaces({ cluster: 'workspaces', backend, components: catalog.workspaces.template.components, managedBy: 'Provisioner-prod' }, (sdk) => new sdk.ECSClient({ region: 'us-east-1' }));
  const launch = {
    id: 'ws-0123456789ab',
    name: 'olga-demo',
    owner: 'github:olga',
    expiresAt: '2026-11-25T12:00:00.000Z',
    versions: { pachd: '2.6.1', console: '2.5.2-1', notebooks: '0.6.4', helm: '2.5.2' },
    environment: { PROVISIONER_VALUE_PACHD_LOGLEVEL: 'debug', PROVISIONER_VALUE_WORKSPACE_ID: 'ws-0123456789ab' },
  };
  const tags = [
    { key: 'provisioner:managed', value: 'Provisioner-prod' },
    { key: 'provisioner:workspace', value: 'ws-0123456789ab' },
    { key: 'provisioner:owner', value: 'github:olga' },
    { key: 'provisioner:expires-at', value: '2026-11-25T12:00:00.000Z' },
  ];
  beforeEach(() => {
    client.reset();
  });

  it('registers a Fargate task of the components with images, tagged with their versions, and creates one tagged service', async () => {
    client.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/provisioner-workspace-ws-0123456789ab:1' } });
    client.on(CreateServiceCommand).resolves({});
    await ecs.create(launch);
    const environment = [
      { name: 'PROVISIONER_VALUE_PACHD_LOGLEVEL', value: 'debug' },
      { name: 'PROVISIONER_VALUE_WORKSPACE_ID', value: 'ws-0123456789ab' },
    ];
    expect(client).toHaveReceivedCommandWith(RegisterTaskDefinitionCommand, {
      family: 'provisioner-workspace-ws-0123456789ab',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '2048',
      executionRoleArn: 'arn:aws:iam::123456789012:role/workspace-exec',
      containerDefinitions: [
        { name: 'pachd', image: 'pachyderm/pachd:2.6.1', essential: true, environment, portMappings: [{ containerPort: 30650, protocol: 'tcp' }] },
        { name: 'console', image: 'pachyderm/haberdashery:2.5.2-1', essential: true, environment },
        { name: 'notebooks', image: 'pachyderm/notebooks-user:0.6.4', essential: true, environment },
      ],
      tags,
    });
    expect(client).toHaveReceivedCommandWith(CreateServiceCommand, {
      cluster: 'workspaces',
      serviceName: 'workspace-ws-0123456789ab',
      taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/provisioner-workspace-ws-0123456789ab:1',
      desiredCount: 1,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0123456789abcdef0'], securityGroups: ['sg-0123456789abcdef0'], assignPublicIp: 'DISABLED' } },
      tags,
      propagateTags: 'SERVICE',
      clientToken: 'ws-0123456789ab',
    });
  });

  it('counts a service an earlier try created as created, and passes other errors on', async () => {
    client.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: 'arn' } });
    client.on(CreateServiceCommand).rejects(new InvalidParameterException({ message: 'Creation of service was not idempotent.', $metadata: {} }));
    await expect(ecs.create(launch)).resolves.toBeUndefined();
    client.on(CreateServiceCommand).rejects(new InvalidParameterException({ message: 'subnet does not exist', $metadata: {} }));
    await expect(ecs.create(launch)).rejects.toThrow('subnet does not exist');
  });

  it('maps the service and its tasks to a status: gone, pending, failed, running at the task\'s address', async () => {
    const describe = (service: object | undefined) => client.on(DescribeServicesCommand, { cluster: 'workspaces', services: ['workspace-ws-0123456789ab'] }).resolves({ services: service ? [service] : [] });
    describe(undefined);
    expect(await ecs.status(launch.id)).toEqual({ state: 'gone' });
    describe({ status: 'INACTIVE' });
    expect(await ecs.status(launch.id)).toEqual({ state: 'gone' });
    describe({ status: 'DRAINING' });
    expect(await ecs.status(launch.id)).toEqual({ state: 'pending' });
    describe({ status: 'ACTIVE', runningCount: 0, deployments: [{ status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }] });
    expect(await ecs.status(launch.id)).toEqual({ state: 'pending' });
    describe({ status: 'ACTIVE', runningCount: 0, deployments: [{ status: 'PRIMARY', rolloutState: 'FAILED', rolloutStateReason: 'tasks failed to start' }] });
    expect(await ecs.status(launch.id)).toEqual({ state: 'failed', reason: 'tasks failed to start' });
    describe({ status: 'ACTIVE', runningCount: 1, deployments: [{ status: 'PRIMARY', rolloutState: 'COMPLETED' }] });
    client.on(ListTasksCommand, { cluster: 'workspaces', serviceName: 'workspace-ws-0123456789ab', desiredStatus: 'RUNNING' }).resolves({ taskArns: ['arn:task/1'] });
    client.on(DescribeTasksCommand, { cluster: 'workspaces', tasks: ['arn:task/1'] }).resolves({
      tasks: [{ lastStatus: 'RUNNING', attachments: [{ type: 'ElasticNetworkInterface', details: [{ name: 'subnetId', value: 'subnet-1' }, { name: 'privateIPv4Address', value: '10.0.3.7' }] }] }],
    });
    expect(await ecs.status(launch.id)).toEqual({ state: 'running', host: '10.0.3.7', port: 30650 });
    client.on(DescribeTasksCommand).resolves({ tasks: [{ lastStatus: 'PROVISIONING' }] });
    expect(await ecs.status(launch.id)).toEqual({ state: 'pending' });
  });

  it('deregisters the workspace\'s task definitions and deletes the service by force, a missing one counting as deleted (issue 21.13)', async () => {
    const definition = 'arn:aws:ecs:us-east-1:123456789012:task-definition/provisioner-workspace-ws-0123456789ab:1';
    client.on(ListTaskDefinitionsCommand).resolvesOnce({ taskDefinitionArns: [definition], nextToken: 'more' }).resolves({ taskDefinitionArns: [] });
    client.on(DeregisterTaskDefinitionCommand).resolves({});
    client.on(DeleteServiceCommand).resolves({});
    await ecs.delete(launch.id);
    expect(client).toHaveReceivedCommandWith(ListTaskDefinitionsCommand, { familyPrefix: 'provisioner-workspace-ws-0123456789ab', status: 'ACTIVE' });
    expect(client).toHaveReceivedCommandWith(ListTaskDefinitionsCommand, { familyPrefix: 'provisioner-workspace-ws-0123456789ab', status: 'ACTIVE', nextToken: 'more' });
    expect(client).toHaveReceivedCommandWith(DeregisterTaskDefinitionCommand, { taskDefinition: definition });
    expect(client).toHaveReceivedCommandWith(DeleteServiceCommand, { cluster: 'workspaces', service: 'workspace-ws-0123456789ab', force: true });
    client.on(DeleteServiceCommand).rejects(new ServiceNotFoundException({ message: 'not found', $metadata: {} }));
    await expect(ecs.delete(launch.id)).resolves.toBeUndefined();
  });

  it('re-tags the service with a new expiry', async () => {
    client.on(DescribeServicesCommand).resolves({ services: [{ serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/workspaces/workspace-ws-0123456789ab' }] });
    await ecs.retag(launch.id, '2026-12-01T00:00:00.000Z');
    expect(client).toHaveReceivedCommandWith(TagResourceCommand, {
      resourceArn: 'arn:aws:ecs:us-east-1:123456789012:service/workspaces/workspace-ws-0123456789ab',
      tags: [{ key: 'provisioner:expires-at', value: '2026-12-01T00:00:00.000Z' }],
    });
  });
});

describe('EventBridge Scheduler adapter, for workspace timers', () => {
  const client = mockClient(SchedulerClient);
  const target = 'arn:aws:lambda:us-east-1:123456789012:function:workspace-expire';
  const scheduler = new EventBridgeScheduler(
    { groupName: 'provisioner', roleArn: 'arn:aws:iam::123456789012:role/scheduler', targets: { 'workspace-timer': target } },
    (sdk) => new sdk.SchedulerClient({ region: 'us-east-1' }),
  );
  beforeEach(() => {
    client.reset();
  });

  it('creates the expiry as a one-time schedule of the workspace-timer target, and deletes a moved one', async () => {
    client.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    client.on(DeleteScheduleCommand).resolves({});
    const payload = { workspace: 'ws-0123456789ab', timer: 'expire' as const, schedule_id: 'a1b2c3d4e5f6' };
    await scheduler.schedule({ name: 'expire-ws-0123456789ab-a1b2c3d4e5f6', at: new Date('2026-11-25T12:00:00.000Z'), target: 'workspace-timer', payload });
    expect(client).toHaveReceivedCommandWith(CreateScheduleCommand, {
      Name: 'expire-ws-0123456789ab-a1b2c3d4e5f6',
      GroupName: 'provisioner',
      ScheduleExpression: 'at(2026-11-25T12:00:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: { Arn: target, RoleArn: 'arn:aws:iam::123456789012:role/scheduler', Input: JSON.stringify(payload), RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 3600 } },
    });
    await scheduler.cancel('expire-ws-0123456789ab-a1b2c3d4e5f6');
    expect(client).toHaveReceivedCommandWith(DeleteScheduleCommand, { Name: 'expire-ws-0123456789ab-a1b2c3d4e5f6', GroupName: 'provisioner' });
  });
});
